"""MiningField treatments: outliers and missing values replaced before a model scores its rows."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import numpy as np
import pandas as pd

from ...pmml.fields import child, children
from .context import Ctx

Treatment = Callable[[np.ndarray], np.ndarray]  # a Treat; the type explainers hold them as


def mining_treatments(model: Element, ctx: Ctx) -> list[tuple[str, Treatment]]:
    """MiningField missingValueReplacement and outliers, applied as JPMML does before scoring."""
    out: list[tuple[str, Treatment]] = []
    ms = child(model, "MiningSchema")
    for mf in children(ms, "MiningField") if ms is not None else []:
        name, outliers = mf.get("name", ""), mf.get("outliers", "asIs")
        replacement = mf.get("missingValueReplacement")
        if replacement is None and outliers == "asIs":
            continue
        numeric = ctx.is_numeric(name)
        fill = ctx.encode(name, replacement) if numeric and replacement is not None else replacement
        low, high = (float(v) if (v := mf.get(k)) is not None else None for k in ("lowValue", "highValue"))
        out.append((name, Treat(numeric, fill, outliers, low, high)))
    return out


@dataclass(frozen=True)
class Treat:
    """One MiningField's treatment of a column: outliers, then the missing value's replacement."""

    numeric: bool
    fill: float | str | None
    outliers: str
    low: float | None
    high: float | None

    def __call__(self, col: np.ndarray) -> np.ndarray:
        numeric, fill, outliers, low, high = self.numeric, self.fill, self.outliers, self.low, self.high
        if numeric and len(col) == 1 and outliers == "asIs":  # a record: no array calls (latency)
            return col if fill is None or col[0] == col[0] else np.array([fill], dtype=np.float64)
        if numeric:
            if outliers in ("asMissingValues", "asExtremeValues"):
                col = col.astype(np.float64, copy=True)
                lo = col < low if low is not None else np.zeros(len(col), bool)
                hi = col > high if high is not None else np.zeros(len(col), bool)
                if outliers == "asMissingValues":
                    col[lo | hi] = np.nan
                else:
                    col[lo], col[hi] = low, high
            if fill is None:
                return col
            missing = np.isnan(col)
            return np.where(missing, fill, col) if missing.any() else col
        missing = pd.isna(col) if fill is not None else None
        if missing is None or not missing.any():
            return col  # the very column, so what is known about it (levels, codes) still holds
        col = col.copy()
        col[missing] = fill
        return col
