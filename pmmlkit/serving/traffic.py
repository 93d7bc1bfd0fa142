"""Canary and shadow traffic by label: ``--canary ctr@candidate=10%``, ``--shadow ctr@candidate``.

Both read the label from the repository's current labels at every request, so they follow
``pmmlkit models label`` like everything else: move the label and the next request goes
(or is shadowed) to the new version; remove it and the traffic stays on the primary.

* Canary: an *unpinned* request (no version, no label in its path) goes to the canary's
  label with the given probability. Pinned requests are never moved.
* Shadow: a scoring request is scored on the shadow label's version as well, after its own
  answer is built; only the primary's answer is returned. Per output field, the server
  counts the records both versions answered, the sum of |delta| of numeric outputs (mean =
  sum / count) and the label flips of categorical ones (metrics.py). At most
  ``MAX_SHADOWS_IN_FLIGHT`` shadow calls run at once: past that a request is not shadowed
  and ``pmmlkit_serving_shadow_skipped_total`` says so, so a slow candidate never piles up work.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import random
from collections.abc import Awaitable, Callable, Container
from typing import Any

from ..errors import ModelNotFoundError
from ..pmml.fields import Field
from .metrics import Metrics

log = logging.getLogger(__name__)
MAX_SHADOWS_IN_FLIGHT = 64
_NUMERIC = ("double", "float", "integer")


class CanaryRouter:
    """Which label an unpinned request goes to."""

    def __init__(self, canaries: dict[str, tuple[str, float]], *, rng: random.Random | None = None):
        self.canaries = canaries
        self.rng = rng or random.Random()

    def label(self, name: str, labels: dict[str, int], loaded: Container[int]) -> str | None:
        """The canary label for this request (its share of the draws), or None: the primary."""
        canary = self.canaries.get(name)
        if canary is None or labels.get(canary[0]) not in loaded:  # no canary, or its version is gone
            return None
        return canary[0] if self.rng.random() < canary[1] else None


class Shadow:
    """Scores requests on a shadow label in the background and counts how the answers differ."""

    def __init__(self, shadows: dict[str, str], metrics: Metrics):
        self.shadows = shadows
        self.metrics = metrics
        self._tasks: set[asyncio.Task[None]] = set()

    def label(self, name: str) -> str | None:
        return self.shadows.get(name)

    def start(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` (a shadow call) in the background, unless too many already run."""
        if len(self._tasks) >= MAX_SHADOWS_IN_FLIGHT:
            self.metrics.shadow_skipped.labels(name, "busy").inc()
            return
        # A fresh context: the shadow call must not relabel the request's own metrics.
        task = asyncio.get_running_loop().create_task(self._guarded(name, work), context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except ModelNotFoundError:  # the label points at a version not loaded (yet): nothing to compare
            self.metrics.shadow_skipped.labels(name, "not_loaded").inc()
        except Exception as e:  # noqa: BLE001 - a failing shadow never touches the primary's answer
            self.metrics.shadow_skipped.labels(name, "failed").inc()
            log.warning("shadow scoring of %s failed: %s: %s", name, type(e).__name__, e)

    async def drain(self) -> None:
        """Wait for the shadow calls running now (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def compare(self, name: str, *, version: int, shadow_version: int, fields: tuple[Field, ...],
                primary: list[dict[str, Any] | None], shadow: list[dict[str, Any] | None]) -> None:
        """Count the divergence of ``shadow`` from ``primary``, record by record, output by output."""
        m = self.metrics
        m.shadow_records.labels(name, str(version), str(shadow_version)).inc(len(primary))
        both = [(a, b) for a, b in zip(primary, shadow) if a is not None and b is not None]
        mismatched = sum(1 for a, b in zip(primary, shadow) if (a is None) != (b is None))
        if mismatched:
            m.shadow_error_mismatches.labels(name).inc(mismatched)
        for f in fields:
            pairs = [(a[f.name], b[f.name]) for a, b in both if f.name in a and f.name in b]
            if not pairs:
                continue
            numeric = f.data_type in _NUMERIC and f.op_type == "continuous"
            if numeric:
                deltas = [abs(x - y) for x, y in pairs if _number(x) and _number(y)]
                flips = sum(1 for x, y in pairs if _number(x) != _number(y))
                m.shadow_abs_delta.labels(name, f.name).inc(math.fsum(deltas))
            else:
                flips = sum(1 for x, y in pairs if x != y)
            m.shadow_compared.labels(name, f.name).inc(len(pairs))
            if flips:
                m.shadow_flips.labels(name, f.name).inc(flips)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
