"""TreeSHAP on JPMML-SparkML exports (GBTClassifier's modelChain, RandomForestClassifier's average).

Spark's trees read derived fields (SQL imputations in LocalTransformations, a MiningSchema
missingValueReplacement) and split categories by value sets, with nulls in the data:
contributions must add up (1e-9) wherever the explanation is defined, and on a few rows
equal the definition scored by the evaluator (tree_models.brute_force; 1e-8 on a margin
recovered as the logit of a probability).
"""
from __future__ import annotations

import numpy as np
import pytest

from pmmlkit import Evaluator

from .tree_models import brute_force
from .typed import explained

pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def exported(spark):
    from pyspark.ml import Pipeline

    from pmmlkit.spark.export import to_pmml
    from tests.conformance import spark_producer
    from tests.conformance.spark_models import MODELS

    train = spark_producer.spark_frame(spark, spark_producer.frame(300, seed=1))
    rows, _ = spark_producer.score_frame()
    rows = rows.drop(columns=[c for c in spark_producer.LABELS if c in rows])
    background = spark_producer.frame(60, seed=9).drop(columns=spark_producer.LABELS)
    out = {}
    for name in ("gbt_cls", "random_forest_cls"):
        _, make = MODELS[name]
        out[name] = to_pmml(Pipeline(stages=make()).fit(train), train)
    return out, rows, background


@pytest.mark.parametrize("name", ["gbt_cls", "random_forest_cls"])
def test_spark_trees_add_up_and_raw_is_the_score(exported, name):
    documents, rows, background = exported
    ev = Evaluator.from_bytes(documents[name], backend="native")
    e = explained(ev, rows, background)
    p = ev.predict_batch(rows, errors="column")["probability(1)"].to_numpy(dtype=float)
    scored = ~np.isnan(p)
    defined = ~np.isnan(e.contributions["d_num"])
    assert defined.sum() > len(rows) // 2 and not (defined & ~scored).any()
    assert np.max(np.abs(e.residual()[defined])) < 1e-9
    if name == "gbt_cls":
        assert e.of == "log-odds of y_bin=1"
        np.testing.assert_allclose(1.0 / (1.0 + np.exp(-e.raw[scored])), p[scored], rtol=1e-12)
    else:
        assert e.of == "probability of y_bin=1"
        np.testing.assert_allclose(e.raw[scored], p[scored], rtol=1e-12)
    assert set(e.contributions) == set(ev.schema.input_names)


def test_spark_gbt_matches_the_definition(exported):
    documents, rows, background = exported
    ev = Evaluator.from_bytes(documents["gbt_cls"], backend="native")
    clean_rows = rows.dropna().iloc[:4]
    clean_background = background.dropna().iloc[:8]
    e = explained(ev, clean_rows, clean_background)
    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    expected = brute_force(ev, clean_rows, clean_background, "probability(1)", link=logit)
    for field in ev.schema.input_names:
        np.testing.assert_allclose(e.contributions[field], expected[field], rtol=0, atol=1e-8)
