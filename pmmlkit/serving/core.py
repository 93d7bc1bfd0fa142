"""The scoring core: what every protocol module (protocols/*.py) calls, in plain Python values.

A protocol module parses its wire format into records (or columns), calls
``await core.score(...)`` and writes the ``Scored`` answer back in its own shape. The core
owns everything in between, once for all protocols:

* resolving ``name`` + ``version`` | ``label`` (404 for what is not served), and the
  canary split of unpinned requests;
* holding the chosen ``LoadedVersion`` until the answer is built (a swap never closes a
  version under a request);
* scoring through the record path (``Evaluator.predict_records``: no DataFrame), batched
  with concurrent requests for the same version (batching.py), off the event loop or
  inline when that is cheaper, within ``--timeout``;
* per-record errors, with the bounded message budget of one response;
* shadow scoring on ``--shadow`` labels (traffic.py);
* the request's metric labels (model, version) and the record counters.

Example (a protocol handler)::

    scored = await core.score(name, version=None, label=None, records=[{"x1": 1.0, ...}])
    scored.version   # the version number that answered
    scored.results   # one dict of result field -> value per record, None where it failed
    scored.errors    # None, or the reason that record failed ("row 1: field 'x1': ...")
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from ..errors import EvaluationTimeout, ExplanationError, ModelNotFoundError
from ..evaluator import Evaluator
from ..evaluator.records import Answers
from ..pmml.fields import Field
from ..repository.store import Repository, check_name
from .batching import Batcher
from .config import ServerConfig
from .frames import score_frames
from .http import HttpError, tag
from .metrics import Metrics
from .models import LoadedVersion, ModelManager, Status
from .monitoring import Monitoring, latency_ms, timer
from .predict import BadRequest, Budget
from .traffic import CanaryRouter, Shadow

T = TypeVar("T")
INLINE_RECORDS = 64  # this many records or fewer score on the event loop (native backend only)


class RecordRejected(BadRequest):
    """A record failed and the caller asked for all or nothing (``errors="raise"``)."""


@dataclass(frozen=True)
class Scored:
    """The answer to one scoring call: one entry per record, in order."""

    model: str
    version: int
    results: list[dict[str, Any] | None]  # result field -> JSON-ready value; None: the record failed
    errors: list[str | None]              # None: the record was scored; else why it was not
    error_key: str                        # the model's error column name ("error", or "_error")
    names: tuple[str, ...]                # the result fields of every scored record, in order
    fields: tuple[Field, ...] = ()        # every result field of the version (their data types)
    explanations: list[dict[str, Any] | None] | None = None  # with explain=True: per record, None where it failed

    @property
    def rejected(self) -> int:
        return sum(1 for e in self.errors if e is not None)

    def first_error(self) -> str | None:
        return next((e for e in self.errors if e is not None), None)

    @property
    def explanation_key(self) -> str:
        """``explanation``, unless a result has that name (then ``_explanation``...: own_column's rule)."""
        from ..evaluator.names import own_column

        return own_column("explanation", (*self.names, self.error_key))


@dataclass(frozen=True)
class ModelMetadata:
    """What a protocol needs to describe a version: its fields with PMML names and data types."""

    name: str
    version: int
    model_type: str
    function_name: str
    backend: str
    inputs: tuple[Field, ...]
    targets: tuple[Field, ...]
    outputs: tuple[Field, ...]
    manifest: dict[str, Any]

    @property
    def results(self) -> tuple[Field, ...]:
        """Every field an answer carries, in order: targets, then outputs."""
        return (*self.targets, *self.outputs)


class ScoringCore:
    """One per app: the models it serves and how a request is scored on them."""

    def __init__(self, manager: ModelManager, *, config: ServerConfig, metrics: Metrics):
        self.manager = manager
        self.config = config
        self.metrics = metrics
        self.canary = CanaryRouter(config.canaries)
        self.shadow = Shadow(config.shadows, metrics)
        self.batcher = (Batcher(self._score_batch, timeout_micros=config.batch_timeout_micros,
                                max_records=config.max_batch_size, now=self._score_batch_now)
                        if config.max_batch_size > 1 else None)
        self.monitoring = Monitoring(manager.repository, metrics, log_dir=config.log_requests,
                                     log_sample=config.log_sample, drift=config.drift)

    @property
    def repository(self) -> Repository:
        return self.manager.repository

    # --- resolving ------------------------------------------------------------
    def served(self, name: str, *, label: str | None = None) -> str:
        """``name`` checked and served here (else 400 / 404); tags the request with it."""
        name = check_name(name)
        if label is not None:
            check_name(label, kind="label")
        self.manager.snapshot(name)  # 404 for a model this server does not serve
        tag(model=name)  # only served names become metric labels (bounded)
        return name

    def pick(self, name: str, *, version: int | None = None, label: str | None = None) -> LoadedVersion:
        """The version a request for ``name`` [version | label] is answered by (not yet held)."""
        return self.manager.pick(name, number=version, label=label)

    @contextlib.contextmanager
    def hold(self, name: str, *, version: int | None = None, label: str | None = None,
             route: bool = False) -> Iterator[LoadedVersion]:
        """The resolved version, held (never closed) until the block ends.

        ``route``: this is scoring traffic, which ``--canary`` may send to its label when unpinned.
        """
        name = self.served(name, label=label)
        if route and version is None and label is None:
            snap = self.manager.snapshot(name)
            label = self.canary.label(name, snap.labels, snap.available)
        for _ in range(3):  # a version retired between pick and acquire: pick again
            loaded = self.pick(name, version=version, label=label)
            if loaded.acquire():
                break
        else:
            raise HttpError(503, f"model {name!r} is switching versions; retry", {"Retry-After": "1"})
        tag(version=str(loaded.number))
        try:
            yield loaded
        finally:
            loaded.release()

    def status(self, name: str, *, version: int | None = None, label: str | None = None) -> dict[int, Status]:
        """Every version's status, or only the one ``version`` | ``label`` names (404 if unknown)."""
        name = self.served(name, label=label)
        statuses = self.manager.status(name)
        if label is None and version is None:
            return statuses
        number = self.manager.pick(name, label=label).number if label is not None else version
        if number not in statuses:
            raise ModelNotFoundError(f"model {name!r} has no version {number} in this server; "
                                     f"known: {sorted(statuses)}")
        return {number: statuses[number]}

    def metadata(self, name: str, *, version: int | None = None, label: str | None = None) -> ModelMetadata:
        """Fields and manifest of the version ``name`` [version | label] resolves to."""
        with self.hold(name, version=version, label=label) as loaded:
            ev, v = loaded.evaluator, loaded.version
            results = ev.published_fields  # targets as predicted_<target>, then the outputs
            n_targets = len(ev.target_fields)
            return ModelMetadata(v.name, v.number, ev.schema.model_type, ev.schema.function_name,
                                 ev.backend_name, ev.input_fields, results[:n_targets], results[n_targets:],
                                 v.manifest.as_dict())

    # --- scoring ----------------------------------------------------------------
    async def blocking(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in a worker thread, within ``--timeout``."""
        if self.config.timeout is None:
            return await anyio.to_thread.run_sync(fn)
        try:
            with anyio.fail_after(self.config.timeout):
                return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True)
        except TimeoutError:
            raise EvaluationTimeout(f"scoring took longer than {self.config.timeout} s (--timeout)") from None

    def inline(self, loaded: LoadedVersion, size: int) -> bool:
        """Whether scoring ``size`` records on ``loaded`` runs on the event loop rather than in a thread."""
        # Tens of records score natively in a fraction of a millisecond: less than the hop
        # to a worker thread, which the GIL would serialise with the event loop anyway.
        return size <= INLINE_RECORDS and self.config.timeout is None and loaded.evaluator.backend_name == "native"

    async def run(self, loaded: LoadedVersion, fn: Callable[[], T], *, size: int) -> T:
        """``fn`` (scoring ``size`` records on ``loaded``), inline when that is cheaper than a thread."""
        if self.inline(loaded, size):
            return fn()
        return await self.blocking(fn)

    async def score(self, name: str, *, version: int | None = None, label: str | None = None,
                    records: Sequence[dict[str, Any]] | None = None,
                    columns: dict[str, list[Any]] | None = None,
                    outputs: Sequence[str] | None = None, errors: str = "per_record",
                    explain: bool = False) -> Scored:
        """Score ``records`` (or equal-length ``columns``) on the version the request resolves to.

        A record is answered on its own terms: an absent field, a value that is not a JSON
        scalar or breaks the input contract fails that record only (``errors[i]``).
        ``errors="raise"`` instead fails the whole call with the first record's reason (a
        RecordRejected, HTTP 400). ``outputs`` selects result fields (default: all); an
        unknown name is a BadRequest. ``explain=True`` adds each record's explanation
        (``Evaluator.predict(explain=True)``'s; native backend only, else an ExplanationError: 400).
        """
        if errors not in ("per_record", "raise"):
            raise BadRequest(f'"errors": {errors!r} is not supported; expected "raise" or "per_record"')
        if (records is None) == (columns is None):
            raise TypeError("score() takes exactly one of records= or columns=")
        start = timer()
        with self.hold(name, version=version, label=label, route=True) as loaded:
            keep = self._selected(loaded, outputs)
            data: Any = list(records) if records is not None else columns
            size = len(data) if isinstance(data, list) else len(next(iter(data.values()), []))
            answers = await (self._explained(loaded, data, keep, size=size) if explain
                             else self._answers(loaded, data, keep, size=size))
            budget = Budget()  # one response's error text stays bounded
            found = [None if e is None else budget(e) for e in answers.errors]
            scored = Scored(loaded.version.name, loaded.number, answers.results, found,
                            loaded.evaluator.error_column, keep, loaded.evaluator.published_fields,
                            answers.explanations)
            if self.monitoring.wants(loaded.version):
                self.monitoring.observe(loaded.version, latency_ms(start), _records(data), scored.results, found)
            if errors == "raise" and scored.rejected:
                raise RecordRejected(scored.first_error())
            self.count(loaded, records=size, rejected=scored.rejected)
        shadow = self.shadow.label(scored.model)
        if shadow is not None and size:
            self.shadow.start(scored.model, lambda: self._shadow(scored, shadow, data, size))
        return scored

    async def _shadow(self, primary: Scored, label: str, data: Any, size: int) -> None:
        """Score ``data`` on the shadow label's version too and count how its answers differ."""
        with self.hold(primary.model, label=label) as loaded:
            if loaded.number == primary.version:
                return  # the label points at the version that answered: nothing to compare
            answers = await self._answers(loaded, data, tuple(loaded.evaluator.result_names), size=size)
        self.shadow.compare(primary.model, version=primary.version, shadow_version=loaded.number,
                            fields=primary.fields, primary=primary.results, shadow=answers.results)

    async def _answers(self, loaded: LoadedVersion, data: Any, keep: tuple[str, ...], *, size: int) -> Answers:
        """Per-record answers: batched with concurrent requests when the record path allows it."""
        ev = loaded.evaluator
        if self.batcher is None or not isinstance(ev, Evaluator) or not size:
            return await self.run(loaded, lambda: _answers(ev, data, keep), size=size)
        if isinstance(data, dict):
            if any(name not in data for name in ev.schema.input_names):  # a request error: alone
                return await self.run(loaded, lambda: _answers(ev, data, keep), size=size)
            data = _records(data)
        answers = await self.batcher.score(loaded, data)
        if keep != ev.result_names:
            answers = Answers([None if r is None else {k: r[k] for k in keep} for r in answers.results],
                              answers.errors)
        return answers

    async def _explained(self, loaded: LoadedVersion, data: Any, keep: tuple[str, ...], *, size: int) -> Answers:
        """Answers with explanations: the record path alone (the batcher shares calls without them)."""
        from ..evaluator.explaining import require_native

        ev = loaded.evaluator
        if not isinstance(ev, Evaluator):
            raise ExplanationError(f"{loaded.version.ref} looks up embeddings before scoring; explanations "
                                   "cover plain PMML models only")
        require_native(ev)
        return await self.run(loaded, lambda: ev.predict_records(data, outputs=keep, explain=True), size=size)

    def _score_batch_now(self, loaded: LoadedVersion, records: list[dict[str, Any]], rows: list[int]) -> Answers | None:
        """A batch's answers scored right away on the event loop, or None when it goes to a thread."""
        if not self.inline(loaded, len(records)):
            return None
        return loaded.evaluator.predict_records(records, rows=rows)

    async def _score_batch(self, loaded: LoadedVersion, records: list[dict[str, Any]], rows: list[int]) -> Answers:
        return await self.run(loaded, lambda: loaded.evaluator.predict_records(records, rows=rows),
                              size=len(records))

    def count(self, loaded: LoadedVersion, *, records: int, rejected: int = 0) -> None:
        """Record counters of one scoring call."""
        name, number = loaded.version.name, str(loaded.number)
        self.metrics.scored(model=name, version=number, records=records)
        if rejected:
            self.metrics.error(model=name, version=number, kind="record", count=rejected)

    @staticmethod
    def _selected(loaded: LoadedVersion, outputs: Sequence[str] | None) -> tuple[str, ...]:
        names = tuple(loaded.evaluator.result_names)
        if outputs is None:
            return names
        unknown = [o for o in outputs if o not in names]
        if unknown:
            raise BadRequest(f"unknown output(s) {unknown[:10]} for model {loaded.version.ref}; "
                             f"its results are {list(names)[:50]}")
        return tuple(dict.fromkeys(outputs))


def _records(data: Any) -> list[dict[str, Any]]:
    """A request's inputs as records, whether it sent records or columns."""
    if isinstance(data, list):
        return data
    return [dict(zip(data, values)) for values in zip(*data.values())]


def _answers(ev: Any, data: Any, outputs: tuple[str, ...]) -> Answers:
    """The record path for a plain Evaluator; a wrapped one (embedding lookups) scores through frames."""
    if isinstance(ev, Evaluator):
        return ev.predict_records(data, outputs=outputs)
    return score_frames(ev, data, outputs=outputs)
