"""The process's pool of scoring threads, and how a large batch is cut into row parts for it.

The compiled tree kernels release the GIL, so threads of one process share a batch without
copying the model (the Evaluator's rowsplit.py evaluates each part of a checked batch on one).
Parts start at multiples of kernels.CHUNK_ROWS, the rows the tree kernels take at a time, so
every row meets the very same arithmetic as in a single-threaded call: the answers are
identical, bit for bit.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ...errors import ConfigError
from .kernels import CHUNK_ROWS

T = TypeVar("T")
R = TypeVar("R")
MIN_ROWS_PER_THREAD = 16 * CHUNK_ROWS  # below ~8k rows a thread costs more than it saves

_pool: tuple[ThreadPoolExecutor, int] | None = None  # (pool, workers), shared by every evaluator
_pool_lock = threading.Lock()
_PREFIX = "pmmlkit-native"


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_threads(threads: int | None) -> int:
    """``threads=`` of an Evaluator: None means every core this process may use."""
    if threads is None:
        return cores()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"threads={threads!r}; expected a whole number of threads >= 1 (or None: all cores)")
    return threads


def _executor(workers: int) -> ThreadPoolExecutor:
    """The process's pool, grown when an evaluator asks for more threads. Its tasks never wait on it."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[1] < workers:
            if _pool is not None:
                _pool[0].shutdown(wait=False)  # its running chunks finish; new ones go to the larger pool
            _pool = (ThreadPoolExecutor(max_workers=workers, thread_name_prefix=_PREFIX), workers)
        return _pool[0]


def _forget_pool() -> None:
    global _pool
    _pool = None  # a forked child has none of its parent's threads: it starts a pool of its own


os.register_at_fork(after_in_child=_forget_pool)


def in_pool() -> bool:
    """Whether the caller runs on one of the pool's threads (its work runs beside others')."""
    return threading.current_thread().name.startswith(_PREFIX)


def map_in_threads(fn: Callable[[T], R], items: Sequence[T], *, threads: int) -> list[R]:
    """``[fn(item) for item in items]``, on up to ``threads`` threads of the shared pool.

    For work that is mostly GIL-free (the row parts of a split batch, rowsplit.py); the first
    failure propagates, as in the loop. Called from a pool thread it runs the loop there: a
    task never waits on the pool it runs in.
    """
    if threads <= 1 or len(items) <= 1 or in_pool():
        return [fn(item) for item in items]
    futures = [_executor(min(threads, len(items))).submit(fn, item) for item in items]
    return [f.result() for f in futures]


def bounds(n_rows: int, threads: int) -> list[tuple[int, int]]:
    """Row ranges for up to ``threads`` workers, each starting at a multiple of CHUNK_ROWS."""
    parts = min(threads, n_rows // MIN_ROWS_PER_THREAD)
    if parts <= 1:
        return [(0, n_rows)]
    step = -(-n_rows // parts)
    step = -(-step // CHUNK_ROWS) * CHUNK_ROWS
    return [(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]
