"""PMML from Spark ML (JPMML-SparkML through pmmlkit's export), on every backend, against JPMML-Evaluator."""
from __future__ import annotations

import pytest

from tests.evaluator.kernels import available
from tests.evaluator.record_bits import assert_records_equal_batch

from .harness import BACKENDS, case_named, producer_mismatches
from .kernel_paths import assert_paths_equal
from .spark_models import MODELS

pytestmark = pytest.mark.slow  # fits ~20 Spark pipelines: a few minutes on two busy cores

PRODUCER_RTOL = 1e-6  # Spark and JPMML sum in different orders
PRODUCER_ATOL = 1e-9


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_backend_equals_reference(spark_cases, conform, name, backend):
    outcome = conform(case_named(spark_cases, name), backend)
    assert outcome.ok, outcome.report()


@pytest.mark.skipif(not available("c"), reason="the compiled kernels are not built or turned off")
@pytest.mark.parametrize("name", sorted(MODELS))
def test_compiled_kernels_equal_numpy_bit_for_bit(spark_cases, kernels_restored, name):
    """Descents, running sums of tables and layers, the contract's columns: C as NumPy, on Spark's documents."""
    assert_paths_equal(case_named(spark_cases, name))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_reference_equals_spark(spark_cases, answers, name):
    """The reference itself against Spark's transform() on the rows without nulls or unseen values."""
    case = case_named(spark_cases, name)
    bad = producer_mismatches(case, answers(case), rtol=PRODUCER_RTOL, atol=PRODUCER_ATOL)
    assert not bad, f"{name}: {len(bad)} value(s) differ from Spark, e.g. " + "; ".join(bad[:5])


# Models whose records, once their values have been seen, take the record plan: JPMML-SparkML's
# category handling (derived fields of one input), its label mapped to a number (an output of one
# output), and tests of integer categories (a virtual column of the trees) are all covered. Share
# of the rows (missing values and unseen categories included) that the plan must answer.
PLANNED = {"chisq_logistic_regression": 1.0, "decision_tree_reg": 1.0, "imputer_integer": 1.0,
           "isotonic_reg": 1.0, "linear_regression": 1.0, "linear_svc": 1.0, "logistic_regression_bin": 1.0,
           "logistic_regression_multi": 1.0, "logistic_regression_text": 1.0, "naive_bayes_text": 1.0,
           "random_forest_reg": 1.0, "decision_tree_cls_vector_indexer": 0.95, "gbt_cls": 0.85,
           "random_forest_cls": 0.85}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_native_records_equal_batch(spark_cases, name):
    """``predict`` gives each row the bits ``predict_batch`` gives it, on the array path (a value's
    first record) and on the record plan (the same record again)."""
    from pmmlkit import Evaluator

    case = case_named(spark_cases, name)
    ev = Evaluator.from_bytes(case.pmml, backend="native", threads=1)
    plan, answered = ev.backend._record, []
    if plan is not None:
        def counted(fields):
            scored = plan(fields)
            answered.append(scored is not None)
            return scored
        ev.backend._record = counted
    assert_records_equal_batch(ev, case.frame, batch_by=Evaluator.from_bytes(case.pmml, backend="native"))
    answered.clear()
    assert_records_equal_batch(ev, case.frame)
    if name in PLANNED:
        share = sum(answered) / max(len(answered), 1)
        assert share >= PLANNED[name], f"{name}: the plan answered {sum(answered)} of {len(answered)} records"
