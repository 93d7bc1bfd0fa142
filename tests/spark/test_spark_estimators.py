"""Every registered estimator: train, export PMML, score the holdout with pmmlkit.Evaluator,
and compare with Spark's own transform(): probabilities/values to 1e-9, classes exactly."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.spark import spec as specs
from pmmlkit.spark.pipeline import CLASSIFICATION, CLUSTERING, ESTIMATORS, REGRESSION
from pmmlkit.spark.training import fit

TOL = {"rtol": 1e-9, "atol": 1e-9}
# Few iterations and shallow trees: the point is agreement, not accuracy.
PARAMS = {
    "logistic_regression": {"maxIter": 20},
    "linear_regression": {"maxIter": 20, "regParam": 0.01},
    "decision_tree_classifier": {"maxDepth": 4},
    "decision_tree_regressor": {"maxDepth": 4},
    "random_forest_classifier": {"numTrees": 5, "maxDepth": 3, "seed": 1},
    "random_forest_regressor": {"numTrees": 5, "maxDepth": 3, "seed": 1},
    "gbt_classifier": {"maxIter": 5, "maxDepth": 3, "seed": 1},
    "gbt_regressor": {"maxIter": 5, "maxDepth": 3, "seed": 1},
    "naive_bayes": {},
    "multilayer_perceptron": {"maxIter": 30, "hidden_layers": [5], "seed": 1},
    "linear_svc": {"maxIter": 20},
    "generalized_linear_regression": {"maxIter": 10, "family": "gaussian"},
    "kmeans": {"k": 3, "maxIter": 10, "seed": 1},
}
_PROBABILITY = re.compile(r"^probability\((.+)\)$")


def test_the_grid_covers_every_registered_estimator():
    assert sorted(PARAMS) == sorted(ESTIMATORS)


@pytest.mark.parametrize("estimator", sorted(PARAMS))
def test_pmml_matches_spark(spark, ctr, ctr_spec, estimator):
    kind = ESTIMATORS[estimator]
    # Regressors learn ctr_history (a numeric target); classifiers and k-means use the click label.
    if kind.task == REGRESSION:
        numeric = [c for c in ctr.NUMERIC if c != "ctr_history"]
        ctr_spec = {**ctr_spec, "label": "ctr_history", "numeric": numeric}
    spec = specs.from_dict({**ctr_spec, "estimator": {"type": estimator, "params": PARAMS[estimator]}})
    fitted = fit(spec, spark=spark)

    scored = fitted.model.transform(fitted.holdout).toPandas()
    assert len(scored) >= 80, "the holdout is too small to mean anything"
    inputs = scored[list(spec.features)]
    assert inputs.isna().any().any(), "the holdout should carry missing values"

    spark_pred = scored["prediction"].to_numpy(dtype=float)
    spark_prob = np.stack([v.toArray() for v in scored["probability"]]) if "probability" in scored else None
    for backend in ("native", "jpmml", "pypmml"):
        ev = Evaluator.from_bytes(fitted.pmml, backend=backend)  # also checks ModelVerification
        assert ev.backend_name == backend
        assert ev.schema.verification is not None and len(ev.schema.verification.rows) == 5
        out = ev.predict_batch(inputs, errors="raise")
        assert list(out.index) == list(inputs.index)
        target = ev.result_name(ev.target_fields[0].name) if ev.target_fields else None  # predicted_<target>
        if target is not None:
            assert out[target].notna().all(), f"{backend} lost the {kind.task} target {target!r}"
        _compare(out, kind.task, target, spark_pred, spark_prob, estimator, backend)

    expected_metrics = {CLASSIFICATION: {"accuracy", "auc"}, REGRESSION: {"rmse", "r2"},
                        CLUSTERING: {"silhouette"}}[kind.task]
    assert set(fitted.metrics) == expected_metrics
    assert all(np.isfinite(v) for v in fitted.metrics.values())


def _compare(out, task, target, spark_pred, spark_prob, estimator, backend):
    """Every result column against Spark: values/probabilities to 1e-9, classes exactly."""
    compared = 0
    for column in out.columns:
        got, what = out[column], f"{estimator} via {backend}: column {column}"
        if column in (target, "prediction"):
            if task == REGRESSION:
                np.testing.assert_allclose(got.to_numpy(dtype=float), spark_pred, **TOL, err_msg=what)
            else:  # class labels and cluster ids: exactly
                assert got.astype(float).tolist() == spark_pred.tolist(), what
            compared += 1
        elif m := _PROBABILITY.match(column):
            np.testing.assert_allclose(got.to_numpy(dtype=float), spark_prob[:, int(float(m.group(1)))],
                                       **TOL, err_msg=what)
            compared += 1
    assert compared >= 1, f"{estimator} via {backend}: no comparable result column among {list(out.columns)}"
    if task == CLASSIFICATION and estimator != "linear_svc":
        assert any(_PROBABILITY.match(c) for c in out.columns), f"{estimator}: no probabilities in {list(out.columns)}"


@pytest.mark.parametrize("estimator", ["logistic_regression", "decision_tree_classifier"])
def test_missing_and_empty_values_score_alike(spark, ctr, ctr_spec, estimator):
    """Records whose features are all missing, or whose categories are "", score as in Spark."""
    spec = specs.from_dict({**ctr_spec, "estimator": {"type": estimator, "params": PARAMS[estimator]}})
    fitted = fit(spec, spark=spark)
    rows = fitted.holdout.limit(2).toPandas()
    rows[list(spec.features)] = None
    rows.loc[1, list(ctr.CATEGORICAL)] = ""
    rows.loc[1, list(ctr.NUMERIC)] = 1.0
    scored = fitted.model.transform(spark.createDataFrame(rows, schema=fitted.holdout.schema)).toPandas()
    for backend in ("pypmml", "jpmml"):
        ev = Evaluator.from_bytes(fitted.pmml, backend=backend)
        for i in (0, 1):
            record = {c: (None if pd.isna(v) else v) for c, v in rows.loc[i, list(spec.features)].items()}
            got = ev.predict(record)
            assert float(got["predicted_clicked"]) == scored.loc[i, "prediction"], (backend, record)
            np.testing.assert_allclose(float(got["probability(1)"]), scored.loc[i, "probability"][1], **TOL)
