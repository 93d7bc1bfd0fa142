"""The native backend's two kernel paths on the scikit-learn catalogue: each equals the reference, and
the compiled C kernels equal the NumPy fallback bit for bit (test_sklearn_conformance runs the default)."""
from __future__ import annotations

import pytest

from pmmlkit.evaluator.native import compiled
from tests.evaluator.kernels import available

from .harness import case_named
from .kernel_paths import assert_paths_equal
from .sklearn_models import MODELS


@pytest.mark.parametrize("name", sorted(MODELS))
def test_numpy_kernels_equal_reference(sklearn_cases, conform, kernels_restored, name):
    compiled.use("numpy")
    outcome = conform(case_named(sklearn_cases, name), "native")
    assert outcome.ok, outcome.report()


@pytest.mark.skipif(not available("c"), reason="the compiled kernels are not built or turned off")
@pytest.mark.parametrize("name", sorted(MODELS))
def test_compiled_kernels_equal_numpy_bit_for_bit(sklearn_cases, kernels_restored, name):
    assert_paths_equal(case_named(sklearn_cases, name))
