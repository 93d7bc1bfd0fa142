"""Live drift of a served model: a rolling PSI per input field, and values never seen in training.

The server feeds every scored request's records in; ``psi()`` is read when Prometheus scrapes.
The window holds the last ``window`` records per field, as bin numbers, so memory is bounded
and an update costs a bincount per field, not a pass over the window.
"""
from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np
import pandas as pd

from .profile import Profile
from .stats import psi

WINDOW = 10_000


class DriftMonitor:
    """Rolling drift of one model version's inputs against its training profile."""

    def __init__(self, profile: Profile, *, window: int = WINDOW):
        self.profile = profile
        self.window = window
        self._lock = threading.Lock()
        self._recent: dict[str, deque[np.ndarray]] = {n: deque() for n in profile.columns}
        self._held = {n: 0 for n in profile.columns}
        self._counts = {n: np.zeros(c.bins, dtype=np.int64) for n, c in profile.columns.items()}
        self.unseen = {n: 0 for n in profile.columns}  # records with a category never seen in training

    def observe(self, records: list[dict[str, Any]]) -> None:
        """Count a request's records (fields a record lacks count as missing)."""
        if not records:
            return
        frame = pd.DataFrame.from_records(records)
        with self._lock:
            for name, col in self.profile.columns.items():
                values = frame[name] if name in frame.columns else pd.Series([None] * len(frame))
                slots, unseen = col.slots(values)
                self.unseen[name] += len(unseen)
                self._push(name, slots)

    def _push(self, name: str, slots: np.ndarray) -> None:
        self._recent[name].append(slots)
        self._counts[name] += np.bincount(slots, minlength=len(self._counts[name]))
        self._held[name] += len(slots)
        while self._held[name] - len(self._recent[name][0]) >= self.window:
            old = self._recent[name].popleft()
            self._counts[name] -= np.bincount(old, minlength=len(self._counts[name]))
            self._held[name] -= len(old)

    def psi(self) -> dict[str, float]:
        """Field -> PSI of the window against training (fields with no record yet are left out)."""
        with self._lock:
            return {n: psi(self.profile.columns[n].histogram(), counts)
                    for n, counts in self._counts.items() if counts.sum() > 0}

    def records(self) -> int:
        with self._lock:
            return max(self._held.values(), default=0)
