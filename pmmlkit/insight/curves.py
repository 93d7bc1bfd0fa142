"""Evaluation curves on NumPy: ROC, precision-recall, calibration, cumulative gain, confusion.

Binary curves take ``positive`` (bool per row) and ``score`` (the positive class's probability).
Ties in the score move together, as in scikit-learn, so the curves match it point for point.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curve:
    x: np.ndarray
    y: np.ndarray
    area: float


def _ranked(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative true and false positives at each distinct threshold, highest score first."""
    order = np.argsort(-score, kind="mergesort")
    s, p = score[order], positive[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the last row of each run of equal scores
    tps = np.cumsum(p)[last]
    return tps, (last + 1) - tps


def roc(positive: np.ndarray, score: np.ndarray) -> Curve:
    tps, fps = _ranked(positive, score)
    tpr = np.r_[0.0, tps / max(tps[-1], 1.0)]
    fpr = np.r_[0.0, fps / max(fps[-1], 1.0)]
    return Curve(fpr, tpr, _area(fpr, tpr))


def precision_recall(positive: np.ndarray, score: np.ndarray) -> Curve:
    """Recall on x, precision on y; area = average precision (scikit-learn's definition)."""
    tps, fps = _ranked(positive, score)
    precision = tps / (tps + fps)
    recall = tps / max(tps[-1], 1.0)
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    return Curve(np.r_[0.0, recall], np.r_[1.0, precision], ap)


def cumulative_gain(positive: np.ndarray, score: np.ndarray) -> Curve:
    """Share of all positives found (y) in the top share of rows by score (x); area vs random = lift."""
    tps, fps = _ranked(positive, score)
    x = np.r_[0.0, (tps + fps) / len(score)]
    y = np.r_[0.0, tps / max(tps[-1], 1.0)]
    return Curve(x, y, _area(x, y))


def calibration(positive: np.ndarray, score: np.ndarray, *,
                bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean predicted, observed rate, rows) per equal-width score bin that holds rows.

    Bins are (lo, hi], the first one [0, hi], as scikit-learn's calibration_curve cuts them.
    """
    idx = np.searchsorted(np.linspace(0.0, 1.0, bins + 1)[1:-1], score, side="left")
    rows = np.bincount(idx, minlength=bins)
    keep = rows > 0
    predicted = np.bincount(idx, weights=score, minlength=bins)[keep] / rows[keep]
    observed = np.bincount(idx, weights=positive.astype(np.float64), minlength=bins)[keep] / rows[keep]
    return predicted, observed, rows[keep]


def confusion(actual: np.ndarray, predicted: np.ndarray, labels: list[str]) -> np.ndarray:
    """Counts [actual label, predicted label] over ``labels`` (rows with other labels are left out)."""
    index = {lb: i for i, lb in enumerate(labels)}
    a = np.array([index.get(v, -1) for v in actual])
    p = np.array([index.get(v, -1) for v in predicted])
    keep = (a >= 0) & (p >= 0)
    out = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(out, (a[keep], p[keep]), 1)
    return out


def _area(x: np.ndarray, y: np.ndarray) -> float:
    """Trapezoidal area under y(x) (np.trapezoid needs NumPy 2, the core allows 1.26)."""
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))
