"""Adaptive request batching, as TF Serving's: concurrent requests scored as one native batch.

Requests for the same loaded version that arrive within ``--batch-timeout-micros`` of the
first one waiting (or until ``--max-batch-size`` records wait) are joined into one call of
``Evaluator.predict_records`` and the answers split back. Every request gets exactly the
answer it would get alone: records are scored independently, each request's records keep
their own row numbers (errors name ``row 0`` of *that* request), and a failure of the whole
call (a JVM that died, a timeout) fails each request of the batch with that error.

A timeout of 0 adds no deliberate wait: the batch closes once the event loop has polled its
sockets one more time, so it holds whatever requests had already arrived (under load, many
are read in one turn). uvloop's timers count whole milliseconds, so under ``pmmlkit serve``
a timeout below 1 ms behaves as 0.

A batch that ``now`` scores on the event loop (the scoring core's rule: a native backend,
few records, no ``--timeout``) is scored in the callback that closes it, rather than in
a task of its own that would start one loop turn later.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..evaluator.records import Answers
from .models import LoadedVersion

# Scores the joined records of one batch on a version: (loaded, records, rows) -> Answers.
Run = Callable[[LoadedVersion, list[dict[str, Any]], list[int]], Awaitable[Answers]]
# The same, right away on the event loop, when that is cheaper than ``Run``; None: use ``Run``.
Now = Callable[[LoadedVersion, list[dict[str, Any]], list[int]], Answers | None]
Items = list[tuple[Sequence[dict[str, Any]], asyncio.Future[Answers]]]


@dataclass
class _Waiting:
    """The requests waiting for one version, and when they are scored."""

    items: Items = field(default_factory=list)
    records: int = 0
    timer: asyncio.Handle | None = None


class Batcher:
    """Joins concurrent requests per loaded version; ``max_records`` bounds one batch."""

    def __init__(self, run: Run, *, timeout_micros: int, max_records: int, now: Now | None = None):
        self._run = run
        self._now = now
        self.timeout = timeout_micros / 1e6
        self.max_records = max_records
        self._waiting: dict[LoadedVersion, _Waiting] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # running batches (the loop keeps weak refs only)
        self.batches = 0  # batches scored, and requests in them (tests, metrics)
        self.requests = 0

    async def score(self, loaded: LoadedVersion, records: Sequence[dict[str, Any]]) -> Answers:
        """The answers to ``records``, scored together with whatever else is waiting for ``loaded``."""
        if len(records) >= self.max_records:  # a batch on its own already
            return await self._run(loaded, list(records), list(range(len(records))))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answers] = loop.create_future()
        waiting = self._waiting.setdefault(loaded, _Waiting())
        if waiting.records + len(records) > self.max_records:
            self._flush(loaded)  # this request would overflow the batch: it starts the next one
            waiting = self._waiting.setdefault(loaded, _Waiting())
        waiting.items.append((records, future))
        waiting.records += len(records)
        if waiting.records >= self.max_records:
            self._flush(loaded)
        elif waiting.timer is None:
            # Even at 0 a timer, not call_soon: the loop polls the sockets once more before
            # timers fire, so requests that arrived meanwhile join this batch.
            waiting.timer = loop.call_later(self.timeout, self._flush, loaded)
        return await future

    def _flush(self, loaded: LoadedVersion) -> None:
        waiting = self._waiting.pop(loaded, None)
        if waiting is None:
            return
        if waiting.timer is not None:
            waiting.timer.cancel()
        if self._now is not None:
            records, rows = _joined(waiting.items)
            try:
                answers = self._now(loaded, records, rows)
            except Exception as e:  # noqa: BLE001 - the whole call failed: so does every request in it
                self._count(waiting.items)
                _fail(waiting.items, e)
                return
            if answers is not None:
                self._count(waiting.items)
                _answer(waiting.items, answers)
                return
        task = asyncio.ensure_future(self._score(loaded, waiting.items))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _count(self, items: Items) -> None:
        self.batches += 1
        self.requests += len(items)

    async def _score(self, loaded: LoadedVersion, items: Items) -> None:
        records, rows = _joined(items)
        self._count(items)
        try:
            answers = await self._run(loaded, records, rows)
        except Exception as e:  # noqa: BLE001 - the whole call failed: so does every request in it
            _fail(items, e)
            return
        _answer(items, answers)


def _joined(items: Items) -> tuple[list[dict[str, Any]], list[int]]:
    """The records of a batch's requests, and each one's row number within its own request."""
    records = [r for recs, _ in items for r in recs]
    rows = [i for recs, _ in items for i in range(len(recs))]
    return records, rows


def _fail(items: Items, e: Exception) -> None:
    for _, future in items:
        if not future.done():
            future.set_exception(e)


def _answer(items: Items, answers: Answers) -> None:
    start = 0
    for recs, future in items:
        end = start + len(recs)
        if not future.done():  # a request whose client left is cancelled: nothing to answer
            future.set_result(Answers(answers.results[start:end], answers.errors[start:end]))
        start = end
