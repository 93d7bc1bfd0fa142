"""The two timings every benchmark takes: the median of repeated calls, and per-record latency."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


def median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def record_latency_us(predict: Callable[[Any], Any], records: Sequence[Any], *, warm: int = 50
                      ) -> tuple[float, float]:
    """(p50, p99) in µs of ``predict(record)`` over ``records``, after ``warm`` warm-up calls."""
    for r in records[:warm]:
        predict(r)
    lat = []
    for r in records:
        start = time.perf_counter()
        predict(r)
        lat.append(time.perf_counter() - start)
    lat.sort()
    return lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6
