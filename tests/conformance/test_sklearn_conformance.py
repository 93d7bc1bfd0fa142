"""PMML from scikit-learn, LightGBM and XGBoost (sklearn2pmml), on every backend, against JPMML-Evaluator."""
from __future__ import annotations

import pytest

pytest.importorskip("sklearn2pmml")  # a test dependency (setup.cfg [test])

from .harness import BACKENDS, same  # noqa: E402
from .sklearn_models import MODELS  # noqa: E402

# The producer computes in its own order and, for XGBoost, in float32 (probabilities to ~1e-7).
PRODUCER_RTOL = 1e-6
PRODUCER_ATOL = 1e-6


def _case(sklearn_cases, name):
    cases, failures = sklearn_cases
    if name in failures:
        pytest.fail(f"{name}: no PMML to test: {failures[name]}")
    return cases[name]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_backend_equals_reference(sklearn_cases, conform, name, backend):
    outcome = conform(_case(sklearn_cases, name), backend)
    assert outcome.ok, outcome.report()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_reference_equals_producer(sklearn_cases, answers, name):
    """The reference itself against scikit-learn's predict/predict_proba on the clean rows."""
    case = _case(sklearn_cases, name)
    answer = answers(case)
    bad = []
    for column, values in case.expected.items():
        if column not in answer.results.columns:
            continue  # the converter does not write this output (kNN writes neighbours, not probabilities)
        kind = "double" if column.startswith("probability(") or answer.results[column].dtype.kind == "f" else "label"
        for i, want in enumerate(values):
            if want is None:
                continue
            got = answer.results[column].iloc[i]
            if not same(got, want, kind, rtol=PRODUCER_RTOL, atol=PRODUCER_ATOL):
                bad.append(f"row {i} {column}: reference={got!r} producer={want!r}")
    assert not bad, f"{name}: {len(bad)} value(s) differ from the producer, e.g. " + "; ".join(bad[:5])
    asked = [i for i in range(len(case.frame)) if any(v[i] is not None for v in case.expected.values())]
    rejected = [(i, answer.errors[i]) for i in asked if answer.errors[i]]
    assert not rejected, f"{name}: the reference rejects rows the producer scores: {rejected[:3]}"
