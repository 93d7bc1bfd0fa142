"""Shared array kernels: vectorized tree descent and the small output transforms."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import compiled

# One node for the compiled descent (_ckernels.c's Node): children by node index.
NODE_DTYPE = np.dtype([("threshold", "f8"), ("feature", "i4"), ("left", "i4"), ("right", "i4"),
                       ("missing", "i4")], align=True)


@dataclass(frozen=True)
class TreeTables:
    """Flattened trees as two-way tests, for descending many rows through many trees at once.

    A row goes right when x > threshold, left otherwise, and to the missing branch when x
    is NaN. Node i is addressed as 2*i: its child for outcome k (0 left, 1 right) is
    ``next_[2*i + k]``, so a step needs no multiply; ``feature``, ``threshold`` and
    ``missing`` hold each node's entry twice to be indexed the same way. Children are stored
    doubled too. Terminals lead to themselves, so a fixed number of steps finishes every tree.
    """

    feature: np.ndarray    # intp [2 * nodes]: row of X tested
    threshold: np.ndarray  # float64 [2 * nodes]
    next_: np.ndarray      # intp [2 * nodes]: doubled child for outcome k at 2 * node + k
    missing: np.ndarray    # intp [2 * nodes]: doubled child for a missing value
    roots: np.ndarray      # intp [trees], doubled
    steps: int             # longest root-to-terminal path
    nodes: np.ndarray      # NODE_DTYPE [nodes]: the same tables, one record per node (compiled kernels)
    columns: int           # rows XT must have: 1 + the largest feature tested


def two_way_tables(feature: np.ndarray, threshold: np.ndarray, next4: np.ndarray, roots: np.ndarray,
                   steps: int) -> TreeTables:
    """TreeTables from per-node [less, equal, greater, missing] successors.

    Every test must send "equal" one way with "less" or with "greater": x >= t becomes
    x > (the float just below t). Tests bounded by -inf never see a smaller value.
    """
    less, equal, greater, miss = (np.asarray(c, dtype=np.intp) for c in next4.T)
    low = (equal == greater) & (less != equal)
    if ((less != equal) & (equal != greater)).any():
        raise ValueError("a tree test tells equal apart from both sides")
    thr = np.where(low, np.nextafter(threshold, -np.inf), threshold)
    left = np.where(low & (threshold == -np.inf), greater, less)
    next_ = np.empty(2 * len(less), dtype=np.intp)
    next_[0::2], next_[1::2] = 2 * left, 2 * greater
    feature = np.asarray(feature, dtype=np.intp)
    if len(less) >= 2 ** 30 or (len(feature) and (feature.min() < 0 or feature.max() >= 2 ** 31)):
        raise ValueError("a forest of over 2**30 nodes or a feature id outside [0, 2**31)")
    nodes = np.zeros(len(less), dtype=NODE_DTYPE)
    nodes["threshold"], nodes["feature"] = thr, feature
    nodes["left"], nodes["right"], nodes["missing"] = left, greater, miss
    return TreeTables(np.repeat(feature, 2), np.repeat(thr, 2), next_, np.repeat(2 * miss, 2),
                      2 * np.asarray(roots, dtype=np.intp), steps, nodes,
                      int(feature.max()) + 1 if len(feature) else 1)


CHUNK_ROWS = 512  # rows per pass: keeps the [rows, trees] working set in cache


def descend(XT: np.ndarray, t: TreeTables) -> np.ndarray:
    """Terminal (doubled node id) of every (row, tree), all rows and trees at once: [rows, trees].

    ``XT`` is [columns, rows] (one contiguous row per column), so extra columns stack cheaply.
    """
    n = XT.shape[1]
    ckernels = compiled.kernels()
    if ckernels is not None:
        if XT.shape[0] < t.columns:  # the C loop trusts every feature id to index a row of XT
            raise ValueError(f"descend: XT has {XT.shape[0]} rows; the trees test {t.columns}")
        out = np.empty((n, len(t.roots)), dtype=np.int64)
        ckernels.descend(np.ascontiguousarray(XT, dtype=np.float64), n, t.nodes,
                         t.roots.astype(np.int64, copy=False), t.steps, out)
        return out
    if n == 1:
        return _descend_record(XT[:, 0], t)[None, :]
    out = np.empty((n, len(t.roots)), dtype=np.intp)
    for start in range(0, n, CHUNK_ROWS):
        out[start:start + CHUNK_ROWS] = _descend_chunk(np.ascontiguousarray(XT[:, start:start + CHUNK_ROWS]), t)
    return out


def descend_sums(XT: np.ndarray, t: TreeTables, values: np.ndarray) -> np.ndarray:
    """[rows, columns]: column c sums ``values[node, c]`` at every tree's terminal node, tree after
    tree from 0.0, as sum_terminals of ``descend`` (whose ids are doubled). Compiled kernels only:
    one pass, without the [rows, trees] terminals between descent and sums."""
    ckernels = compiled.kernels()
    if ckernels is None:
        raise RuntimeError("descend_sums needs the compiled kernels")
    if XT.shape[0] < t.columns:  # the C loop trusts every feature id to index a row of XT
        raise ValueError(f"descend_sums: XT has {XT.shape[0]} rows; the trees test {t.columns}")
    n = XT.shape[1]
    out = np.empty((n, values.shape[1]), dtype=np.float64)
    ckernels.descend_sums(np.ascontiguousarray(XT, dtype=np.float64), n, t.nodes, t.roots.astype(np.int64, copy=False),
                          t.steps, values, values.shape[1], out)
    return out


class RunningSums:
    """Outputs that each add their terms in order, from +0.0: regression tables, neural layers and
    support vector machines in JPMML-Evaluator's order, for the compiled kernel (``weighted_sums``).

    Each step rounds as NumPy's element-wise ``acc += w * x`` does, so a program gives the bits
    of the NumPy loops it stands for. Terms read the inputs by position in the list the call
    gets: ``scaled`` adds weight x input, ``lookup`` a category's entry of a block (an input of
    codes; NaN and -1 read entry 0, as ``block.take(fmax(code, -1) + 1)``), ``plain`` the input
    as it is (a column computed in NumPy), ``constant`` a number, ``squared_distance`` the
    square of input - center.
    """

    def __init__(self) -> None:
        self._terms: list[tuple[int, int, int, int]] = []
        self._weights: list[float] = []
        self._ends: list[int] = []
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # at the first call

    def scaled(self, at: int, weight: float) -> None:
        self._add(0, at, [weight])

    def lookup(self, at: int, block: np.ndarray) -> None:
        self._add(1, at, block.tolist())

    def constant(self, value: float) -> None:
        self._add(2, 0, [value])

    def plain(self, at: int) -> None:
        self._add(3, at, [0.0])

    def squared_distance(self, at: int, center: float) -> None:
        """(input - center) ** 2, as NumPy's ``d = x - c; d * d``: a radial basis kernel's term."""
        self._add(4, at, [center])

    def end_output(self) -> None:
        self._ends.append(len(self._terms))

    @property
    def terms(self) -> int:
        """Terms a row adds: the program's work per row."""
        return len(self._terms)

    def _add(self, kind: int, at: int, weights: list[float]) -> None:
        self._terms.append((kind, at, len(self._weights), len(weights)))
        self._weights.extend(weights)

    def __call__(self, inputs: list[np.ndarray], n: int) -> np.ndarray:
        """[n, outputs] of float64 ``inputs`` (n rows each, any stride); compiled kernels only."""
        ckernels = compiled.kernels()
        if ckernels is None:
            raise RuntimeError("RunningSums needs the compiled kernels")
        if self._arrays is None:
            self._arrays = (np.array(self._terms, dtype=np.int64).reshape(-1, 4),
                            np.array(self._ends, dtype=np.int64), np.array(self._weights or [0.0]))
        out = np.empty((n, len(self._ends)), dtype=np.float64)
        ckernels.weighted_sums(inputs, n, *self._arrays, out)
        return out


def _descend_chunk(XT: np.ndarray, t: TreeTables) -> np.ndarray:
    m = XT.shape[1]
    flat = XT.ravel()
    at = t.feature * m  # where each node's column starts in ``flat``
    rows = np.arange(m, dtype=np.intp)[:, None]
    cur = np.tile(t.roots, (m, 1))
    # Imputed inputs often hold no missing value at all: then no step needs to look for one.
    has_missing = bool(np.isnan(flat).any())
    for _ in range(t.steps):
        x = flat.take(at.take(cur) + rows)
        nxt = t.next_.take(cur + (x > t.threshold.take(cur)))
        cur = np.where(np.isnan(x), t.missing.take(cur), nxt) if has_missing else nxt
    return cur


def _descend_record(x_row: np.ndarray, t: TreeTables) -> np.ndarray:
    """One row through every tree: the same steps with the fewest NumPy calls (service latency)."""
    cur = t.roots
    has_missing = bool(np.isnan(x_row).any())
    for _ in range(t.steps):
        x = x_row.take(t.feature.take(cur))
        nxt = t.next_.take(cur + (x > t.threshold.take(cur)))
        cur = np.where(np.isnan(x), t.missing.take(cur), nxt) if has_missing else nxt
    return cur


def sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax of [rows, classes], as JPMML computes it: exp(x - max) never overflows, and
    the exponentials add class after class from 0 (NumPy's pairwise sum differs from 8 classes on).

    An infinite value (a coefficient of 1e308 times 2) gives inf - inf: NaN probabilities,
    as in JPMML; ``java_winner`` then picks the label JPMML picks.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(x - _row_max(x)[:, None])
        return e / running_sum(e)[:, None]


def _row_max(x: np.ndarray) -> np.ndarray:
    """np.max(x, axis=1) (NaN wins), column after column: several times faster for a few columns."""
    if x.shape[1] == 0:
        return np.max(x, axis=1)  # raises as np.max does
    top = x[:, 0]
    for k in range(1, x.shape[1]):
        top = np.maximum(top, x[:, k])
    return top


def running_sum(values: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """Row sums of [rows, columns], column after column (Java's order, not NumPy's pairwise one)."""
    acc: np.ndarray = np.zeros(len(values), dtype=dtype)
    for column in values.T:
        acc = acc + column
    return acc


def java_winner(probs: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The predicted label's index as JPMML-Evaluator chooses it; -1 where a score is missing.

    JPMML keeps the first entry that compares greater (Double.compare), and Java orders NaN
    above every number: the first NaN probability wins, else the first largest one.
    """
    nan = np.isnan(probs)
    if not nan.any():  # the common case, in two NumPy calls (the record path counts them)
        if probs.shape[1] == 2 and len(probs) > 1:  # argmax along 2 columns is ~8x slower than this
            return (probs[:, 1] > probs[:, 0]).astype(np.intp)
        return probs.argmax(axis=1)
    idx = np.where(nan.any(axis=1), np.argmax(nan, axis=1), np.argmax(np.where(nan, -np.inf, probs), axis=1))
    return np.where(np.isnan(scores).any(axis=1), -1, idx)  # a missing input: no prediction at all


def probit(x: np.ndarray) -> np.ndarray:
    # NumPy has no erf; probit links are rare, so a scalar loop is fine here.
    return np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in np.ravel(x)]).reshape(np.shape(x))


def cloglog(x: np.ndarray) -> np.ndarray:
    return 1.0 - np.exp(-np.exp(x))


def loglog(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.exp(-x))


def cauchit(x: np.ndarray) -> np.ndarray:
    return 0.5 + np.arctan(x) / np.pi


INVERSE_LINKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "logit": sigmoid, "probit": probit, "cloglog": cloglog, "loglog": loglog, "cauchit": cauchit,
    "exp": np.exp, "none": lambda x: x, "identity": lambda x: x, "log": np.exp}
