"""Sampled request logs: JSON Lines files that rotate by size, written off the request path.

Each sampled record is one line: time, model, version, latency, the inputs as sent and the
results (or the record's error). A bounded queue sits between the server and a writer thread:
when the disk is slow the oldest work is not waited for, new lines are dropped and counted,
so logging never slows or stops scoring. ``pmmlkit drift`` reads the folder directly.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import random
import threading
from datetime import UTC, datetime
from typing import Any

from ..errors import ConfigError

log = logging.getLogger(__name__)

MAX_BYTES = 64 * 1024 * 1024   # per file, then the next one
KEEP = 20                      # files kept; the oldest beyond are removed
QUEUE = 10_000                 # lines waiting for the writer
_STOP = object()


class RequestLog:
    """Appends sampled records to ``folder``/requests-<start>-<pid>-<n>.jsonl."""

    def __init__(self, folder: str, *, sample: float = 1.0, max_bytes: int = MAX_BYTES, keep: int = KEEP,
                 seed: int | None = None):
        if not 0.0 < sample <= 1.0:
            raise ConfigError(f"--log-sample {sample!r}: expected a share in (0, 1], e.g. 0.1 for 10%")
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"--log-requests {folder}: cannot create the folder ({e.strerror or e})") from None
        self.folder, self.sample, self.max_bytes, self.keep = folder, sample, max_bytes, keep
        self.dropped = 0
        self.written = 0
        self._random = random.Random(seed)
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE)
        self._stem = f"requests-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        self._part = 0
        self._file: Any = None
        self._thread = threading.Thread(target=self._run, name="pmmlkit-request-log", daemon=True)
        self._thread.start()

    def record(self, *, model: str, version: int, latency_ms: float, inputs: list[dict[str, Any]],
               results: list[dict[str, Any] | None], errors: list[str | None]) -> None:
        """Queue the sampled ones of a request's records; never blocks."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for i, record in enumerate(inputs):
            if self.sample < 1.0 and self._random.random() >= self.sample:
                continue
            result = results[i] if i < len(results) else None
            entry = {"time": now, "model": model, "version": version, "latency_ms": round(latency_ms, 3),
                     "inputs": _plain(record), "outputs": None if result is None else _plain(result),
                     "error": errors[i] if i < len(errors) else None}
            try:
                self._queue.put_nowait(entry)
            except queue.Full:
                self.dropped += 1

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)
        if self._file is not None:
            self._file.close()

    def _run(self) -> None:
        while True:
            entry = self._queue.get()
            if entry is _STOP:
                return
            try:
                self._write(json.dumps(entry, default=str, allow_nan=False) + "\n")
            except (OSError, ValueError) as e:  # a full disk or a NaN: lose this line, keep serving
                self.dropped += 1
                log.warning("request log %s: a line was dropped (%s)", self.folder, e)

    def _write(self, line: str) -> None:
        if self._file is None or self._file.tell() >= self.max_bytes:
            self._rotate()
        self._file.write(line)
        self._file.flush()
        self.written += 1

    def _rotate(self) -> None:
        if self._file is not None:
            self._file.close()
        self._part += 1
        self._file = open(os.path.join(self.folder, f"{self._stem}-{self._part:04d}.jsonl"), "a", encoding="utf-8")
        logs = sorted(n for n in os.listdir(self.folder) if n.startswith("requests-") and n.endswith(".jsonl"))
        for old in logs[:-self.keep]:
            try:
                os.remove(os.path.join(self.folder, old))
            except OSError:
                pass


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """A record as strict JSON: a NaN (a missing number) is null."""
    return {k: None if isinstance(v, float) and v != v else v for k, v in record.items()}
