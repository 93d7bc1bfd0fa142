"""The native backend's two kernel paths on the scikit-learn catalogue: each equals the reference, and
the compiled C kernels equal the NumPy fallback bit for bit (test_sklearn_conformance runs the default)."""
from __future__ import annotations

import pandas as pd
import pytest

from pmmlkit.errors import PmmlkitError
from pmmlkit.evaluator.native import compiled
from tests.evaluator.kernels import available

from .harness import case_named, load
from .sklearn_models import MODELS


@pytest.fixture
def kernels_restored():
    before = compiled.name()
    yield
    compiled.use(before)


def _native(case, kind: str) -> pd.DataFrame | str:
    compiled.use(kind)
    try:
        ev, _ = load(case, "native")
        return ev.predict_batch(case.frame, errors="column")
    except PmmlkitError as e:  # refused at load: both paths must refuse alike
        return f"{type(e).__name__}: {e}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_numpy_kernels_equal_reference(sklearn_cases, conform, kernels_restored, name):
    compiled.use("numpy")
    outcome = conform(case_named(sklearn_cases, name), "native")
    assert outcome.ok, outcome.report()


@pytest.mark.skipif(not available("c"), reason="the compiled kernels are not built or turned off")
@pytest.mark.parametrize("name", sorted(MODELS))
def test_compiled_kernels_equal_numpy_bit_for_bit(sklearn_cases, kernels_restored, name):
    case = case_named(sklearn_cases, name)
    c, numpy = _native(case, "c"), _native(case, "numpy")
    if isinstance(c, str) or isinstance(numpy, str):
        assert c == numpy
    else:
        pd.testing.assert_frame_equal(c, numpy, check_exact=True)
