"""The native backend's two kernel paths on a conformance case: the compiled C kernels and the NumPy fallback
(tests choosing one take the ``kernels_restored`` fixture)."""
from __future__ import annotations

import pandas as pd

from pmmlkit.errors import PmmlkitError
from pmmlkit.evaluator.native import compiled

from .harness import load


def native_answers(case, kind: str) -> pd.DataFrame | str:
    """The case's frame scored by the native backend on ``kind`` kernels, or what refused it at load."""
    compiled.use(kind)
    try:
        ev, _ = load(case, "native")
        return ev.predict_batch(case.frame, errors="column")
    except PmmlkitError as e:  # refused at load: both paths must refuse alike
        return f"{type(e).__name__}: {e}"


def assert_paths_equal(case) -> None:
    """The compiled kernels answer as the NumPy fallback, bit for bit (or refuse alike)."""
    c, numpy = native_answers(case, "c"), native_answers(case, "numpy")
    if isinstance(c, str) or isinstance(numpy, str):
        assert c == numpy
    else:
        pd.testing.assert_frame_equal(c, numpy, check_exact=True)
