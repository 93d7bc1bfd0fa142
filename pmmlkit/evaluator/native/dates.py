"""Date and time built-ins over the ISO text the input contract hands over for date and dateTime fields.

JPMML-Evaluator 1.7 reads these values as java.time LocalDate/LocalDateTime and counts whole units
with ChronoUnit (truncated toward zero); so does this module, in int64 nanoseconds. A value with a
time-zone offset has no local date-time: that row fails, it is never shifted in silence.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...errors import RowEvaluationError

DATE_FUNCTIONS = ("dateDaysSinceYear", "dateSecondsSinceYear", "dateSecondsSinceMidnight")
_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS


def _local(col: np.ndarray, fname: str) -> np.ndarray:
    """ISO text (None: missing, checked before) -> datetime64[ns]."""
    texts = [str(v) for v in col]
    for v in texts:
        if v.endswith("Z") or "+" in v[10:] or "-" in v[10:]:
            raise RowEvaluationError(f"{fname}: the value {v!r} carries a time-zone offset; PMML dates are "
                                     "local, so give the local date-time without an offset")
    try:
        return np.array(texts, dtype="datetime64[ns]")
    except ValueError as e:
        raise RowEvaluationError(f"{fname}: {e}; give an ISO 8601 date or date-time") from None


def _year_start(year: np.ndarray, fname: str) -> np.ndarray:
    years = np.asarray(year, dtype=np.float64)
    if not np.isfinite(years).all() or (years != np.floor(years)).any():
        raise RowEvaluationError(f"{fname}: the year argument {years.tolist()[:3]} is not a whole number")
    return (years.astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[ns]")


def _whole(ns: np.ndarray, unit: int) -> np.ndarray:
    """Whole units between two instants, truncated toward zero (ChronoUnit.between)."""
    return (np.sign(ns) * (np.abs(ns) // unit)).astype(np.float64)


def days_since_year(col: np.ndarray, year: np.ndarray) -> np.ndarray:
    """The date part's days since January 1 of ``year``."""
    day = _local(col, "dateDaysSinceYear").astype("datetime64[D]").astype("datetime64[ns]")
    return _whole((day - _year_start(year, "dateDaysSinceYear")).astype(np.int64), _DAY_NS)


def seconds_since_year(col: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Seconds since January 1 of ``year``, 00:00:00 (of a dateTime: JPMML refuses a date)."""
    instant = _local(col, "dateSecondsSinceYear")
    return _whole((instant - _year_start(year, "dateSecondsSinceYear")).astype(np.int64), _NS)


def seconds_since_midnight(col: np.ndarray) -> np.ndarray:
    """The time of day in whole seconds."""
    instant = _local(col, "dateSecondsSinceMidnight")
    return _whole((instant - instant.astype("datetime64[D]")).astype(np.int64), _NS)


BODIES: dict[str, tuple[Callable[..., np.ndarray], int]] = {
    "dateDaysSinceYear": (days_since_year, 2), "dateSecondsSinceYear": (seconds_since_year, 2),
    "dateSecondsSinceMidnight": (seconds_since_midnight, 1)}
