"""Loaded model versions: poll the repository, load in the background, swap atomically.

Each served model has an immutable ``Snapshot`` (its AVAILABLE versions and
labels). A poll builds a new snapshot and replaces the old one with a single
assignment, so a request sees either the old set or the new one. A request
takes one ``LoadedVersion`` from the snapshot and *acquires* it; a version that
leaves the snapshot is retired and closed only when its last request is done.

A poll first gathers a listing of the repository (listing.py), then applies it.
Nothing is unloaded unless a *successful* listing says it was removed: a root
that is missing, empty or unreadable, or a model whose listing fails, changes
nothing and is reported (log, ``pmmlkit_serving_listing_failures``, /readyz).

Loading (read, checksum, parse, compile or JVM load, self-verification) is
blocking and runs in the poller thread, never on the event loop, yielding the
GIL in slices (loading.py). New versions are loaded before old ones are
unloaded. A version that fails to load is reported as END with its error and is
not retried (``name:n`` always means the same bytes); the versions serving
before keep serving. A version whose bytes or manifest cannot be *read* now is
retried on the next poll, and affects no other version.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import ModelNotFoundError
from ..evaluator import Evaluator
from ..repository.store import Repository, Version
from .config import ServerConfig
from .listing import ModelListing, RepositoryListing, list_repository
from .loading import load_evaluator
from .loading import release as release_frozen
from .metrics import Metrics

log = logging.getLogger(__name__)

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"
MAX_REASONS = 10  # /readyz names at most this many unavailable models (bounded answers)
MAX_ERROR_CHARS = 2000  # a status error message is cut here: status and /readyz stay small


def bounded(message: str) -> str:
    if len(message) <= MAX_ERROR_CHARS:
        return message
    return f"{message[:MAX_ERROR_CHARS]}... ({len(message) - MAX_ERROR_CHARS} more characters)"


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
    """TF-Serving's version state; ``retry`` marks an error that the next poll retries."""

    state: str
    error: str = ""
    retry: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "error", bounded(self.error))

    @property
    def failed(self) -> bool:
        """Failed for good: the same bytes would fail again."""
        return self.state == END and bool(self.error) and not self.retry

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


@dataclass(frozen=True)
class Readiness:
    """Ready = polled once, at least one model AVAILABLE, and every required model AVAILABLE."""

    ready: bool
    reason: str
    models: list[str]              # models with an AVAILABLE version
    unavailable: dict[str, str]    # served or required models without one, and why
    repository_error: str          # why the last listing failed ('' when it succeeded)


class ModelManager:
    """The models one server process serves, kept in step with the repository."""

    def __init__(self, repository: Repository, *, config: ServerConfig, metrics: Metrics):
        self.repository = repository
        self.config = config
        self.metrics = metrics
        self._snapshots: dict[str, Snapshot] = {}
        self._status: dict[str, dict[int, Status]] = {}
        self._reported: dict[str, str] = {}  # what is wrong now, by subject: logged on change only
        self._lock = threading.Lock()  # one poll at a time (poller thread or admin call)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.polled = False
        self.repository_error = ""

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

    def readiness(self) -> Readiness:
        """Whether this process should receive traffic, and what it cannot serve."""
        snapshots = dict(self._snapshots)  # polls replace entries: read one consistent copy
        models = sorted(n for n, s in snapshots.items() if s.latest is not None)
        lacking = sorted((set(snapshots) | set(self.config.required)) - set(models))
        unavailable = {n: self._why_unavailable(n, snapshots) for n in lacking[:MAX_REASONS]}
        required = [n for n in self.config.required if n not in models]
        if not self.polled:
            reason = "models are still loading"
        elif required:
            reason = f"required model(s) {required} have no AVAILABLE version"
        elif not models:
            reason = "no model has an AVAILABLE version"
        else:
            reason = ""
        if reason and self.repository_error:
            reason += f"; the repository cannot be listed: {self.repository_error}"
        return Readiness(not reason, reason, models, unavailable, self.repository_error)

    def _why_unavailable(self, name: str, snapshots: dict[str, Snapshot]) -> str:
        if name not in snapshots:
            return f"not in the repository {self.repository.root}"
        return f"no AVAILABLE version; status: {self._describe(name)}"

    def _describe(self, name: str) -> str:
        statuses = sorted(self._status.get(name, {}).items(), reverse=True)
        text = ", ".join(f"{n}={s.state}{': ' + s.error if s.error else ''}" for n, s in statuses[:3])
        return (text + (f" (+{len(statuses) - 3} older)" if len(statuses) > 3 else "")) or "no versions"

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
            except Exception:  # a bug here must not kill the poller (logged with its traceback)
                log.exception("polling the model repository %s failed", self.repository.root)

    def poll(self, names: list[str] | None = None) -> None:
        """Bring the loaded versions of ``names`` (default: all served) in step with the repository."""
        with self._lock:
            if names is None:
                listing = list_repository(self.repository, names=list(self.config.models) or None,
                                          also=list(self._snapshots))
            else:
                listing = list_repository(self.repository, names=names)
            self._note_listing(listing)
            for name, model in listing.models.items():
                if not self.config.models or name in self.config.models:
                    self._apply(name, model)
            self.polled = True

    def close(self) -> None:
        """Stop polling and unload everything (server shutdown)."""
        self.stop()
        with self._lock:
            for name in list(self._snapshots):
                self._swap(name, Snapshot(), list(self._snapshots[name].available.values()))

    def _note_listing(self, listing: RepositoryListing) -> None:
        self.repository_error = listing.error
        self.metrics.repository_up.set(0 if listing.error else 1)
        if listing.error:
            self.metrics.listing_failures.labels("").inc()
        self._report("", f"{listing.error}; nothing is loaded or unloaded until a listing succeeds"
                     if listing.error else "")
        for name in (self._snapshots if listing.ok else ()):
            if name not in listing.failed:
                self._report(name, "")
        for name, why in listing.failed.items():
            self.metrics.listing_failures.labels(name).inc()
            self._report(name, f"{why}; its loaded versions keep serving")

    def _report(self, subject: str, problem: str) -> None:
        """Log a problem when it appears or changes, and once when it is gone (not every poll)."""
        before = self._reported.get(subject, "")
        if problem and problem != before:
            log.error("%s", problem)
        elif before and not problem:
            log.info("resolved: %s", before)
        self._reported[subject] = problem

    def _apply(self, name: str, listing: ModelListing) -> None:
        statuses = self._status.setdefault(name, {})
        current = self._snapshots.get(name, Snapshot())
        available = dict(current.available)
        versions = listing.versions
        # A loaded version whose manifest became unreadable is not "removed": it serves on.
        present = set(versions) | (set(listing.problems) & set(available))
        labels = {k: n for k, n in (current.labels if listing.labels is None else listing.labels).items()
                  if n in present}
        attempted: set[int] = set()
        while True:  # a failed load changes the choice: latest:1 falls back to the newest loadable
            loadable = [n for n in sorted(present) if n in available or (
                n in versions and n not in attempted and not statuses.get(n, _NEW).failed)]
            wanted = set(self.config.policy.choose(loadable)) | (set(labels.values()) & set(loadable))
            todo = sorted((n for n in wanted if n not in available), reverse=True)
            if not todo:
                break
            for number in todo:
                attempted.add(number)
                loaded = self._load(versions[number], statuses)
                if loaded is not None:
                    available[number] = loaded
        retired = [available.pop(n) for n in sorted(available) if n not in wanted]
        self._swap(name, Snapshot(available, labels), retired)
        self._note_problems(name, listing, statuses, available)  # after the swap: on what is retired too
        self.metrics.failed_versions.labels(name).set(sum(1 for s in statuses.values() if s.error))
        if not present and not listing.problems and name not in self.config.models:
            del self._snapshots[name]  # a successful listing says the model is gone: stop serving it
            self.metrics.failed_versions.labels(name).set(0)
            log.info("model %s is gone from the repository: no longer served", name)

    def _note_problems(self, name: str, listing: ModelListing, statuses: dict[int, Status],
                       available: dict[int, LoadedVersion]) -> None:
        """Unreadable entries are reported on themselves; nothing else is held back."""
        for number, error in sorted(listing.problems.items()):
            ref = f"{name}:{number}"
            if number in available:
                self._report(ref, f"{ref}: its repository entry is unreadable ({error}); "
                                  "the loaded copy keeps serving")
            elif statuses.get(number) != Status(END, error, retry=True):
                statuses[number] = Status(END, error, retry=True)
                self.metrics.reload(model=name, version=number, outcome="failed")
                self._report(ref, f"{ref}: cannot be listed, not loaded: {error}")
        for ref in [r for r in self._reported if r.startswith(f"{name}:")]:
            if int(ref.rsplit(":", 1)[1]) not in listing.problems:
                self._report(ref, "")
        self._report(f"{name}@labels", f"labels of {name!r} are unreadable ({listing.label_error}); "
                                        "the labels loaded before stay in use" if listing.label_error else "")
        if listing.label_error:
            self.metrics.listing_failures.labels(name).inc()

    def _load(self, version: Version, statuses: dict[int, Status]) -> LoadedVersion | None:
        statuses[version.number] = Status(LOADING)
        started = time.perf_counter()
        try:
            raw = self.repository.read_pmml(version)
        except (OSError, ModelNotFoundError) as e:  # unreadable now (outage?), not broken: retry
            message = f"cannot read the model: {type(e).__name__}: {e}; retried on the next poll"
            log.warning("%s: %s", version.ref, message)
            statuses[version.number] = Status(START, message, retry=True)
            self.metrics.reload(model=version.name, version=version.number, outcome="retry")
            return None
        try:
            evaluator = load_evaluator(raw, backend=self.config.backend, version=version, repository=self.repository)
            evaluator = self._with_lookups(evaluator, version)
        except Exception as e:  # noqa: BLE001 - any failure is reported, the old version serves on
            message = f"{type(e).__name__}: {e}"
            log.error("cannot load %s (after %.2f s): %s", version.ref, time.perf_counter() - started, message)
            statuses[version.number] = Status(END, message)
            self.metrics.reload(model=version.name, version=version.number, outcome="failed")
            return None
        seconds = time.perf_counter() - started
        statuses[version.number] = Status(AVAILABLE)
        self.metrics.reload(model=version.name, version=version.number, outcome="loaded")
        self.metrics.load_seconds.labels(version.name).observe(seconds)
        log.info("loaded %s in %.2f s (%d bytes, backend %s)", version.ref, seconds, len(raw),
                 evaluator.backend_name)
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
        before = sorted(self._snapshots.get(name, Snapshot()).available)
        for old in retired:
            statuses[old.number] = Status(UNLOADING)
        self._snapshots[name] = snap  # the atomic switch: one reference assignment
        self.metrics.loaded.labels(name).set(len(snap.available))
        if sorted(snap.available) != before:
            log.info("model %s now serves version(s) %s (before: %s)", name, sorted(snap.available), before)
        for old in retired:
            started = time.perf_counter()
            old.retire()  # closes now, or when its last in-flight request releases it
            statuses[old.number] = Status(END)
            self.metrics.reload(model=name, version=old.number, outcome="unloaded")
            log.info("unloaded %s in %.3f s%s", old.version.ref, time.perf_counter() - started,
                     "" if old.closed else " (closes when its in-flight requests finish)")
        if retired:
            release_frozen()  # the retired models' cycles become collectable again (loading.py)
