"""explain=True through the Evaluator: predict, predict_batch, predict_records, the background, refusals."""
from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import ExplanationError
from pmmlkit.evaluator.explaining import BACKGROUND_ROWS
from tests.docs import color_record as record
from tests.docs import versioned_pmml

TOL = 1e-9
RECS = [record(), record(x1=-2.0, x2=0.5, color="blue"), record(x1=3.0, x2=1.0, color="green")]
COLORS = ["red", "green", "blue"]


def background(n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x1": rng.normal(0, 1, n), "x2": rng.normal(1, 2, n), "color": rng.choice(COLORS, n)})


def same(a: dict, b: dict) -> bool:
    """Two explanations (dicts as predict gives them) equal to TOL."""
    return (a["of"] == b["of"] and math.isclose(a["raw"], b["raw"], abs_tol=TOL)
            and math.isclose(a["base"], b["base"], abs_tol=TOL) and list(a["contributions"]) == list(b["contributions"])
            and all(math.isclose(v, b["contributions"][k], abs_tol=TOL) for k, v in a["contributions"].items()))


@pytest.fixture
def ev():
    return Evaluator.from_bytes(versioned_pmml(1), backend="native", background=background())


def test_predict_adds_an_explanation_that_adds_up(ev):
    plain = ev.predict(RECS[1])
    got = ev.predict(RECS[1], explain=True)
    x = got.pop("explanation")
    assert got == plain  # the results themselves are unchanged
    assert x["of"] == "log-odds of y=1" and list(x["contributions"]) == ["x1", "x2", "color"]
    assert abs(x["base"] + sum(x["contributions"].values()) - x["raw"]) < TOL
    p1 = plain["probability(1)"]
    assert math.isclose(x["raw"], math.log(p1 / (1 - p1)), rel_tol=1e-9)


def test_predict_batch_adds_named_columns_after_the_results(ev):
    frame = pd.DataFrame(RECS + [record(color="purple")])
    out = ev.predict_batch(frame, errors="column", explain=True)
    assert list(out.columns) == [*ev.result_names, "raw_score", "base_score", "contribution_x1",
                                 "contribution_x2", "contribution_color", "error"]
    for i, rec in enumerate(RECS):
        x = ev.predict(rec, explain=True)["explanation"]
        assert math.isclose(out["raw_score"][i], x["raw"], rel_tol=1e-12)
        for f in ("x1", "x2", "color"):
            assert math.isclose(out[f"contribution_{f}"][i], x["contributions"][f], rel_tol=1e-9, abs_tol=1e-12)
    assert out.iloc[3][["raw_score", "contribution_x1"]].isna().all()  # the rejected row
    total = out["base_score"] + out[["contribution_x1", "contribution_x2", "contribution_color"]].sum(axis=1)
    assert (total - out["raw_score"]).abs().max() < TOL
    pd.testing.assert_frame_equal(ev.predict_batch(frame, errors="column"),
                                  out.drop(columns=[c for c in out.columns if "score" in c or "contribution" in c]))


def test_own_columns_never_shadow_a_field():
    raw = versioned_pmml(1).replace(b'"x2"', b'"raw_score"')
    ev = Evaluator.from_bytes(raw, backend="native", background=background().rename(columns={"x2": "raw_score"}))
    out = ev.predict_batch(pd.DataFrame([{"x1": 1.0, "raw_score": 2.0, "color": "red"}]), explain=True)
    assert "_raw_score" in out.columns and "contribution_raw_score" in out.columns
    assert "raw_score" not in out.columns  # the input's name is left to the input


def test_predict_records_explains_each_scored_record(ev):
    answers = ev.predict_records([RECS[0], record(color="purple"), RECS[2]], explain=True)
    assert answers.explanations[1] is None and answers.errors[1]
    for i in (0, 2):
        assert same(answers.explanations[i], ev.predict(RECS[i], explain=True)["explanation"])
    columns = {k: [r[k] for r in RECS] for k in RECS[0]}
    by_columns = ev.predict_records(columns, explain=True)
    assert same(by_columns.explanations[1], ev.predict(RECS[1], explain=True)["explanation"])
    assert ev.predict_records(RECS).explanations is None


def test_background_is_a_seeded_sample_of_at_most_200_rows(ev):
    big = background(1000, seed=3)
    ev.set_background(big)
    assert ev.background.n == BACKGROUND_ROWS
    base = ev.predict(RECS[0], explain=True)["explanation"]["base"]
    ev.set_background(big)
    assert ev.predict(RECS[0], explain=True)["explanation"]["base"] == base  # the same rows again
    ev.set_background(big.iloc[:200])
    assert ev.predict(RECS[0], explain=True)["explanation"]["base"] != base  # not simply the first 200


def test_background_from_a_path_equals_the_frame(tmp_path):
    bg = background()
    bg.to_csv(tmp_path / "bg.csv", index=False)
    bg.to_parquet(tmp_path / "bg.parquet")
    answers = []
    for given in (bg, str(tmp_path / "bg.csv"), tmp_path / "bg.parquet"):
        ev = Evaluator.from_bytes(versioned_pmml(1), backend="native", background=given)
        answers.append(ev.predict(RECS[0], explain=True)["explanation"])
    assert same(answers[0], answers[1]) and same(answers[0], answers[2])


def test_bad_background_rows_are_refused_naming_them(ev):
    bad = background(5)
    bad.loc[3, "color"] = "purple"
    with pytest.raises(ExplanationError, match=r"background DataFrame of 5 rows: row 3: field 'color': "
                                               r"value 'purple'.*must pass the model's input contract"):
        ev.set_background(bad)
    with pytest.raises(ExplanationError, match="has no rows"):
        ev.set_background(bad.iloc[:0])


def test_without_background_the_error_says_how_to_give_one():
    ev = Evaluator.from_bytes(versioned_pmml(1), backend="native")
    assert ev.predict(RECS[0])  # scoring needs none
    with pytest.raises(ExplanationError, match=r"needs background rows.*set_background"):
        ev.predict(RECS[0], explain=True)


def test_load_from_a_repository_takes_the_published_background(repo):
    buf = io.BytesIO()
    background().to_parquet(buf)
    repo.publish("clf", versioned_pmml(1), files={"background.parquet": buf.getvalue()})
    repo.publish("clf", versioned_pmml(1))  # version 2: published without one
    ev = Evaluator.load("clf:1", repo=repo.root, backend="native")
    assert callable(ev._background)  # read on first use, not at load
    want = Evaluator.from_bytes(versioned_pmml(1), backend="native", background=background())
    assert same(ev.predict(RECS[0], explain=True)["explanation"], want.predict(RECS[0], explain=True)["explanation"])
    assert ev.background.source == "clf:1/background.parquet"
    with pytest.raises(ExplanationError, match="needs background rows"):
        Evaluator.load("clf:2", repo=repo.root, backend="native").predict(RECS[0], explain=True)
    given = Evaluator.load("clf:2", repo=repo.root, backend="native", background=background())
    assert same(given.predict(RECS[0], explain=True)["explanation"],
                want.predict(RECS[0], explain=True)["explanation"])


CLUSTERS = b"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary><DataField name="x1" optype="continuous" dataType="double"/>
<DataField name="x2" optype="continuous" dataType="double"/></DataDictionary>
<ClusteringModel functionName="clustering" modelClass="centerBased" numberOfClusters="2">
<MiningSchema><MiningField name="x1"/><MiningField name="x2"/></MiningSchema>
<ComparisonMeasure kind="distance"><squaredEuclidean/></ComparisonMeasure>
<ClusteringField field="x1"/><ClusteringField field="x2"/>
<Cluster name="a"><Array n="2" type="real">0 0</Array></Cluster>
<Cluster name="b"><Array n="2" type="real">1 1</Array></Cluster>
</ClusteringModel></PMML>"""


def test_a_model_without_an_explainer_is_refused():
    ev = Evaluator.from_bytes(CLUSTERS, backend="native", background=pd.DataFrame({"x1": [0.0], "x2": [1.0]}))
    with pytest.raises(ExplanationError, match="explanations cover .*this document's model is a ClusteringModel"):
        ev.predict({"x1": 0.2, "x2": 0.3}, explain=True)


def test_other_backends_refuse_with_the_one_message():
    pytest.importorskip("jpmml_evaluator")
    ev = Evaluator.from_bytes(versioned_pmml(1), backend="jpmml", background=background())
    message = "explanations are computed by the native backend only; this evaluator uses jpmml: load with " \
              "backend='native'"
    try:
        for call in (lambda: ev.predict(RECS[0], explain=True),
                     lambda: ev.predict_batch(pd.DataFrame(RECS), explain=True),
                     lambda: ev.predict_records(RECS, explain=True)):
            with pytest.raises(ExplanationError) as info:
                call()
            assert str(info.value) == message
    finally:
        ev.close()


def test_scorecards_need_no_background_and_add_reason_code_columns():
    from tests.evaluator.test_scorecard import VARIANTS, frame

    ev = Evaluator.from_bytes(VARIANTS["dmg_example"], backend="native")
    rows = frame()
    out = ev.predict_batch(rows, errors="column", explain=True)
    codes = ["reason_code_1", "reason_code_2", "reason_code_3"]  # one slot per Characteristic
    assert list(out.columns)[-len(codes) - 1:] == [*codes, "error"]
    scored = out["error"].isna()
    for k in (1, 2, 3):  # the Scorecard's own reasonCode outputs, ranked the same
        assert (out[f"reason_code_{k}"][scored].fillna("-") == out[f"Reason Code {k}"][scored].fillna("-")).all()
    one = ev.predict(rows.iloc[0].to_dict(), explain=True)["explanation"]
    assert one["reason_codes"] == [c for c in out.loc[0, codes] if c is not None]
    assert one["raw"] == out.loc[0, "raw_score"]
