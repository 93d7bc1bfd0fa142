"""PMML from Spark ML (JPMML-SparkML through pmmlkit's export), on every backend, against JPMML-Evaluator."""
from __future__ import annotations

import pytest

from .harness import BACKENDS, case_named, producer_mismatches
from .spark_models import MODELS

pytestmark = pytest.mark.slow  # fits ~20 Spark pipelines: a few minutes on two busy cores

PRODUCER_RTOL = 1e-6  # Spark and JPMML sum in different orders
PRODUCER_ATOL = 1e-9


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_backend_equals_reference(spark_cases, conform, name, backend):
    outcome = conform(case_named(spark_cases, name), backend)
    assert outcome.ok, outcome.report()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_reference_equals_spark(spark_cases, answers, name):
    """The reference itself against Spark's transform() on the rows without nulls or unseen values."""
    case = case_named(spark_cases, name)
    bad = producer_mismatches(case, answers(case), rtol=PRODUCER_RTOL, atol=PRODUCER_ATOL)
    assert not bad, f"{name}: {len(bad)} value(s) differ from Spark, e.g. " + "; ".join(bad[:5])
