"""What one compiled model produced for every row."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .context import NUMERIC_TYPES


@dataclass
class ModelResult:
    """What one model produced for every row."""

    value: np.ndarray | None = None          # regression value (float, NaN where none)
    labels: tuple[str, ...] = ()             # class labels or cluster ids, as written in the PMML
    probs: np.ndarray | None = None          # [rows, labels] class probabilities (NaN where none)
    index: np.ndarray | None = None          # int: predicted label (-1 where none); argmax when None
    affinity: np.ndarray | None = None       # [rows, clusters] distances for clustering
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    entities: np.ndarray | None = None       # [rows, ranks] ids of the nearest instances (kNN), rank 1 first
    reasons: np.ndarray | None = None        # [rows, ranks] Scorecard reason codes, best first (None past the last)
    partials: np.ndarray | None = None       # [rows, characteristics] Scorecard partial scores (for explain)

    def winner(self) -> np.ndarray:
        if self.index is None:  # computed once: the target and several outputs ask for it
            assert self.probs is not None
            missing = np.isnan(self.probs)
            if missing.any():
                idx = np.argmax(np.where(missing, -np.inf, self.probs), axis=1)
                self.index = np.where(missing.all(axis=1), -1, idx)
            else:
                self.index = np.argmax(self.probs, axis=1)
        return self.index

    def predicted(self, data_type: str | None) -> np.ndarray:
        if self.value is not None:
            return self.value
        return labels_as(self.labels, self.winner(), data_type)


def labels_as(labels: tuple[str, ...], idx: np.ndarray, data_type: str | None) -> np.ndarray:
    return _label_table(labels, data_type)[idx]  # index -1 picks the trailing missing value


@functools.lru_cache(maxsize=256)
def _label_table(labels: tuple[str, ...], data_type: str | None) -> np.ndarray:
    if data_type in NUMERIC_TYPES:
        return np.array([float(v) for v in labels] + [np.nan])
    return np.array(list(labels) + [None], dtype=object)
