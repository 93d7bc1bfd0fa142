"""Every estimator `pmmlkit train` supports, scored by every backend, on hostile data.

The training data carries a boolean column and an integer-coded category; the
scoring data adds missing values, unseen categories, booleans and integers in
every spelling, and extreme numbers. All backends must give the same labels and
the same numbers within 1e-9 relative. Declared gaps (agreement.KNOWN_GAPS) are
checked to be real, so nothing is skipped silently.
"""
from __future__ import annotations

import numpy as np
import pytest

from pmmlkit.evaluator import Evaluator
from pmmlkit.evaluator.agreement import KNOWN_GAPS, compare
from pmmlkit.spark import spec as specs
from pmmlkit.spark.pipeline import ESTIMATORS, REGRESSION
from pmmlkit.spark.training import fit
from tests.spark.test_spark_estimators import PARAMS

BACKENDS = ("jpmml", "native", "pypmml")


@pytest.fixture(scope="module")
def hostile(ctr, tmp_path_factory):
    rng = np.random.default_rng(5)
    train = ctr.generate(400, seed=21)
    train["member"] = rng.choice([True, False], len(train))
    train["region"] = rng.integers(1, 5, len(train))          # an integer-coded category
    path = tmp_path_factory.mktemp("agree") / "train.csv"
    train.to_csv(path, index=False)
    score = ctr.generate(300, seed=22).drop(columns="clicked")
    score["member"] = rng.choice([True, False, 1, 0, "TRUE", "false", None], len(score))
    score["region"] = rng.choice([1, 2.0, "3", 4, 9, None], len(score))   # 9 was never seen
    score.loc[::17, "device"] = "tablet"                                    # unseen category
    score.loc[::23, "bid_price"] = 1e12                                     # extreme numbers
    score.loc[::29, "age"] = -1e9
    return str(path), score


@pytest.mark.parametrize("estimator", sorted(PARAMS))
def test_all_backends_agree(spark, ctr, hostile, estimator):
    path, score = hostile
    label = "ctr_history" if ESTIMATORS[estimator].task == REGRESSION else "clicked"
    numeric = [c for c in ctr.NUMERIC if c != label]
    spec = specs.from_dict({"name": "agree", "data": path, "label": label, "numeric": numeric,
                            "categorical": [*ctr.CATEGORICAL, "member", "region"],
                            "estimator": {"type": estimator, "params": PARAMS[estimator]}})
    raw = fit(spec, spark=spark).pmml
    report = compare(raw, score, backends=BACKENDS, rtol=1e-9)
    assert report.agrees, f"{estimator}:\n{report.table()}\n{report.examples.to_string()}"
    # A declared gap must be real on this data, and only where it is declared.
    expect_gap = estimator == "naive_bayes"
    assert bool(report.skipped) == expect_gap, report.skipped
    if expect_gap:
        assert report.skipped[0].startswith("pypmml: ") and "softmax" in report.skipped[0]
    assert len(report.columns) >= 2 * (len(BACKENDS) - 1)
    # Something was really scored: not every row an error.
    out = Evaluator.from_bytes(raw, backend="native").predict_batch(score, errors="column")
    assert out["error"].isna().mean() > 0.9


def test_declared_gaps_are_real():
    # Each declared gap names a backend and a model shape and says why; the grid above
    # observes every one of them (naive Bayes is JPMML-SparkML's softmax RegressionModel).
    assert set(KNOWN_GAPS) == {("pypmml", "RegressionModel", "softmax")}
    for (backend, model_type, method), why in KNOWN_GAPS.items():
        assert backend in BACKENDS and model_type and method and len(why) > 20
