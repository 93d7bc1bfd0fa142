"""Shared array kernels: vectorized tree descent and the small output transforms."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import math

MISSING_K = 3  # outcome column for a missing value; 0/1/2 are less / equal / greater


@dataclass(frozen=True)
class TreeTables:
    """Flattened trees: every test and terminal is a node; next_[node, k] is where a row goes.

    A test compares a number with the threshold: k = 0/1/2 when the value is less than /
    equal to / greater than it, and 3 when the value is missing. (Set tests arrive as
    membership columns tested against 0.5.) Terminals send every k back to themselves,
    so a fixed number of steps finishes every tree.
    """

    feature: np.ndarray    # intp [nodes]: column of X tested
    threshold: np.ndarray  # float64 [nodes]
    next_: np.ndarray      # intp [nodes * 4]
    roots: np.ndarray      # intp [trees]
    steps: int             # longest root-to-terminal path


CHUNK_ROWS = 2048  # rows per pass: keeps the [rows, trees] working set in cache


def descend(XT: np.ndarray, t: TreeTables) -> np.ndarray:
    """Terminal node of every (row, tree), all rows and trees at once: shape [rows, trees].

    ``XT`` is [columns, rows] (one contiguous row per column), so extra columns stack cheaply.
    """
    n = XT.shape[1]
    out = np.empty((n, len(t.roots)), dtype=np.intp)
    for start in range(0, n, CHUNK_ROWS):
        out[start:start + CHUNK_ROWS] = _descend_chunk(np.ascontiguousarray(XT[:, start:start + CHUNK_ROWS]), t)
    return out


def _descend_chunk(XT: np.ndarray, t: TreeTables) -> np.ndarray:
    m = XT.shape[1]
    if m == 1:
        return _descend_record(XT[:, 0], t)[None, :]
    cur = np.broadcast_to(t.roots, (m, len(t.roots))).copy()
    rows = np.arange(m, dtype=np.intp)[:, None]
    flat = XT.ravel()
    # Imputed inputs often hold no missing value at all: then no step needs to look for one.
    has_missing = bool(np.isnan(XT).any())
    for _ in range(t.steps):
        x = flat[t.feature[cur] * m + rows]
        thr = t.threshold[cur]
        k = (x > thr).view(np.int8) + (x >= thr).view(np.int8)   # 0 less, 1 equal, 2 greater
        if has_missing:
            k[np.isnan(x)] = MISSING_K
        cur = t.next_[cur * 4 + k]
    return cur


def _descend_record(x_row: np.ndarray, t: TreeTables) -> np.ndarray:
    """One row through every tree: the same steps with the fewest NumPy calls (service latency)."""
    cur = t.roots
    for _ in range(t.steps):
        x = x_row[t.feature[cur]]
        thr = t.threshold[cur]
        k = (x > thr).view(np.int8) + (x >= thr).view(np.int8)
        k[np.isnan(x)] = MISSING_K
        cur = t.next_[cur * 4 + k]
    return cur


def sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax of [rows, classes]."""
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def probit(x: np.ndarray) -> np.ndarray:
    # NumPy has no erf; probit links are rare, so a scalar loop is fine here.
    return np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in np.ravel(x)]).reshape(np.shape(x))


def cloglog(x: np.ndarray) -> np.ndarray:
    return 1.0 - np.exp(-np.exp(x))


def loglog(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.exp(-x))


def cauchit(x: np.ndarray) -> np.ndarray:
    return 0.5 + np.arctan(x) / np.pi


INVERSE_LINKS = {"logit": sigmoid, "probit": probit, "cloglog": cloglog, "loglog": loglog, "cauchit": cauchit,
                 "exp": np.exp, "none": lambda x: x, "identity": lambda x: x, "log": np.exp}
