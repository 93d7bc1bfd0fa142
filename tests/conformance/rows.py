"""Rows that sit on a model's split thresholds, where float32 and double disagree."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd

_ORDERED = {"lessThan", "lessOrEqual", "greaterThan", "greaterOrEqual", "equal", "notEqual"}


def thresholds(pmml: bytes) -> dict[str, list[float]]:
    """Numeric SimplePredicate values per input (DataField) name, as written in the document."""
    root = ET.fromstring(pmml)
    local = lambda el: el.tag.rpartition("}")[2]  # noqa: E731
    numeric = {el.get("name") for el in root.iter() if local(el) == "DataField"
               and el.get("dataType") in ("float", "double", "integer")}
    out: dict[str, set[float]] = {}
    for el in root.iter():
        if local(el) == "SimplePredicate" and el.get("operator") in _ORDERED and el.get("field") in numeric:
            try:
                out.setdefault(el.get("field"), set()).add(float(el.get("value")))
            except (TypeError, ValueError):
                continue
    return {k: sorted(v) for k, v in out.items()}


def neighbours(value: float) -> list[float]:
    """The threshold, its float32 rounding and float32 neighbours, and its double neighbours."""
    f = np.float32(value)
    around = [value, float(f), float(np.nextafter(f, np.float32(np.inf))), float(np.nextafter(f, np.float32(-np.inf))),
              float(np.nextafter(value, np.inf)), float(np.nextafter(value, -np.inf))]
    return sorted(set(around))


def on_thresholds(pmml: bytes, base: pd.DataFrame, *, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` copies of base rows, each with one input set on or next to one split threshold."""
    rng = np.random.default_rng(seed)
    points = [(col, v) for col, values in thresholds(pmml).items() if col in base.columns
              and base[col].dtype.kind == "f" for t in values for v in neighbours(t)]
    if not points or n <= 0:
        return base.iloc[:0]
    picks = rng.choice(len(points), size=min(n, len(points)), replace=False)
    rows = base.iloc[rng.integers(0, len(base), size=len(picks))].copy()
    for j, k in enumerate(picks):
        col, v = points[k]
        rows.iloc[j, rows.columns.get_loc(col)] = v  # a float32 column rounds it: a float32 neighbour
    return rows
