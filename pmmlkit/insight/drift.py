"""Drift of a batch against a training profile: PSI and a chi-square test per field.

PSI reads as the industry's rule of thumb: below 0.1 stable, 0.1-0.2 moderate, above 0.2
(the default threshold) a shift worth acting on. The chi-square p-value says whether the
difference could be chance; on large batches it flags shifts too small to matter, which is
why the threshold is on PSI.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import ConfigError
from .defaults import DEFAULT_THRESHOLD
from .profile import Profile
from .stats import chi_square, psi


@dataclass(frozen=True)
class FieldDrift:
    """How one field of a batch compares with its training profile."""

    name: str
    psi: float
    chi2: float
    p_value: float
    labels: list[str]
    expected: list[float]          # training share per bin (missing last)
    actual: list[float]            # batch share per bin
    missing_rate: float
    training_missing_rate: float
    unseen: dict[str, int]         # categories never seen in training -> count in the batch

    def drifted(self, threshold: float) -> bool:
        return self.psi > threshold

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class DriftReport:
    rows: int
    training_rows: int
    threshold: float
    fields: list[FieldDrift]

    @property
    def drifted(self) -> list[FieldDrift]:
        return [f for f in self.fields if f.drifted(self.threshold)]

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "training_rows": self.training_rows, "threshold": self.threshold,
                "drifted": [f.name for f in self.drifted], "fields": [f.as_dict() for f in self.fields]}


def drift(profile: Profile, batch: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD) -> DriftReport:
    """Compare every profiled field present in ``batch`` with the profile.

    A profiled field absent from the batch is an error: drift of a field nobody sent cannot be told.
    """
    if not threshold > 0:
        raise ConfigError(f"drift threshold {threshold!r} must be a positive PSI (0.2 is customary)")
    absent = [n for n in profile.columns if n not in batch.columns]
    if absent:
        raise ConfigError(f"the batch lacks the profiled field(s) {absent[:10]}; "
                          f"its columns are {list(batch.columns)[:20]}")
    fields = []
    for name, col in profile.columns.items():
        expected = col.histogram()
        actual, unseen = col.bin_counts(batch[name])
        chi2, p = chi_square(expected, actual)
        n = max(actual.sum(), 1.0)
        fields.append(FieldDrift(
            name, psi(expected, actual), chi2, p, col.labels,
            (expected / max(expected.sum(), 1.0)).tolist(), (actual / n).tolist(),
            float(actual[-1] / n), col.missing / max(col.rows, 1), unseen))
    fields.sort(key=lambda f: -f.psi)
    return DriftReport(len(batch), profile.rows, threshold, fields)


def share_table(report: DriftReport) -> pd.DataFrame:
    """One row per field, the figures a person scans first."""
    return pd.DataFrame([{"field": f.name, "psi": round(f.psi, 4), "p_value": f.p_value,
                          "missing": round(f.missing_rate, 4), "unseen": sum(f.unseen.values()),
                          "drifted": f.drifted(report.threshold)} for f in report.fields])
