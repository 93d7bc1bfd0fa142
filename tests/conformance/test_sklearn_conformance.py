"""PMML from scikit-learn, LightGBM and XGBoost (sklearn2pmml), on every backend, against JPMML-Evaluator."""
from __future__ import annotations

import pytest

from .harness import BACKENDS, case_named, producer_mismatches
from .sklearn_models import MODELS

# The producer computes in its own order and, for XGBoost, in float32 (probabilities to ~1e-7).
PRODUCER_RTOL = 1e-6
PRODUCER_ATOL = 1e-6


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_backend_equals_reference(sklearn_cases, conform, name, backend):
    outcome = conform(case_named(sklearn_cases, name), backend)
    assert outcome.ok, outcome.report()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_reference_equals_producer(sklearn_cases, answers, name):
    """The reference itself against scikit-learn's predict/predict_proba on the clean rows."""
    case = case_named(sklearn_cases, name)
    bad = producer_mismatches(case, answers(case), rtol=PRODUCER_RTOL, atol=PRODUCER_ATOL)
    assert not bad, f"{name}: {len(bad)} value(s) differ from the producer, e.g. " + "; ".join(bad[:5])
