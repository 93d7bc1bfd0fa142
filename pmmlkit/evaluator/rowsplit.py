"""A large batch scored end to end in row parts, one per thread, joined in order.

The batch's text columns are factorised first, once, a column per core (their strings read in
place by native threads while this thread keeps the GIL). Then each part goes the whole way on
a thread of its own: input contract (with its slice of the codes), plan, result columns,
without waiting for the others; only the join is serial. What runs without the GIL is the C
kernels (tree descent, set-membership rows, terminal sums); NumPy's element-wise loops at these
sizes and the contract's Python keep it. So a batch is split only for a model that spends most
of its time in the compiled descent (NativeBackend.splits_well): split in two, a logistic
regression ran slower than on one thread.

Parts start at multiples of kernels.CHUNK_ROWS and every row is evaluated on its own values
only, so the answers, the error messages and the row a raising batch names are those of one
thread (tested bit for bit, bad rows included).
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


def score_in_parts(ev: Evaluator, df: pd.DataFrame, ranges: list[tuple[int, int]], *, raise_errors: bool) -> Scored:
    """``evaluate_prepared(contract.check_frame(df))`` of every part on its own thread, joined.

    Each part is checked and evaluated on its thread without waiting for the others (one part's
    GIL-bound checks run beside another's descent). With ``raise_errors`` what one call raises is
    raised after: the first bad input row of the whole batch, else its first row the plan failed.
    """
    from . import first_input_error

    # Text columns once, here, a column per core: a part's own pass over its strings would hold
    # the GIL (or copy them into a list to drop it, which costs as much), so the parts' checks
    # could only take turns at it.
    text = ev.contract.factorize_text_columns(df, len(ranges))

    def score(rows: tuple[int, int]) -> tuple[pd.DataFrame, Prepared, Scored]:
        a, b = rows
        frame = df.iloc[a:b]
        prepared = ev.contract.check_frame(frame, {k: (codes[a:b], uniques) for k, (codes, uniques) in text.items()})
        return frame, prepared, ev.evaluate_prepared(prepared, frame.index)
    answers = map_in_threads(score, ranges, threads=len(ranges))
    if raise_errors:
        for frame, prepared, _ in answers:
            if prepared.errors:
                raise first_input_error(ev.contract, frame, min(prepared.errors))
        for _, _, scored in answers:
            if scored.failed.any():
                raise EvaluationError(scored.messages[int(np.argmax(scored.failed))])
    parts = [scored for _, _, scored in answers]
    return Scored({name: _joined([p.columns[name] for p in parts]) for name in parts[0].columns},
                  np.concatenate([p.messages for p in parts]), np.concatenate([p.failed for p in parts]))


def _joined(pieces: list[Any]) -> Any:
    """One result column from its parts' (NumPy arrays, or pandas arrays for nullable types)."""
    if all(isinstance(p, np.ndarray) for p in pieces):
        return np.concatenate(pieces)
    return type(pieces[0])._concat_same_type(pieces)  # pandas' ExtensionArray join, one copy
