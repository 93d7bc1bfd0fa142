"""The two statistics drift needs, on the standard library: PSI and a chi-square p-value."""
from __future__ import annotations

import math

import numpy as np

FLOOR = 1e-4  # an empty bin's share: keeps ln(a/e) finite, the usual PSI convention


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two histograms over the same bins (counts or shares)."""
    e = _shares(expected)
    a = _shares(actual)
    return float(np.sum((a - e) * np.log(a / e)))


def chi_square(expected: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """Chi-square goodness of fit of ``actual`` counts to ``expected``'s shares: (statistic, p-value).

    Bins the training data never filled are merged into their neighbours' floor share, so one new
    value does not make the statistic infinite; df = bins - 1.
    """
    n = float(np.sum(actual))
    if n == 0:
        return 0.0, 1.0
    want = _shares(expected) * n
    stat = float(np.sum((np.asarray(actual, dtype=np.float64) - want) ** 2 / want))
    dof = len(want) - 1
    return stat, (upper_gamma(dof / 2.0, stat / 2.0) if dof > 0 else 1.0)


def _shares(counts: np.ndarray) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    shares = c / total if total > 0 else np.full(len(c), 1.0 / max(len(c), 1))
    shares = np.maximum(shares, FLOOR)
    return shares / shares.sum()


def upper_gamma(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x) (chi-square survival: Q(k/2, x/2))."""
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:  # the series for P converges fast here
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    # Lentz's continued fraction for Q
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_front) * h)
