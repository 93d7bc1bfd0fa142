"""Run native tests under both kernel paths: the compiled C kernels and the NumPy fallback."""
from __future__ import annotations

import pytest

from pmmlkit.evaluator.native import compiled

KINDS = ("c", "numpy")


def available(kind: str) -> bool:
    """Whether ``kind`` can run here: NumPy always; C when built and not turned off by the env var."""
    if kind == "numpy":
        return True
    import os

    if os.environ.get(compiled.ENV, "auto").strip().lower() == "numpy":
        return False  # the run asked for the fallback alone (a machine without the extension)
    try:
        from pmmlkit.evaluator.native import _ckernels  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def native_kernels(request):
    """The kernel kind a test runs under; the previous choice is restored after it."""
    kind = request.param
    if not available(kind):
        pytest.skip(f"the {kind} kernels are not available here ({compiled.ENV}, or the extension is not built)")
    before = compiled.name()
    compiled.use(kind)
    yield kind
    compiled.use(before)
