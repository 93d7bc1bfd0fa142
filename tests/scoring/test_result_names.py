"""`pmmlkit score --keep <label>`: the prediction is predicted_<label>, beside the kept label (issue 18 item 2)."""
from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pmmlkit.cli import main
from tests.ctr_docs import bid_price_pmml, clicked_pmml, ctr_frame


@pytest.fixture()
def demo(tmp_path):
    """The demo's CSV (label included) and the two models whose targets are its columns."""
    ctr_frame(300).to_csv(tmp_path / "ctr.csv", index=False)
    (tmp_path / "clicked.pmml").write_bytes(clicked_pmml())
    (tmp_path / "bid.pmml").write_bytes(bid_price_pmml())
    return tmp_path


def _score(demo, model: str, out: str, *keep: str, source: str = "ctr.csv"):
    args = ["score", str(demo / source), "-m", str(demo / model), "-o", out]
    for k in keep:
        args += ["--keep", k]
    return CliRunner().invoke(main, args)


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_keep_the_label_beside_its_prediction(demo, ext):
    out = demo / f"scored.{ext}"
    r = _score(demo, "clicked.pmml", str(out), "age", "clicked")
    assert r.exit_code == 0, r.output
    if ext == "csv":
        assert (out.read_text().splitlines()[0]
                == "age,clicked,predicted_clicked,probability(0),probability(1)")
        got = pd.read_csv(out)
    else:
        got = pq.read_table(out).to_pandas()
    assert list(got.columns) == ["age", "clicked", "predicted_clicked", "probability(0)", "probability(1)"]
    label = got["clicked"].astype(int)  # a kept CSV column is passed through as text into Parquet
    assert label.tolist() == ctr_frame(300)["clicked"].tolist()  # the kept label is the input's, untouched
    wrong = int((got["predicted_clicked"] != label).sum())
    assert 0 < wrong < len(got)  # they differ exactly where the model is wrong
    assert (got["predicted_clicked"] == (got["probability(1)"] > 0.5).astype(int)).all()


def test_regression_label_beside_its_prediction(demo):
    out = demo / "bids.parquet"
    r = _score(demo, "bid.pmml", str(out), "bid_price")
    assert r.exit_code == 0, r.output
    got = pq.read_table(out).to_pandas()
    assert list(got.columns) == ["bid_price", "predicted_bid_price"]
    label = pd.to_numeric(got["bid_price"])  # kept CSV text; empty where the demo left it missing
    known = label.notna()
    assert known.sum() > 250 and (label[known] != got.loc[known, "predicted_bid_price"]).all()


@pytest.mark.parametrize("column", ["predicted_clicked", "probability(1)"])
def test_keep_that_collides_with_a_result_is_refused_before_reading(demo, column):
    out = demo / "o.parquet"
    # The input does not exist: the refusal comes first, from the names alone.
    r = _score(demo, "clicked.pmml", str(out), column, source="absent.csv")
    assert r.exit_code != 0
    assert f"--keep {column!r} collides with a result of the model of that name" in r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert not out.exists()


def test_keep_collision_with_an_input_named_like_a_result(demo):
    # A file that already holds a predicted_clicked column (an earlier run's output, re-scored).
    frame = ctr_frame(20)
    frame["predicted_clicked"] = 1
    frame.to_csv(demo / "rescored.csv", index=False)
    r = _score(demo, "clicked.pmml", str(demo / "o.csv"), "predicted_clicked", source="rescored.csv")
    assert r.exit_code != 0 and "collides with a result" in r.output
    r = _score(demo, "clicked.pmml", str(demo / "o.csv"), "clicked", source="rescored.csv")
    assert r.exit_code == 0, r.output
    assert pd.read_csv(demo / "o.csv").columns[:2].tolist() == ["clicked", "predicted_clicked"]


def test_spark_scoring_keeps_the_label_beside_predicted_label(spark, demo):
    from pmmlkit.errors import ConfigError
    from pmmlkit.scoring.spark import score_spark

    out = demo / "scored.parquet"
    s = score_spark(clicked_pmml(), str(demo / "ctr.csv"), str(out), spark=spark, keep=("clicked",),
                    backend="native")
    assert s.rejected_rows == 0
    got = pd.read_parquet(out)
    assert list(got.columns) == ["clicked", "predicted_clicked", "probability(0)", "probability(1)"]
    assert 0 < int((got["predicted_clicked"] != got["clicked"].astype(int)).sum()) < len(got)
    with pytest.raises(ConfigError, match="--keep 'predicted_clicked' collides with a result"):
        score_spark(clicked_pmml(), str(demo / "absent.csv"), str(demo / "o.parquet"), spark=spark,
                    keep=("predicted_clicked",), backend="native")


def test_inspect_shows_the_result_columns_and_their_pmml_fields(demo):
    import json

    r = CliRunner().invoke(main, ["inspect", "-m", str(demo / "clicked.pmml"), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert [f["name"] for f in info["targets"]] == ["clicked"]  # the PMML description is unchanged
    assert [(f["name"], f.get("target")) for f in info["results"]] == [
        ("predicted_clicked", "clicked"), ("probability(0)", None), ("probability(1)", None)]
    text = CliRunner().invoke(main, ["inspect", "-m", str(demo / "clicked.pmml")]).output
    assert "result columns: predicted_clicked, probability(0), probability(1)" in text


def test_a_column_kept_twice_is_refused_before_reading(demo):
    r = _score(demo, "clicked.pmml", str(demo / "o.parquet"), "age", "age", source="absent.csv")
    assert r.exit_code != 0 and "--keep 'age' is given twice" in r.output
