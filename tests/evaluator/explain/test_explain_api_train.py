"""`pmmlkit train` publishes background.parquet; Evaluator.load(name) explains with it (JPMML-SparkML models)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.evaluator.explaining import BACKGROUND_FILE, BACKGROUND_ROWS
from tests.spark.conftest import _generate_ctr

pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def ctr_data(tmp_path_factory):
    ctr = _generate_ctr()
    path = tmp_path_factory.mktemp("ctr") / "ctr.csv"
    frame = ctr.generate(400, seed=11)
    frame.to_csv(path, index=False)
    return ctr, str(path), frame


def _spec(ctr, path, estimator, label="clicked"):
    return {"name": "m", "data": path, "label": label, "numeric": [c for c in ctr.NUMERIC if c != label],
            "categorical": list(ctr.CATEGORICAL), "validation": {"fraction": 0.3, "seed": 5},
            "verify_rows": 5, "estimator": estimator}


@pytest.mark.parametrize("estimator,label", [
    ({"type": "logistic_regression", "params": {"maxIter": 20}}, "clicked"),
    ({"type": "linear_regression", "params": {"maxIter": 5}}, "bid_price"),
    ({"type": "generalized_linear_regression", "params": {"family": "binomial", "link": "logit", "maxIter": 10}},
     "clicked"),
], ids=["logistic", "linear", "glm_binomial"])
def test_trained_versions_explain_with_their_own_background(spark, repo, ctr_data, estimator, label):
    from pmmlkit.spark.training import train

    ctr, path, frame = ctr_data
    version = train(_spec(ctr, path, estimator, label), repo=repo, spark=spark)
    assert BACKGROUND_FILE in version.manifest.files
    published = pd.read_parquet(__import__("io").BytesIO(repo.read_file(version, BACKGROUND_FILE)))
    inputs = [f["name"] for f in version.manifest.input_schema]
    assert list(published.columns) == inputs and len(published) == BACKGROUND_ROWS  # 280 training rows

    ev = Evaluator.load("m", repo=repo.root, backend="native")
    rows = frame.drop(columns=[c for c in frame.columns if c not in inputs]).iloc[:50]
    out = ev.predict_batch(rows, explain=True)
    contributions = out[[f"contribution_{f}" for f in inputs]]
    assert ((out["base_score"] + contributions.sum(axis=1)) - out["raw_score"]).abs().max() < 1e-9
    assert out["raw_score"].notna().all()  # imputed numerics (MiningField replacements) are explained too
    if label == "clicked":  # the log-odds of the second class ("1")
        p = out["probability(1)"]
        np.testing.assert_allclose(out["raw_score"], np.log(p / (1 - p)), rtol=1e-9)
    else:
        np.testing.assert_allclose(out["raw_score"], out[f"predicted_{label}"], rtol=1e-12)
    # The baseline is the mean raw score over the published rows, as shap defines it.
    scored = ev.predict_batch(published, explain=True)
    assert math.isclose(out["base_score"].iloc[0], scored["raw_score"].mean(), rel_tol=1e-9, abs_tol=1e-12)
