"""A Scorecard from a real producer: optbinning's Scorecard, exported by sklearn2pmml (JPMML-SkLearn).

The native backend is compared with JPMML-Evaluator and with optbinning's own ``score``; the
explanation's per-field parts with optbinning's score differences (an additive model: changing
one field changes the score by exactly the change of that field's part).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.evaluator.native.explain.scorecard import explain_scorecard
from pmmlkit.pmml.loader import parse
from tests.evaluator.native_harness import assert_conforms, native_results

optbinning = pytest.importorskip("optbinning")
pytest.importorskip("sklearn2pmml")

FIELDS = ["mean_radius", "mean_texture", "worst_area", "worst_smoothness", "grade"]


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X[["mean radius", "mean texture", "worst area", "worst smoothness"]].rename(
        columns=lambda c: c.replace(" ", "_"))
    X["grade"] = np.where(X["mean_radius"] > 14, "high", np.where(X["mean_radius"] > 11, "mid", "low")).astype(object)
    rng = np.random.default_rng(0)
    X.loc[rng.random(len(X)) < 0.05, "mean_texture"] = np.nan  # the Missing bin is learnt too
    return X, y.to_numpy()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """(optbinning Scorecard, its PMML, rows to score: the training rows plus missing values)."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression
    from sklearn2pmml.pipeline import PMMLPipeline

    from tests.conformance.sklearn_producer import SkLearn2PMML

    X, y = _data()
    y = pd.Series(y, name="malignant")
    card = Scorecard(binning_process=BinningProcess(FIELDS, categorical_variables=["grade"]),
                     estimator=LogisticRegression(), scaling_method="min_max",
                     scaling_method_params={"min": 300, "max": 850})
    pipeline = PMMLPipeline([("scorecard", card)]).fit(X, y)
    converter = SkLearn2PMML(tmp_path_factory.mktemp("optbinning"))
    try:
        raw = converter.convert(pipeline, "optbinning_scorecard")
    finally:
        converter.close()
    rows = X.iloc[::3].copy()
    rows.iloc[::7, 0] = np.nan      # every field missing somewhere: each Characteristic's isMissing Attribute
    rows.iloc[1::7, 2] = np.nan
    rows.iloc[2::7, 3] = np.nan
    rows.iloc[3::7, 4] = None
    return card, raw, rows.reset_index(drop=True)


def test_it_is_a_scorecard_native_compiles(fitted):
    _, raw, _ = fitted
    ev = Evaluator.from_bytes(raw)  # auto: native, no fallback to the JVM
    assert ev.backend.name == "native" and ev.schema.model_type == "Scorecard"


def test_native_agrees_with_jpmml(fitted):
    _, raw, rows = fitted
    assert_conforms(parse(raw), rows, rtol=0, atol=1e-12)


def test_native_score_is_optbinnings(fitted):
    card, raw, rows = fitted
    doc = parse(raw)
    ours = native_results(doc, rows)[doc.schema.targets[0].name]
    np.testing.assert_allclose(ours, card.score(rows), rtol=0, atol=1e-9)


def test_explanation_parts_are_optbinnings_score_differences(fitted):
    card, raw, rows = fitted
    ev = Evaluator.from_bytes(raw, backend="native")
    found = explain_scorecard(ev.backend, ev.contract.check_frame(rows).columns, len(rows))
    np.testing.assert_allclose(found.raw, card.score(rows), rtol=0, atol=1e-9)
    assert np.abs(found.residual()).max() <= 1e-9
    assert found.reason_codes is None  # optbinning writes useReasonCodes="false"
    ref = rows.iloc[[5]]  # any row: the part of a field is the score change it alone makes
    for field in FIELDS:
        moved = rows.copy()
        moved[field] = ref[field].iloc[0]
        change = card.score(rows) - card.score(moved)
        part = found.contributions[field] - found.contributions[field][5]
        np.testing.assert_allclose(part, change, rtol=0, atol=1e-9, err_msg=field)
