"""PMML 4.4's erf and normal distribution functions, on the standard library (no SciPy to import).

CDF as 0.5 * erfc(-z / sqrt 2) and PDF in closed form, as SciPy's ndtr and norm.pdf compute
them; the IDF by Wichura's AS241 (statistics.NormalDist), good to about 1e-16. A standard
deviation that is not positive gives NaN, which the caller turns into a row error.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def erf(x: np.ndarray) -> np.ndarray:
    return np.asarray(_erf(np.asarray(x, dtype=np.float64)), dtype=np.float64)


def cdf(x: np.ndarray, mean: np.ndarray | float = 0.0, sd: np.ndarray | float = 1.0) -> np.ndarray:
    x, mean, sd = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, mean, sd)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - mean) / (sd * _SQRT2)
    out = 0.5 * np.asarray(_erfc(-z), dtype=np.float64)
    return np.where(sd > 0, out, np.nan)


def pdf(x: np.ndarray, mean: np.ndarray | float = 0.0, sd: np.ndarray | float = 1.0) -> np.ndarray:
    x, mean, sd = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, mean, sd)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - mean) / sd
        out = np.exp(-0.5 * z * z) / (sd * _SQRT2PI)
    return np.where(sd > 0, out, np.nan)


def _inverse(p: float, mean: float, sd: float) -> float:
    if not sd > 0 or not 0.0 <= p <= 1.0:
        return math.nan
    if p == 0.0 or p == 1.0:
        return -math.inf if p == 0.0 else math.inf
    return NormalDist(mean, sd).inv_cdf(p)


_idf = np.frompyfunc(_inverse, 3, 1)


def idf(p: np.ndarray, mean: np.ndarray | float = 0.0, sd: np.ndarray | float = 1.0) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # NaN in, NaN out: the caller decides what a NaN means
        return np.asarray(_idf(np.asarray(p, dtype=np.float64), mean, sd), dtype=np.float64)
