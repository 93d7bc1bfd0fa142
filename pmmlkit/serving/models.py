"""Loaded model versions: poll the repository, load in the background, swap atomically.

Each served model has an immutable ``Snapshot`` (its AVAILABLE versions and
labels). A poll builds a new snapshot and replaces the old one with a single
assignment, so a request sees either the old set or the new one. A request
takes one ``LoadedVersion`` from the snapshot and *acquires* it; a version that
leaves the snapshot is retired and closed only when its last request is done.

Loading (read, checksum, parse, compile or JVM load, self-verification) is
blocking and runs in the poller thread, never on the event loop. New versions
are loaded before old ones are unloaded. A version that fails to load is
reported as END with its error and is not retried (``name:n`` always means the
same bytes); the versions serving before keep serving.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from ..errors import ModelNotFoundError, PmmlkitError
from ..evaluator import Evaluator
from ..repository.store import Repository, Version
from .config import ServerConfig
from .metrics import Metrics

log = logging.getLogger(__name__)

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"


class LoadedVersion:
    """One version's evaluator, closed once it is retired and no request holds it."""

    def __init__(self, version: Version, evaluator: Evaluator):
        self.version = version
        self.evaluator = evaluator
        self._lock = threading.Lock()
        self._inflight = 0
        self._retired = False
        self.closed = False

    @property
    def number(self) -> int:
        return self.version.number

    def acquire(self) -> bool:
        """Hold the version for one request; False if it is already closed."""
        with self._lock:
            if self.closed:
                return False
            self._inflight += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._inflight -= 1
            close = self._retired and self._inflight == 0 and not self.closed
            self.closed = self.closed or close
        if close:
            self.evaluator.close()

    def retire(self) -> None:
        with self._lock:
            self._retired = True
            close = self._inflight == 0 and not self.closed
            self.closed = self.closed or close
        if close:
            self.evaluator.close()


@dataclass(frozen=True)
class Status:
    state: str
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.state == END and bool(self.error)

    def as_dict(self, number: int) -> dict[str, Any]:
        return {"version": str(number), "state": self.state,
                "status": {"error_code": "UNKNOWN" if self.error else "OK", "error_message": self.error}}


_NEW = Status(START)


@dataclass(frozen=True)
class Snapshot:
    """What one model serves right now; replaced whole, never mutated."""

    available: dict[int, LoadedVersion] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)

    @property
    def latest(self) -> LoadedVersion | None:
        return self.available[max(self.available)] if self.available else None


class ModelManager:
    """The models one server process serves, kept in step with the repository."""

    def __init__(self, repository: Repository, *, config: ServerConfig, metrics: Metrics):
        self.repository = repository
        self.config = config
        self.metrics = metrics
        self._snapshots: dict[str, Snapshot] = {}
        self._status: dict[str, dict[int, Status]] = {}
        self._lock = threading.Lock()  # one poll at a time (poller thread or admin call)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.polled = False

    # --- what requests see --------------------------------------------------
    def served(self) -> list[str]:
        return sorted(self._snapshots)

    def snapshot(self, name: str) -> Snapshot:
        snap = self._snapshots.get(name)
        if snap is None:
            raise ModelNotFoundError(f"model {name!r} is not served here; served: {self.served()}")
        return snap

    def status(self, name: str) -> dict[int, Status]:
        self.snapshot(name)
        return dict(self._status.get(name, {}))

    def pick(self, name: str, *, number: int | None = None, label: str | None = None) -> LoadedVersion:
        """The loaded version a request asked for (latest AVAILABLE by default), not yet acquired."""
        snap = self.snapshot(name)
        if label is not None:
            if label not in snap.labels:
                raise ModelNotFoundError(f"model {name!r} has no label {label!r}; labels: {snap.labels}")
            number = snap.labels[label]
        if number is None:
            if snap.latest is None:
                raise ModelNotFoundError(f"model {name!r} has no AVAILABLE version yet; "
                                         f"status: {self._describe(name)}")
            return snap.latest
        if number not in snap.available:
            raise ModelNotFoundError(f"version {number} of model {name!r} is not loaded; loaded: "
                                     f"{sorted(snap.available)} (policy {self.config.policy})")
        return snap.available[number]

    def ready(self) -> tuple[bool, list[str]]:
        """True when every served model has an AVAILABLE version; else the names lacking one."""
        wanted = set(self.config.models) | set(self._snapshots)
        missing = sorted(n for n in wanted if self._snapshots.get(n, Snapshot()).latest is None)
        return self.polled and not missing, missing

    def _describe(self, name: str) -> str:
        return ", ".join(f"{n}={s.state}{': ' + s.error if s.error else ''}"
                         for n, s in sorted(self._status.get(name, {}).items())) or "no versions"

    # --- polling --------------------------------------------------------------
    def start(self) -> None:
        """Poll every ``poll_seconds`` in a daemon thread (the first poll is the caller's)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="pmmlkit-model-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.config.poll_seconds):
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - a flaky store must not kill the poller
                log.exception("polling the model repository %s failed", self.repository.root)

    def poll(self, names: list[str] | None = None) -> None:
        """Bring the loaded versions of ``names`` (default: all served) in step with the repository."""
        with self._lock:
            if names is None:
                names = list(self.config.models) or self.repository.models()
                names = sorted(set(names) | set(self._snapshots))
            for name in names:
                if self.config.models and name not in self.config.models:
                    continue
                try:
                    self._poll_model(name)
                except PmmlkitError as e:
                    log.error("cannot poll model %r: %s", name, e)
            self.polled = True

    def close(self) -> None:
        """Stop polling and unload everything (server shutdown)."""
        self.stop()
        with self._lock:
            for name in list(self._snapshots):
                self._swap(name, Snapshot(), list(self._snapshots[name].available.values()))

    def _poll_model(self, name: str) -> None:
        versions = {v.number: v for v in self.repository.versions(name)}
        labels = {k: n for k, n in self.repository.labels(name).items() if n in versions} if versions else {}
        statuses = self._status.setdefault(name, {})
        current = self._snapshots.get(name, Snapshot())
        available = dict(current.available)
        while True:  # a failed load changes the choice: latest:1 falls back to the newest loadable
            loadable = [n for n in sorted(versions) if n in available or not statuses.get(n, _NEW).failed]
            wanted = set(self.config.policy.choose(loadable)) | (set(labels.values()) & set(loadable))
            todo = sorted((n for n in wanted if n not in available), reverse=True)
            if not todo:
                break
            for number in todo:
                loaded = self._load(versions[number], statuses)
                if loaded is not None:
                    available[number] = loaded
        retired = [available.pop(n) for n in sorted(available) if n not in wanted]
        self._swap(name, Snapshot(available, labels), retired)
        if not versions and name not in self.config.models:
            del self._snapshots[name]  # the model is gone from the repository: stop serving its name

    def _load(self, version: Version, statuses: dict[int, Status]) -> LoadedVersion | None:
        statuses[version.number] = Status(LOADING)
        try:
            raw = self.repository.read_pmml(version)
            evaluator = Evaluator.from_bytes(raw, backend=self.config.backend, verify=True,
                                             source=version.ref, version=version)
            evaluator = self._with_lookups(evaluator, version)
        except Exception as e:  # noqa: BLE001 - any failure is reported, the old version serves on
            message = f"{type(e).__name__}: {e}"
            log.error("cannot load %s: %s", version.ref, message)
            statuses[version.number] = Status(END, message)
            self.metrics.reload(model=version.name, version=version.number, outcome="failed")
            return None
        statuses[version.number] = Status(AVAILABLE)
        self.metrics.reload(model=version.name, version=version.number, outcome="loaded")
        log.info("loaded %s (backend %s)", version.ref, evaluator.backend_name)
        return LoadedVersion(version, evaluator)

    def _with_lookups(self, evaluator: Evaluator, version: Version) -> Any:
        """A model whose manifest declares embedding lookups gets them applied before scoring."""
        if not version.manifest.extra.get("lookups"):
            return evaluator
        from ..embeddings.lookups import attach

        def counted(lookup: str, count: int) -> None:
            self.metrics.fallbacks.labels(version.name, str(version.number), lookup).inc(count)

        return attach(evaluator, version.manifest.extra, repo=self.repository.root, on_fallback=counted)

    def _swap(self, name: str, snap: Snapshot, retired: list[LoadedVersion]) -> None:
        statuses = self._status.setdefault(name, {})
        for old in retired:
            statuses[old.number] = Status(UNLOADING)
        self._snapshots[name] = snap  # the atomic switch: one reference assignment
        self.metrics.loaded.labels(name).set(len(snap.available))
        for old in retired:
            old.retire()  # closes now, or when its last in-flight request releases it
            statuses[old.number] = Status(END)
            self.metrics.reload(model=name, version=old.number, outcome="unloaded")
            log.info("unloaded %s", old.version.ref)
