"""Read, score and write at the same time, in input order, with a bounded number of chunks alive.

A reader thread reads chunks (``prefetched``), the calling thread writes results, and
``workers`` threads score. Arrow's
parsing, casts and writers and NumPy's kernels release the GIL, so the three overlap and
scoring uses every core. At most ``workers + 1`` chunks are in flight (one per worker, one
read ahead), so memory stays flat however large the input.
"""
from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

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


_END = object()
_POLL = 0.1  # seconds between checks of the stop flag while the queue is full


def prefetched(items: Iterable[T], *, depth: int = 1) -> Iterator[T]:
    """``items``, produced in a thread of their own up to ``depth`` ahead of the consumer.

    Reading the next chunk then overlaps writing the last one. The producer runs the whole
    iteration of ``items`` (so anything it pairs with an item, such as the reader's rejects,
    stays paired); its exception is raised here, in order; closing this generator early
    stops it.
    """
    slots: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                slots.put(value, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((True, _END))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer's thread, raised there
            put((False, e))

    thread = threading.Thread(target=produce, name="pmmlkit-read", daemon=True)
    thread.start()
    try:
        while True:
            ok, value = slots.get()
            if not ok:
                raise value
            if value is _END:
                return
            yield value
    finally:
        stop.set()
        thread.join()
