"""PMML from Spark ML (JPMML-SparkML through pmmlkit's export), on every backend, against JPMML-Evaluator."""
from __future__ import annotations

import pytest

from .harness import BACKENDS, same
from .spark_models import MODELS

pytestmark = pytest.mark.slow  # fits ~20 Spark pipelines: about a minute on two cores

PRODUCER_RTOL = 1e-6  # Spark and JPMML sum in different orders
PRODUCER_ATOL = 1e-9


def _case(spark_cases, name):
    cases, failures = spark_cases
    if name in failures:
        pytest.fail(f"{name}: no PMML to test: {failures[name]}")
    return cases[name]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_backend_equals_reference(spark_cases, conform, name, backend):
    outcome = conform(_case(spark_cases, name), backend)
    assert outcome.ok, outcome.report()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_reference_equals_spark(spark_cases, answers, name):
    """The reference itself against Spark's transform() on the rows without nulls or unseen values."""
    case = _case(spark_cases, name)
    answer = answers(case)
    bad = []
    for column, values in case.expected.items():
        if column not in answer.results.columns:
            continue
        kind = "double" if column.startswith("probability(") or column in ("y_reg", "y_count", "y_pos") else "label"
        for i, want in enumerate(values):
            if want is None:
                continue
            got = answer.results[column].iloc[i]
            if answer.errors[i] or not same(got, want, kind, rtol=PRODUCER_RTOL, atol=PRODUCER_ATOL):
                bad.append(f"row {i} {column}: reference={got!r} (error {answer.errors[i]!r}) spark={want!r}")
    assert not bad, f"{name}: {len(bad)} value(s) differ from Spark, e.g. " + "; ".join(bad[:5])
