"""Text result columns: the all-strings fast path answers what the per-value canonical text does."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit.evaluator import _cast_column
from pmmlkit.evaluator.contract import canonical_text


def _slow(values):
    return [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else canonical_text(v) for v in values]


@pytest.mark.parametrize("values", [
    ["yes", "no", None, float("nan"), pd.NA, ""],   # labels with every kind of missing
    [None, None],                                   # nothing scored
    [1, 1.0, True, "x", None, 2.5],                 # mixed kinds: 1 and True must stay apart
    [np.float64(3.0), "3", None],
])
def test_text_results_equal_the_canonical_text_of_each_value(values):
    got = _cast_column(np.array(values, dtype=object), "string")
    assert got.dtype == object
    assert got.tolist() == _slow(values)
