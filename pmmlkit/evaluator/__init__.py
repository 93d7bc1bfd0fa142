"""The Evaluator: one small contract over every backend.

PMML bytes -> checked document -> backend (native plan or JVM) -> typed results.
Backends import lazily, so a missing optional library only matters when that
backend is asked for.
"""
from __future__ import annotations

import importlib
import logging
import math
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, EvaluationError, EvaluationTimeout, InputError, PmmlError, PmmlkitError, clip
from ..extras import has_extra, missing_extra
from ..pmml import loader
from ..pmml.fields import Field
from ..pmml.loader import PmmlDocument
from . import rowsplit
from .base import Backend, Scored
from .contract import Contract, Prepared, canonical_text
from .names import own_column as own_column  # re-exported: scoring names its columns by it
from .names import published, result_fields

log = logging.getLogger(__name__)

BACKENDS = {
    "native": ("pmmlkit.evaluator.native", "NativeBackend"),
    "jpmml": ("pmmlkit.evaluator.jpmml", "JpmmlBackend"),
    "pypmml": ("pmmlkit.evaluator.pypmml", "PypmmlBackend"),
}
FALLBACK = "jpmml"
ERROR_COLUMN = "error"


def backend_class(name: str) -> type[Backend]:
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r}; choose one of {['auto', *BACKENDS]}")
    module, cls = BACKENDS[name]
    found: type[Backend] = getattr(importlib.import_module(module), cls)
    return found


def _open_backend(doc: PmmlDocument, name: str) -> Backend:
    if name != "auto":
        return backend_class(name)(doc)
    try:
        return backend_class("native")(doc)
    except PmmlError as e:
        # Only "native cannot run this document" falls back; any other exception is a bug
        # of the native compiler and propagates, never hidden behind a quiet fallback.
        if not has_extra("jvm"):
            raise missing_extra("jvm", what=f"{doc.source}: the native backend cannot run it ({type(e).__name__}: "
                                f"{e}), and the fallback backend {FALLBACK!r}") from e
        log.warning("native backend cannot run %s (%s: %s); falling back to %s",
                    doc.source, type(e).__name__, e, FALLBACK)
        return backend_class(FALLBACK)(doc)


def read_ref(ref: str | os.PathLike[str], *, repo: str | None = None, max_bytes: int | None = None
             ) -> tuple[bytes, str, Any]:
    """PMML bytes for a reference: a .pmml path, or name[:version|@label] in the repository."""
    text = str(ref)
    if isinstance(ref, Path) or text.endswith((".pmml", ".xml")) or os.path.isfile(text):
        return loader.read_file(text, max_bytes=max_bytes), text, None
    from ..repository.store import open_repository

    repository = open_repository(repo, must_exist=True)  # a typo in --repo is not "no such model"
    version = repository.resolve(text)
    return repository.read_pmml(version), version.ref, version


class Evaluator:
    """Scores records and batches with one PMML model.

    Results are published under names that cannot be misread as inputs (names.py): a target
    field ``T`` as ``predicted_T``, an OutputField under its PMML name. ``result_fields`` maps
    each published name to its PMML field; backends answer in PMML names, this facade translates.
    """

    def __init__(self, doc: PmmlDocument, backend: Backend, *, version: Any = None,
                 timeout: float | None = None, threads: int | None = None):
        from .native.parallel import check_threads

        self.document = doc
        self.timeout = timeout
        #: threads a large native batch is split over (default: every core); answers are identical
        self.threads = check_threads(threads)
        self.schema = doc.schema
        self.backend = backend
        self.version = version
        self.contract = Contract(doc.schema)
        #: published result name -> the PMML field behind it (targets first, then outputs)
        self.result_fields = result_fields(doc.schema)
        #: the same results as Fields named by their published names (what signatures declare)
        self.published_fields = published(doc.schema)
        #: the name of predict_batch's error column: "error" unless a field has that name
        self.error_column = own_column(ERROR_COLUMN, (*self.result_names, *self.schema.input_names))
        #: where this backend is known to answer this document differently (see differences.py)
        self.known_differences: list[Any] = []
        #: explanations' background: explaining.Background, a loader of one (a repository version's), or None
        self._background: Any = None

    @classmethod
    def load(cls, ref: str | os.PathLike[str], *, backend: str = "auto", repo: str | None = None,
             verify: bool = True, max_bytes: int | None = None, timeout: float | None = None,
             threads: int | None = None, background: Any = None) -> Evaluator:
        """Load a model from a .pmml path or a repository reference (``name``, ``name:3``, ``name@stable``).

        ``timeout`` (seconds, per call) makes a slow backend raise EvaluationTimeout
        instead of hanging the caller; the evaluator stays usable. ``threads`` (default: all
        cores) splits a large native batch over that many threads, with identical answers.
        ``background`` (a DataFrame or CSV/Parquet path) is what explanations are measured against;
        a repository version published by ``pmmlkit train`` brings its own (read on first use).
        """
        raw, source, version = read_ref(ref, repo=repo, max_bytes=max_bytes)
        ev = cls.from_bytes(raw, backend=backend, verify=verify, source=source, version=version,
                            timeout=timeout, threads=threads, background=background)
        if background is None and version is not None:
            from .explaining import use_version_background

            use_version_background(ev, repo, version)
        return ev

    @classmethod
    def from_bytes(cls, raw: bytes, *, backend: str = "auto", verify: bool = True,
                   source: str = "<bytes>", version: Any = None, timeout: float | None = None,
                   threads: int | None = None, background: Any = None) -> Evaluator:
        doc = loader.parse(raw, source=source)
        ev = cls(doc, _open_backend(doc, backend), version=version, timeout=timeout, threads=threads)
        if verify and doc.schema.verification is not None:
            ev = ev._verified(fallback=backend == "auto")
        ev._declare_differences()
        if background is not None:
            ev.set_background(background)
        return ev

    def _verified(self, *, fallback: bool) -> Evaluator:
        """This evaluator if it reproduces the document's ModelVerification records.

        Under ``auto``, a native backend that does not is replaced by the fallback backend
        (with a warning quoting the findings); the fallback must then verify in turn.
        """
        from .verification import findings, raise_findings

        ev, problems = self, findings(self)
        if problems and fallback and self.backend_name == "native":
            log.warning("native backend does not reproduce the ModelVerification records of %s (%s); "
                        "falling back to %s", self.document.source, "; ".join(problems[:5]), FALLBACK)
            self.close()
            ev = type(self)(self.document, backend_class(FALLBACK)(self.document), version=self.version,
                            timeout=self.timeout, threads=self.threads)
            problems = findings(ev)
        if problems:
            ev.close()
            raise_findings(ev, problems)
        return ev

    def _declare_differences(self) -> None:
        """Warn, at load, of every known way this backend answers this document differently."""
        from .differences import known_differences

        self.known_differences = known_differences(self.document.root, self.backend_name)
        for d in self.known_differences:
            log.warning("%s: %s; use backend='jpmml' for the reference answers", self.document.source, d)

    # --- explanations --------------------------------------------------------
    @property
    def background(self) -> Any:
        """The rows explanations are measured against (explaining.Background), or None."""
        if callable(self._background):  # a repository version's, read on first use
            self._background = self._background()
        return self._background

    def set_background(self, data: Any) -> None:
        """Background rows (DataFrame or CSV/Parquet path; at most 200, a seeded sample) for explanations."""
        from .explaining import prepare

        self._background = prepare(self, data)

    def set_background_loader(self, load: Any) -> None:
        """A background read on first use (a repository version's ``background.parquet``), or None."""
        self._background = load

    # --- description -------------------------------------------------------
    @property
    def backend_name(self) -> str:
        return self.backend.name

    @property
    def input_fields(self) -> tuple[Field, ...]:
        return self.schema.inputs

    @property
    def target_fields(self) -> tuple[Field, ...]:
        return self.schema.targets

    @property
    def output_fields(self) -> tuple[Field, ...]:
        return self.schema.outputs

    @property
    def result_names(self) -> tuple[str, ...]:
        """The published result names, in order: ``predicted_<target>``..., then the outputs."""
        return tuple(self.result_fields)

    def result_name(self, pmml_name: str) -> str:
        """The published name of the result PMML calls ``pmml_name`` (a target or output field)."""
        for name, f in self.result_fields.items():
            if f.name == pmml_name:
                return name
        raise ConfigError(f"{pmml_name!r} is not a result field of {self.document.source}; "
                          f"its results are {[f.name for f in self.result_fields.values()]}")

    # --- scoring -----------------------------------------------------------
    def predict(self, record: dict[str, Any], *, explain: bool = False) -> dict[str, Any]:
        """Score one record; raises InputError naming the field and value.

        ``explain=True`` adds ``"explanation"``: ``{"of", "raw", "base", "contributions"}`` (see explaining.py).
        """
        if explain:
            from .explaining import require_native

            require_native(self)
        typed = self.contract.check_record(record)
        out = self._bounded(self.backend.evaluate_record, typed)
        answer = {name: _cast_scalar(out.get(f.name), f.data_type) for name, f in self.result_fields.items()}
        if explain:
            from .explaining import explain_record

            answer[own_column("explanation", answer)] = explain_record(self, typed)  # never hides a result
        return answer

    def predict_records(self, records: Any, *, rows: Any = None, outputs: Any = None, explain: bool = False) -> Any:
        """Score parsed JSON records (a list of dicts, or a dict of equal-length columns) without pandas.

        Returns ``records.Answers``: per record its results or its error, as
        ``predict_batch(errors="column")`` answers them; ``rows`` are the row numbers errors name.
        ``explain=True`` fills ``Answers.explanations`` (per record, as ``predict`` gives it).
        """
        from .records import score_columns, score_records

        if explain:
            from .explaining import require_native

            require_native(self)
        score = score_columns if isinstance(records, dict) else score_records
        return score(self, records, rows=rows, outputs=outputs, explain=explain)

    def predict_batch(self, df: pd.DataFrame, *, errors: str = "raise", explain: bool = False) -> pd.DataFrame:
        """Score a DataFrame. ``errors="column"`` reports bad rows in the ``error_column`` column.

        ``explain=True`` adds, after the results, ``raw_score``, ``base_score`` and ``contribution_<field>``
        per input field (``reason_code_<k>`` for scorecards), each through ``own_column``.
        """
        if errors not in ("raise", "column"):
            raise ConfigError(f"errors={errors!r}; expected 'raise' or 'column'")
        if explain:
            from .explaining import require_native

            require_native(self)
        ranges = rowsplit.parts(self, len(df)) if not explain else [(0, len(df))]
        prepared = self.contract.check_frame(df, threads=rowsplit.check_threads(self, len(df)))
        if prepared.errors and errors == "raise":
            raise first_input_error(self.contract, df, min(prepared.errors))
        if len(ranges) > 1:
            scored = rowsplit.evaluate_in_parts(self, prepared, df.index, ranges, raise_errors=errors == "raise")
        else:
            scored = self.evaluate_prepared(prepared, df.index, raise_errors=errors == "raise")
        columns = {name: scored.columns[name] for name in self.result_names}
        if explain:
            from .explaining import explain_prepared

            columns.update(explain_prepared(self, prepared, scored.messages))
        if errors == "column":
            columns[self.error_column] = scored.messages
        out = _frame(columns, df.index)
        if errors == "column" and scored.failed.any():
            for name in self.result_names:
                out.loc[scored.failed, name] = None
        return out

    def evaluate_prepared(self, prepared: Prepared, labels: Any, *, raise_errors: bool = False) -> Scored:
        """Score the rows the contract passed: result arrays by published name, and each row's error.

        ``labels`` number the rows in messages; a row the backend fails raises EvaluationError
        with ``raise_errors``, else gets its message (its results are then meaningless).
        """
        n, n_ok = len(prepared.ok), int(prepared.ok.sum())
        results, row_errors = (
            self._bounded(self.backend.evaluate, prepared.columns, n_ok, prepared.levels) if n_ok
            else ({f.name: [] for f in self.result_fields.values()}, None))
        messages = np.full(n, None, dtype=object)
        failed = ~prepared.ok
        for i, msg in prepared.errors.items():
            messages[i] = msg
        ok_positions = np.flatnonzero(prepared.ok)
        if row_errors:
            for j, msg in enumerate(row_errors):
                if msg:
                    label = labels[ok_positions[j]]
                    if raise_errors:
                        raise EvaluationError(f"row {label}: {clip(msg)}")
                    messages[ok_positions[j]] = f"row {label}: {clip(msg)}"  # backends echo values too
                    failed[ok_positions[j]] = True
        columns = {name: _result_column(results[f.name], ok_positions, n, f.data_type)
                   for name, f in self.result_fields.items()}
        return Scored(columns, messages, failed)

    def _bounded(self, fn: Any, *args: Any) -> Any:
        """Call the backend, within ``self.timeout`` seconds when one is set."""
        if self.timeout is None:
            return fn(*args)
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = fn(*args)
            except BaseException as e:  # noqa: BLE001 - handed back to the caller's thread
                box["error"] = e

        # A thread of its own per call: an abandoned call must not block the next one.
        worker = threading.Thread(target=run, name="pmmlkit-eval", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise EvaluationTimeout(f"backend {self.backend_name} took longer than {self.timeout:g} s "
                                    f"on {self.document.source}; the call was abandoned and the "
                                    "evaluator stays usable (raise timeout= for large batches)")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Evaluator {self.document.source} {self.schema.model_type} backend={self.backend_name}>"


def first_input_error(contract: Contract, df: pd.DataFrame, position: int) -> InputError:
    """Re-check one bad row to raise its InputError with all its attributes."""
    record = {c: df.iloc[position][c] for c in df.columns}
    try:
        contract.check_record(record, row=df.index[position])
    except InputError as e:
        return e
    raise PmmlkitError(f"row {df.index[position]} failed the input contract")  # pragma: no cover


def _frame(columns: dict[str, Any], index: pd.Index) -> pd.DataFrame:
    """A frame of freshly made result arrays, without copying them.

    Handed over as Series, no column is copied or inspected: given as arrays, pandas copies an
    object column and scans it for dates (~1.5 ms per 100k rows). An object column is declared
    as one, which spares the Series its own scan (~0.13 ms per 100k rows): result and error
    columns hold text and None only (``_cast_column``), never dates to infer.
    """
    return pd.DataFrame({name: pd.Series(col, index=index, copy=False, dtype=object if _is_object(col) else None)
                         for name, col in columns.items()}, index=index, copy=False)


def _is_object(col: Any) -> bool:
    return isinstance(col, np.ndarray) and col.dtype == object


def _result_column(values: Any, ok_positions: np.ndarray, n: int, data_type: str) -> Any:
    """A backend's values for the scored rows, spread over all rows, typed by the field.

    Returns an array, so assignment into the result frame is positional, not by label.
    """
    if data_type in ("double", "float", "integer"):
        try:  # the native backend's float arrays take this path without any Python loop
            numbers = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            numbers = pd.Series(values, dtype=object).astype("float64").to_numpy()
        full = _spread(numbers, ok_positions, n, np.nan)
        if data_type != "integer":
            return full
        missing = np.isnan(full)
        whole = np.where(missing, 0.0, full)
        if (whole == np.floor(whole)).all():  # the common case, built without pandas' checks
            return pd.arrays.IntegerArray(whole.astype(np.int64), missing)
        return pd.array(full, dtype="Int64")
    column = _cast_column(_spread(np.asarray(values, dtype=object), ok_positions, n, None), data_type)
    # Text as its object array: pandas' NumPy-backed wrapper looks for missing values in every
    # frame built from it (1.5 ms per 100k labels when some are missing).
    return column.to_numpy() if column.dtype == object else column.array


def _spread(values: np.ndarray, ok_positions: np.ndarray, n: int, missing: Any) -> np.ndarray:
    """A fresh array of ``n`` with ``values`` at ``ok_positions`` and ``missing`` elsewhere: a copy
    when every row scored (the common case, one pass instead of a fill and a scatter)."""
    if len(ok_positions) == n:
        return np.array(values, dtype=values.dtype)
    full = np.full(n, missing, dtype=values.dtype)
    full[ok_positions] = values
    return full


def _cast_column(values: np.ndarray, data_type: str) -> pd.Series:
    """One result column to its field's type; the same dtype whatever the backend."""
    if data_type in ("double", "float"):
        return pd.Series(values, dtype=object).astype("float64")
    if data_type == "integer":
        return pd.Series(pd.Series(values, dtype=object).astype("float64"), dtype="Int64")
    if data_type == "boolean":
        return pd.Series([None if _missing(v) else _to_bool(v) for v in values], dtype="boolean")
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # all text, none missing: as it is
        return pd.Series(values, dtype=object, copy=False)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        # Labels are text already (the common case, and canonical_text(str) is the str): only
        # the missing ones change, without a Python call per row.
        texts = np.array(values, dtype=object)
        texts[pd.isna(texts)] = None
        return pd.Series(texts, dtype=object)
    return pd.Series([None if _missing(v) else canonical_text(v) for v in values], dtype=object)


def _cast_scalar(value: Any, data_type: str) -> Any:
    if _missing(value):
        return None
    if data_type in ("double", "float"):
        return float(value)
    if data_type == "integer":
        return int(float(value))
    if data_type == "boolean":
        return _to_bool(value)
    return canonical_text(value)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)) or v is pd.NA


def _to_bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1")
    return bool(v)
