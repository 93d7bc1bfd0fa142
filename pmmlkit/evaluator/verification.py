"""Re-score a document's own ModelVerification records and compare."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import VerificationError
from .contract import canonical_text

if TYPE_CHECKING:
    from . import Evaluator


def findings(ev: Evaluator) -> list[str]:
    """Every mismatch between the model's answers and its ModelVerification records."""
    v = ev.schema.verification
    if v is None or not v.rows:
        return []
    inputs = {f.name for f in ev.input_fields}
    frame = pd.DataFrame([{name: row.get(col) for name, col in v.columns.items() if name in inputs}
                          for row in v.rows])
    for name in inputs - set(frame.columns):
        frame[name] = None
    got = ev.predict_batch(frame, errors="column")
    problems = []
    errors = got[ev.error_column]
    published = {f.name: name for name, f in ev.result_fields.items()}  # records name PMML fields
    for i, row in enumerate(v.rows):
        if errors.iloc[i]:
            problems.append(f"verification record {i + 1}: {errors.iloc[i]}")
            continue
        for name, col in v.columns.items():
            if name in inputs or name not in published:
                continue
            expected, actual = row.get(col), got[published[name]].iloc[i]
            precision, zero = v.tolerances.get(name, (1e-6, 1e-16))
            if not _agrees(expected, actual, precision, zero):
                problems.append(f"verification record {i + 1}: field {name!r}: expected {expected!r}, "
                                f"got {actual!r} (precision {precision})")
    return problems


def _agrees(expected: str | None, actual: Any, precision: float, zero: float) -> bool:
    if expected is None or expected == "":
        return actual is None or (isinstance(actual, float) and math.isnan(actual)) or actual is pd.NA
    try:
        e, a = float(expected), float(actual)
    except (TypeError, ValueError):
        return canonical_text(expected) == canonical_text(actual)
    if abs(e) <= zero:
        return abs(a) <= zero
    # PMML's precision is relative to the expected value.
    return abs(a - e) <= precision * abs(e)


def check(ev: Evaluator) -> None:
    raise_findings(ev, findings(ev))


def raise_findings(ev: Evaluator, problems: list[str]) -> None:
    """VerificationError quoting the first findings, if there are any."""
    if problems:
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        raise VerificationError(f"{ev.document.source}: the model does not reproduce its ModelVerification "
                                f"records with backend {ev.backend_name}: " + "; ".join(problems[:5]) + more
                                + ". Load with verify=False to skip this check.")
