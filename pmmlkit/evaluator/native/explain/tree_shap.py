"""Exact interventional TreeSHAP over the bit patterns of tree paths (see tree_paths.py).

On a path with players (input fields) f_1..f_k, a row x has a k-bit pattern xo (bit i: x
takes the path's route at every test on f_i), a background row z one (zo). The mix of
the two that takes the fields S from x and the rest from z follows the path iff every f_i
in S has its bit in xo and every other one in zo. So where xo | zo has every bit, the
path adds v * [A within S] * [B outside S] to the game, with A = xo & ~zo (fields that
must come from x) and B = zo & ~xo (from z), and its Shapley values are

    v * (|A|-1)! |B|! / (|A|+|B|)!  to each field of A,   -v * |A|! (|B|-1)! / (|A|+|B|)!  to each of B

(nothing when A and B are empty); where xo | zo misses a bit, no mix follows the path.
This is the recursion of "independent" TreeSHAP (Lundberg et al. 2020, shap's
``feature_perturbation="interventional"``), regrouped: a path's mean over the background
depends only on how many background rows have each pattern, so per path
``share[xo, i] = sum over zo of count(zo) * W[xo, zo, i] * v / m`` is computed once per
background (a matrix product for short paths) and looked up for every explained row.
"""
from __future__ import annotations

import functools
from math import comb

import numpy as np

from .tree_paths import MAX_PLAYERS, PathTable

K_TABLE = 7  # paths with at most this many players use a [2^k, 2^k] pattern table; longer ones pair up rows


@functools.lru_cache(maxsize=1)
def _coefficients() -> tuple[np.ndarray, np.ndarray]:
    """[a, b] Shapley weights for a field of A (|A| = a) and of B (|B| = b)."""
    size = MAX_PLAYERS + 1
    pos, neg = np.zeros((size, size)), np.zeros((size, size))
    for a in range(size):
        for b in range(size - a):
            if a:  # (a-1)! b! / (a+b)! = 1 / (a * C(a+b, a))
                pos[a, b] = 1.0 / (a * comb(a + b, a))
            if b:
                neg[a, b] = 1.0 / (b * comb(a + b, b))
    return pos, neg


def pair_weights(xo: np.ndarray, zo: np.ndarray, k: int) -> np.ndarray:
    """[len(xo), len(zo), k] Shapley weight of each slot for each pair of patterns (0 where no mix follows)."""
    pos, neg = _coefficients()
    x, z = xo[:, None].astype(np.int64), zo[None, :].astype(np.int64)
    valid = (x | z) == (1 << k) - 1
    shifts = np.arange(k, dtype=np.int64)
    in_a = ((x & ~z)[..., None] >> shifts) & 1
    in_b = ((z & ~x)[..., None] >> shifts) & 1
    a, b = in_a.sum(axis=-1), in_b.sum(axis=-1)
    w = in_a * pos[a, b][..., None] - in_b * neg[a, b][..., None]
    return np.where(valid[..., None], w, 0.0)


@functools.lru_cache(maxsize=K_TABLE + 1)
def _grid(k: int) -> np.ndarray:
    """[2^k (zo), 2^k * k (xo, slot)]: counts of background patterns times this give the shares."""
    every = np.arange(1 << k, dtype=np.int64)
    return np.ascontiguousarray(pair_weights(every, every, k).transpose(1, 0, 2).reshape(1 << k, -1))


def raw_scores(table: PathTable, codes: np.ndarray) -> np.ndarray:
    """[rows] the sum of the values of the paths each row follows (all of its bits set)."""
    if not len(table.k):
        return np.full(codes.shape[1], table.constant)
    followed = codes == ((np.int64(1) << table.k.astype(np.int64)) - 1)[:, None]
    return np.where(followed, table.value[:, None], 0.0).sum(axis=0) + table.constant


class Background:
    """A background's pattern counts folded into per-path share tables; ``shares`` explains rows with them."""

    def __init__(self, table: PathTable, codes: np.ndarray, n_players: int):
        self.table, self.n_players = table, n_players
        m = codes.shape[1]
        finite = np.isfinite(table.value)
        # per number of players k: (slot players, [slots, paths, 2^k] shares, path indices)
        self.grids: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.pairs: list[tuple[int, np.ndarray, np.ndarray]] = []  # long paths: (path, patterns, weights)
        # Paths to no prediction (NaN): which row patterns some background row mixes with to follow them.
        self.reach: list[tuple[np.ndarray, np.ndarray]] = []  # ([paths, 2^k] reached, path indices)
        self.reach_pairs: list[tuple[int, np.ndarray]] = []  # long ones: (path, background patterns)
        for k in (int(k) for k in np.unique(table.k)):
            short = np.flatnonzero((table.k == k) & finite)
            undefined = np.flatnonzero((table.k == k) & ~finite)
            if k > K_TABLE:
                for p in short:
                    patterns, counts = np.unique(codes[p], return_counts=True)
                    self.pairs.append((int(p), patterns, counts * (table.value[p] / m)))
                self.reach_pairs += [(int(p), np.unique(codes[p])) for p in undefined]
                continue
            if len(short):
                shares = (_counts(codes[short], k) @ _grid(k)).reshape(len(short), 1 << k, k)
                shares *= (table.value[short] / m)[:, None, None]
                self.grids.append((table.players[short, :k], np.ascontiguousarray(shares.transpose(2, 0, 1)), short))
            if len(undefined):
                self.reach.append(((_counts(codes[undefined], k) > 0) @ _covers(k) > 0, undefined))

    def shares(self, codes: np.ndarray) -> np.ndarray:
        """[players, rows] the Shapley value of every input field for rows with path patterns ``codes``."""
        out = np.zeros((self.n_players, codes.shape[1]))
        for players, shares, paths in self.grids:
            rows = codes[paths]
            for slot in range(len(shares)):
                _add_by_player(out, players[:, slot], np.take_along_axis(shares[slot], rows, axis=1))
        for p, patterns, weights in self.pairs:
            k = int(self.table.k[p])
            seen, inverse = np.unique(codes[p], return_inverse=True)
            per_slot = np.einsum("xzi,z->ix", pair_weights(seen, patterns, k), weights)
            out[self.table.players[p, :k]] += per_slot[:, inverse]
        # A mix of the row and some background row ends without a prediction: no game, no values.
        undefined = np.zeros(codes.shape[1], dtype=bool)
        for reached, paths in self.reach:
            undefined |= np.take_along_axis(reached, codes[paths], axis=1).any(axis=0)
        for p, patterns in self.reach_pairs:
            full = (1 << int(self.table.k[p])) - 1
            undefined |= ((codes[p][:, None] | patterns[None, :]) == full).any(axis=1)
        out[:, undefined] = np.nan
        return out


def _counts(codes: np.ndarray, k: int) -> np.ndarray:
    """[paths, 2^k] how many rows have each pattern, from [paths, rows] patterns."""
    flat = codes.astype(np.int64) + (np.arange(len(codes), dtype=np.int64) << k)[:, None]
    return np.bincount(flat.ravel(), minlength=len(codes) << k).reshape(len(codes), 1 << k)


@functools.lru_cache(maxsize=K_TABLE + 1)
def _covers(k: int) -> np.ndarray:
    """[2^k (zo), 2^k (xo)] whether the two patterns together have every bit (a mix can follow the path)."""
    every = np.arange(1 << k)
    return (every[:, None] | every[None, :]) == (1 << k) - 1


def _add_by_player(out: np.ndarray, players: np.ndarray, values: np.ndarray) -> None:
    """out[players[j]] += values[j] for every path j (players repeat: summed per player).

    A masked sum per player measured 10-20x faster than a sort with np.add.reduceat, and than a
    0/1 matrix product, on [40,000 paths, 512 rows].
    """
    for player in np.unique(players):
        out[player] += values[players == player].sum(axis=0)
