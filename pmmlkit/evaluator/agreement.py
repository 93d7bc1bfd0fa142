"""Do the backends agree? Score the same data with each and compare column by column.

Known, explained differences between backends are declared in differences.py, in one
place, so that loading, the agreement suite and ``pmmlkit diff`` report them instead of
hiding them. Error columns are compared by presence: a row refused by two backends
agrees, whatever each one's message says.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import numpy as np
import pandas as pd

from ..errors import UnsupportedElement
from ..pmml.fields import local
from . import ERROR_COLUMN, Evaluator
from .differences import RULES

DEFAULT_RTOL = 1e-9
DEFAULT_ATOL = 1e-12

# (backend, model element, normalizationMethod) -> why that backend produces no output for
# some rows of such a model. Rows where the backend answers no probability at all while the
# reference does are then reported as "not compared" with the reason, never silently; the
# agreement suite asserts each declared gap is observed, so a stale entry is caught.
# Every other known difference (differences.RULES) is reported with the rows it changes.
KNOWN_GAPS: dict[tuple[str, str, str], str] = {
    ("pypmml", "RegressionModel", "softmax"): RULES[("pypmml", "RegressionModel")][1],
}


@dataclass(frozen=True)
class ColumnAgreement:
    column: str
    backend: str
    compared: int
    differing: int
    max_difference: float

    @property
    def agrees(self) -> bool:
        return self.differing == 0


@dataclass
class Agreement:
    reference: str
    backends: tuple[str, ...]
    rows: int
    columns: list[ColumnAgreement] = field(default_factory=list)
    examples: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: list[str] = field(default_factory=list)
    #: known differences of the compared backends that this document triggers (differences.py)
    declared: list[str] = field(default_factory=list)
    #: backend -> why it refused the document (left out of the comparison)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def agrees(self) -> bool:
        return all(c.agrees for c in self.columns)

    def table(self) -> str:
        head = f"{'column':<28} {'backend':<8} {'compared':>9} {'differing':>9} {'max diff':>10}"
        lines = [head, "-" * len(head)]
        for c in self.columns:
            lines.append(f"{c.column:<28} {c.backend:<8} {c.compared:>9} {c.differing:>9} "
                         f"{c.max_difference:>10.3g}")
        return "\n".join(lines)


def _differs(a: pd.Series, b: pd.Series, rtol: float, atol: float) -> tuple[np.ndarray, float]:
    """Row mask of disagreement and the largest numeric difference."""
    a_missing, b_missing = a.isna().to_numpy(), b.isna().to_numpy()
    both = ~a_missing & ~b_missing
    if pd.api.types.is_float_dtype(a.dtype) and pd.api.types.is_float_dtype(b.dtype):
        x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        diff = np.where(both, np.abs(x - y), 0.0)
        bad = both & (diff > atol + rtol * np.abs(y))
        biggest = float(diff.max()) if len(diff) else 0.0
    else:
        bad = both & (a.astype(str).to_numpy() != b.astype(str).to_numpy())
        biggest = math.inf if bad.any() else 0.0
    one_sided = a_missing != b_missing
    if one_sided.any():
        biggest = math.inf  # a value against no value at all
    return bad | one_sided, biggest


def _declared_gap(backend: str, root: Element) -> str | None:
    for el in root.iter():
        reason = KNOWN_GAPS.get((backend, local(el.tag), el.get("normalizationMethod", "none")))
        if reason:
            return reason
    return None


def compare(raw: bytes, data: pd.DataFrame, *, backends: tuple[str, ...] = ("native", "jpmml", "pypmml"),
            rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL, examples: int = 5,
            source: str = "<bytes>") -> Agreement:
    """Score ``data`` with every backend; the first backend is the reference.

    A backend other than the reference that refuses the document (UnsupportedElement: the
    native backend may) is listed in ``refused`` and left out; that is not a disagreement.
    """
    report = Agreement(backends[0], tuple(backends), len(data))
    results: dict[str, pd.DataFrame] = {}
    for name in backends:
        try:
            ev = Evaluator.from_bytes(raw, backend=name, verify=False, source=source)
        except UnsupportedElement as e:
            if name == backends[0]:
                raise
            report.refused[name] = str(e)
            continue
        results[name] = ev.predict_batch(data, errors="column")
        report.declared += [str(d) for d in ev.known_differences]  # found at load
    any_bad = np.zeros(len(data), dtype=bool)
    for other in [b for b in results if b != report.reference]:
        any_bad |= _compare_one(report, ev, results[report.reference], results[other], other,
                                rtol=rtol, atol=atol)
    if any_bad.any():
        rows = np.flatnonzero(any_bad)[:examples]
        parts = [data.iloc[rows]]
        parts += [frame.iloc[rows].add_suffix(f" [{b}]") for b, frame in results.items()]
        report.examples = pd.concat(parts, axis=1)
    return report


def _compare_one(report: Agreement, ev: Evaluator, ref: pd.DataFrame, got: pd.DataFrame, other: str, *,
                 rtol: float, atol: float) -> np.ndarray:
    """Add one backend's column agreements to ``report``; the mask of its differing rows."""
    n = len(ref)
    excused = np.zeros(n, dtype=bool)
    gap = _declared_gap(other, ev.document.root)
    probabilities = [o.name for o in ev.schema.outputs if o.feature == "probability"]
    if gap and probabilities:
        excused = (got[probabilities].isna().all(axis=1) & ref[probabilities].notna().all(axis=1)).to_numpy()
        if excused.any():
            report.skipped.append(f"{other}: {int(excused.sum())} row(s) without output: {gap}")
    any_bad = np.zeros(n, dtype=bool)
    for column in ref.columns:
        a, b = got[column][~excused], ref[column][~excused]
        if column == ev.error_column:  # a row refused by both agrees, whatever each message says
            a, b = a.notna().astype(float), b.notna().astype(float)
        bad, biggest = _differs(a, b, rtol, atol)
        any_bad[np.flatnonzero(~excused)[bad]] = True
        report.columns.append(ColumnAgreement(column, other, int((~excused).sum()), int(bad.sum()), biggest))
    return any_bad


__all__ = ["Agreement", "ColumnAgreement", "KNOWN_GAPS", "compare", "ERROR_COLUMN"]
