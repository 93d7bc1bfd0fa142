"""Records against their batch rows, bit for bit: the check both record paths are held to."""
from __future__ import annotations

import math
import struct
from typing import Any

import pandas as pd
import pytest


def bits(value: Any) -> Any:
    """A result as comparable bits: a float by its IEEE bytes, every missing value alike."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float):
        return struct.pack("<d", value)
    return value.item() if hasattr(value, "item") else value


def row_bits(frame: pd.DataFrame, i: int) -> dict[str, Any]:
    return {name: bits(frame[name].iloc[i]) for name in frame.columns}


def record(frame: pd.DataFrame, i: int) -> dict[str, Any]:
    """Row ``i`` as a caller's record: a missing value as None."""
    return {k: None if v is None or (isinstance(v, float) and v != v) else v
            for k, v in frame.iloc[i].to_dict().items()}


def assert_records_equal_batch(ev: Any, frame: pd.DataFrame, *, alone: int = 0, batch_by: Any = None) -> None:
    """Each row scored by ``predict`` gets the bits ``predict_batch`` gave it, or fails as its row did;
    the first ``alone`` rows also as a batch of one row. ``batch_by``: another evaluator of the same
    document scores the batch (so ``ev`` has seen no value before its records)."""
    batch = (batch_by or ev).predict_batch(frame, errors="column")
    results = [c for c in batch.columns if c != ev.error_column]
    for i in range(len(frame)):
        want = row_bits(batch[results], i)
        if batch[ev.error_column].iloc[i] is not None:
            with pytest.raises(Exception):  # noqa: B017 - whatever the batch said, the record fails too
                ev.predict(record(frame, i))
            continue
        got = {k: bits(v) for k, v in ev.predict(record(frame, i)).items()}
        assert got == want, f"row {i}: {frame.iloc[i].to_dict()}"
        if i < alone:
            single = ev.predict_batch(frame.iloc[i:i + 1], errors="column")
            assert row_bits(single[results], 0) == want, f"row {i} as a batch of one"
