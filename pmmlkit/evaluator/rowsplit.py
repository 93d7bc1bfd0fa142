"""A large batch's rows evaluated in parts, one per thread, joined in order.

The batch is checked first, whole, on the calling thread: its text columns factorised a column
per core (native threads read the strings in place while this thread keeps the GIL; for every
model, split or not), the rest of the contract after. Then each part of the checked rows goes
through the plan on a thread of its own, and only the join is serial. What runs without the GIL
is the C kernels (tree descent with its sums, set-membership rows, running sums of tables and
layers); the plan's Python and its short NumPy steps between them keep it. So a batch is split
only for a model that spends most of its time in the compiled descent or in large running sums
(NativeBackend.splits_well): split in two, a logistic regression ran slower than whole (1.23x
one thread's speed against 1.29x, both with the factorisation on two threads).

The check is the same whole or in parts, and every row is evaluated on its own values only, so
the answers, the error messages and the row a raising batch names are those of one thread
(tested bit for bit, bad rows included). Checking each part on its own thread gained nothing:
their checks hold the GIL, so they only took turns at it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import EvaluationError
from .base import Scored
from .contract import Prepared
from .native.parallel import bounds, map_in_threads

if TYPE_CHECKING:
    from . import Evaluator


def parts(ev: Evaluator, n_rows: int) -> list[tuple[int, int]]:
    """The row ranges a batch of ``n_rows`` is scored in: one (all rows) unless splitting pays.

    It pays for a native model that spends most of its time in the compiled descent
    (NativeBackend.splits_well); JVM bridges score in the calling thread.
    """
    splits_well = getattr(ev.backend, "splits_well", None)
    if ev.threads == 1 or splits_well is None or not splits_well():
        return [(0, n_rows)]
    return bounds(n_rows, ev.threads)


def check_threads(ev: Evaluator, n_rows: int) -> int:
    """The threads a batch's text columns are factorised on: as many as it would have parts for
    any model (none for a small batch, where starting threads costs more than they save)."""
    return len(bounds(n_rows, ev.threads))


def evaluate_in_parts(ev: Evaluator, prepared: Prepared, labels: pd.Index, ranges: list[tuple[int, int]], *,
                      raise_errors: bool) -> Scored:
    """``evaluate_prepared`` of each part of a checked batch on its own thread, joined in order.

    With ``raise_errors``, what one call raises is raised after: the first row of the batch that
    the plan failed.
    """
    def score(rows: tuple[int, int]) -> Scored:
        a, b = rows
        return ev.evaluate_prepared(prepared.rows(a, b), labels[a:b])
    parts = map_in_threads(score, ranges, threads=len(ranges))
    if raise_errors:
        for scored in parts:
            if scored.failed.any():
                raise EvaluationError(scored.messages[int(np.argmax(scored.failed))])
    return Scored({name: _joined([p.columns[name] for p in parts]) for name in parts[0].columns},
                  np.concatenate([p.messages for p in parts]), np.concatenate([p.failed for p in parts]))


def _joined(pieces: list[Any]) -> Any:
    """One result column from its parts' (NumPy arrays, or pandas arrays for nullable types)."""
    if all(isinstance(p, np.ndarray) for p in pieces):
        return np.concatenate(pieces)
    return type(pieces[0])._concat_same_type(pieces)  # pandas' ExtensionArray join, one copy
