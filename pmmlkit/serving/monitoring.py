"""What the server records of its traffic: sampled request logs and live drift per input field.

Both stay off the request path. A scored request only appends its records to a bounded
queue; a background thread drains it every ``DRAIN_SECONDS``, writes the sampled lines
(--log-requests) and feeds each version's DriftMonitor, built from the training profile
published with the version (a version without one is not monitored). Prometheus then reads:

* ``pmmlkit_serving_input_psi{model,version,field}``: PSI of the last 10,000 records per field
  against training (with several workers, the largest worker's value);
* ``pmmlkit_serving_unseen_values_total{model,version,field}``: records carrying a category that
  training never saw (the ``tablet`` that used to be scored without a trace).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..errors import PmmlkitError
from ..insight.monitor import DriftMonitor
from ..insight.profile import Profile
from ..insight.requestlog import RequestLog
from ..insight.store import PROFILE
from ..repository.store import Repository, Version
from .metrics import Metrics

log = logging.getLogger(__name__)

DRAIN_SECONDS = 0.5
QUEUE_RECORDS = 100_000  # records waiting for the drain; beyond, requests are not observed (counted)


@dataclass(frozen=True)
class Observed:
    version: Version
    latency_ms: float
    records: list[dict[str, Any]]
    results: list[dict[str, Any] | None]
    errors: list[str | None]


class Monitoring:
    """The request log (optional) and the drift monitors of every served version."""

    def __init__(self, repository: Repository, metrics: Metrics, *, log_dir: str | None = None,
                 log_sample: float = 0.1, drift: bool = True):
        self.repository, self.metrics, self.drift = repository, metrics, drift
        self.request_log = RequestLog(log_dir, sample=log_sample) if log_dir else None
        self._queue: deque[Observed] = deque()
        self._queued = 0
        self._monitors: dict[tuple[str, int], DriftMonitor | None] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.skipped = 0

    @property
    def enabled(self) -> bool:
        return self.drift or self.request_log is not None

    def start(self) -> None:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pmmlkit-monitoring", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.drain()
        if self.request_log is not None:
            self.request_log.close()

    def wants(self, version: Version) -> bool:
        """Is there anything to record of ``version``'s requests? (No log, no profile: nothing.)"""
        return self.request_log is not None or (self.drift and PROFILE in version.manifest.files)

    def observe(self, version: Version, latency_ms: float, records: list[dict[str, Any]],
                results: list[dict[str, Any] | None], errors: list[str | None]) -> None:
        """Queue one request's records (cheap: the work happens in the drain)."""
        if not records:
            return
        with self._lock:
            if self._queued + len(records) > QUEUE_RECORDS:
                self.skipped += 1
                return
            self._queue.append(Observed(version, latency_ms, records, results, errors))
            self._queued += len(records)

    def _run(self) -> None:
        while not self._stop.wait(DRAIN_SECONDS):
            try:
                self.drain()
            except Exception:  # monitoring must never take the server down (log.exception logs it)
                log.exception("monitoring: a drain failed; the next one starts afresh")

    def drain(self) -> None:
        """Log and count everything queued so far, grouped by version."""
        with self._lock:
            batch, self._queue, self._queued = list(self._queue), deque(), 0
        by_version: dict[tuple[str, int], tuple[Version, list[dict[str, Any]]]] = {}
        for item in batch:
            v = item.version
            if self.request_log is not None:
                self.request_log.record(model=v.name, version=v.number, latency_ms=item.latency_ms,
                                        inputs=item.records, results=item.results, errors=item.errors)
            if self.drift:
                by_version.setdefault((v.name, v.number), (v, []))[1].extend(item.records)
        for version, records in by_version.values():
            monitor = self._monitor(version)
            if monitor is not None:
                self._update(version, monitor, records)

    def _update(self, version: Version, monitor: DriftMonitor, records: list[dict[str, Any]]) -> None:
        name, number = version.name, str(version.number)
        before = dict(monitor.unseen)
        monitor.observe(records)
        for field, psi in monitor.psi().items():
            self.metrics.input_psi.labels(name, number, field).set(psi)
        for field, count in monitor.unseen.items():
            if count > before[field]:
                self.metrics.unseen_values.labels(name, number, field).inc(count - before[field])

    def _monitor(self, version: Version) -> DriftMonitor | None:
        key = (version.name, version.number)
        if key not in self._monitors:
            self._monitors[key] = None
            if PROFILE in version.manifest.files:
                try:
                    raw = self.repository.read_file(version, PROFILE)
                    self._monitors[key] = DriftMonitor(Profile.from_json(raw, source=f"{version.ref}/{PROFILE}"))
                except PmmlkitError as e:
                    log.warning("%s: no live drift for this version: %s", version.ref, e)
        return self._monitors[key]


def timer() -> float:
    """A start time for ``latency_ms``."""
    return time.perf_counter()


def latency_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
