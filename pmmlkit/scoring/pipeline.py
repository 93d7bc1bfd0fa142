"""Read, score and write at the same time, in input order, with a bounded number of chunks alive.

The calling thread reads chunks and writes results; ``workers`` threads score. Arrow's
parsing, casts and writers and NumPy's kernels release the GIL, so the three overlap and
scoring uses every core. At most ``workers + 1`` chunks are in flight (one per worker, one
read ahead), so memory stays flat however large the input.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int) -> Iterator[R]:
    """``fn`` over ``items`` in ``workers`` threads; results in the order of ``items``.

    The first exception (in input order) propagates; chunks not yet started are dropped.
    ``workers=0`` calls ``fn`` in the calling thread, one item at a time.
    """
    if workers == 0:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pmmlkit-score") as pool:
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                while len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
