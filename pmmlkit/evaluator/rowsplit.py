"""A large batch scored end to end in row parts, one per thread, joined in order.

Each part goes the whole way on a thread of its own: input contract, plan, result columns.
The compiled text factorisation, the C kernels and NumPy's array loops release the GIL, so
the parts run side by side; only the join is serial. Splitting later (checked columns, or
the backend's rows) left the contract and the result columns on one thread, and for a model
whose evaluation is short (a regression, a small ensemble) that is most of the time.

Parts start at multiples of kernels.CHUNK_ROWS and every row is evaluated on its own values
only, so the answers, the error messages and which row is reported first are those of one
thread (tested bit for bit, bad rows included).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .base import Scored
from .native.parallel import bounds, map_in_threads

if TYPE_CHECKING:
    from . import Evaluator


def parts(ev: Evaluator, n_rows: int) -> list[tuple[int, int]]:
    """The row ranges a batch of ``n_rows`` is scored in: one (all rows) unless splitting pays."""
    if ev.threads == 1 or ev.backend_name != "native":  # JVM bridges score in the calling thread
        return [(0, n_rows)]
    return bounds(n_rows, ev.threads)


def score_in_parts(ev: Evaluator, df: pd.DataFrame, ranges: list[tuple[int, int]], *, raise_errors: bool) -> Scored:
    """``evaluate_prepared(contract.check_frame(df))`` of every part on its own thread, joined.

    With ``raise_errors`` every part is checked before any is evaluated: the first bad input
    row of the whole batch raises, as in one call, before any evaluation error could.
    """
    from . import first_input_error

    frames = [df.iloc[a:b] for a, b in ranges]
    prepared = map_in_threads(ev.contract.check_frame, frames, threads=len(frames))
    if raise_errors:
        for frame, checked in zip(frames, prepared):
            if checked.errors:
                raise first_input_error(ev.contract, frame, min(checked.errors))

    def evaluate(k: int) -> Scored:
        return ev.evaluate_prepared(prepared[k], frames[k].index, raise_errors=raise_errors)
    answers = map_in_threads(evaluate, range(len(frames)), threads=len(frames))
    return Scored({name: _joined([a.columns[name] for a in answers]) for name in answers[0].columns},
                  np.concatenate([a.messages for a in answers]), np.concatenate([a.failed for a in answers]))


def _joined(pieces: list[Any]) -> Any:
    """One result column from its parts' (NumPy arrays, or pandas arrays for nullable types)."""
    if all(isinstance(p, np.ndarray) for p in pieces):
        return np.concatenate(pieces)
    return type(pieces[0])._concat_same_type(pieces)  # pandas' ExtensionArray join, one copy
