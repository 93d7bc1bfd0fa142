"""Shared array kernels: vectorized tree descent and the small output transforms."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import math

MISSING_K = 3  # outcome column for a missing value; 0/1/2 are less / equal / greater


@dataclass(frozen=True)
class TreeTables:
    """Flattened trees: every test and terminal is a node; next_[node, k] is where a row goes.

    For a test on a number, k = 0/1/2 when the value is less than / equal to / greater than the
    threshold and 3 when missing; for a set test k = 1 for a member, 0 otherwise. Terminals
    carry feature 0 and send every k back to themselves, so a fixed number of steps finishes.
    """

    feature: np.ndarray    # int64 [nodes]: column of X tested
    threshold: np.ndarray  # float64 [nodes]
    set_id: np.ndarray     # int64 [nodes]: row of `members`, -1 for a numeric test
    next_: np.ndarray      # int64 [nodes * 4]
    roots: np.ndarray      # int64 [trees]
    steps: int             # longest root-to-terminal path
    members: np.ndarray    # bool [sets, codes + 1]; column 0 is the unseen code -1


CHUNK_ROWS = 2048  # rows per pass: keeps the [rows, trees] working set in cache


def descend(X: np.ndarray, t: TreeTables) -> np.ndarray:
    """Terminal node of every (row, tree), all rows and trees at once: shape [rows, trees]."""
    n = X.shape[0]
    out = np.empty((n, len(t.roots)), dtype=np.intp)
    for start in range(0, n, CHUNK_ROWS):
        out[start:start + CHUNK_ROWS] = _descend_chunk(np.ascontiguousarray(X[start:start + CHUNK_ROWS]), t)
    return out


def _descend_chunk(X: np.ndarray, t: TreeTables) -> np.ndarray:
    m = X.shape[0]
    if m == 1 and t.members.shape[0] == 0:
        return _descend_record(X[0], t)[None, :]
    cur = np.broadcast_to(t.roots, (m, len(t.roots))).copy()
    offs = (np.arange(m, dtype=np.intp) * X.shape[1])[:, None]
    flat = X.ravel()
    has_sets = t.members.shape[0] > 0
    # Imputed inputs often hold no missing value at all: then no step needs to look for one.
    has_missing = bool(np.isnan(X).any())
    for _ in range(t.steps):
        x = flat[offs + t.feature[cur]]
        thr = t.threshold[cur]
        k = (x > thr).view(np.int8) + (x >= thr).view(np.int8)   # 0 less, 1 equal, 2 greater
        if has_sets:
            sid = t.set_id[cur]
            is_set = sid >= 0
            if is_set.any():
                # Only set tests read x as a category code; other rows may hold any number.
                valid = is_set & ~np.isnan(x) if has_missing else is_set
                codes = np.where(valid, x, -1.0).astype(np.intp) + 1
                codes = np.where((codes < 0) | (codes >= t.members.shape[1]), 0, codes)  # unseen
                k = np.where(is_set, t.members[np.maximum(sid, 0), codes], k).astype(np.int8)
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
