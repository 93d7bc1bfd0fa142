"""Graph passes over a tree's node table at compile time: repeated tests joined, depth counted.

Both work on per-node [less, equal, greater, missing] successors (terminals lead to themselves).
"""
from __future__ import annotations

import numpy as np


def thread_tests(feature: np.ndarray, threshold: np.ndarray, next4: np.ndarray) -> np.ndarray:
    """Per-node [less, equal, greater, missing] successors with repeated tests skipped.

    A test whose outcome leads to a test of the same column against the same threshold
    (PMML trees write "x <= t" then "x > t", "= v" then "!= v") already knows that test's
    outcome: it goes straight to where that test would send the row. Every row reaches the
    terminal it reached before, in about half the steps.
    """
    out = next4.copy()
    live = ~np.isnan(threshold)  # terminals have no test (NaN threshold)
    own = np.arange(len(out))
    for _ in range(len(out)):  # each pass joins one more test of a chain; chains are short
        joined = out.copy()
        for k in range(4):
            succ = out[:, k]
            same = live & live[succ] & (feature[succ] == feature) & (threshold[succ] == threshold) & (succ != own)
            joined[same, k] = out[succ[same], k]
        # Only where "equal" still goes with one side: the descent has two-way tests (two_way_tables).
        better = ((joined[:, 1] == joined[:, 0]) | (joined[:, 1] == joined[:, 2])) & (joined != out).any(axis=1)
        if not better.any():
            break
        out[better] = joined[better]
    return out


def longest_path(next4: np.ndarray, roots: list[int]) -> int:
    """1 + the longest root-to-terminal path: level after level over the DAG (terminals loop to themselves)."""
    frontier, steps = np.unique(np.asarray(roots, dtype=np.intp)), 1
    while True:
        succ = next4[frontier].ravel()
        succ = np.unique(succ[succ != np.repeat(frontier, next4.shape[1])])
        if not len(succ):
            return steps
        frontier, steps = succ, steps + 1
