"""Streaming batch scoring of CSV and Parquet files, with rejects and atomic output.

Memory stays flat: the input is read in Arrow chunks bounded by rows and bytes (see
``readers``), scored by a few threads at once (see ``pipeline``) and appended, in input
order, to a temporary output that is renamed into place at the end (see ``output`` and
``sink``). Every input row ends up either in the output or in the rejects file, with its
original row number (0 = the first data row, ``errors.FIRST_ROW``), so output + rejects = input.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import ConfigError, TooManyRejectsError
from ..evaluator import Evaluator, own_column
from ..evaluator.names import check_kept
from ..evaluator.native.parallel import check_threads
from ..formats import STDIO, compression, data_format
from .output import OutputLayout
from .pipeline import ordered_map, prefetched
from .readers import DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS, DEFAULT_MAX_CELL_BYTES, Chunk, Reject, open_input
from .sink import Sink, is_special

__all__ = ["DEFAULT_CHUNK_BYTES", "DEFAULT_CHUNK_ROWS", "DEFAULT_MAX_CELL_BYTES", "ScoreSummary", "score_file"]

ROW, REASON, RAW = "row", "error", "raw"


@dataclass
class ScoreSummary:
    input_rows: int = 0
    output_rows: int = 0
    rejected_rows: int = 0
    output_path: str = ""
    rejects_path: str | None = None
    seconds: float = 0.0
    backend: str = ""
    input_note: str = ""  # how the input was read, when worth saying (a detected delimiter)

    @property
    def rows_per_second(self) -> float:
        return self.input_rows / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class RejectColumns:
    """Names of the rejects file's own columns: ``row``, ``error``, ``raw`` unless an input has one.

    The rule of Evaluator.error_column (own_column): a leading underscore until the name is free.
    """

    row: str
    reason: str
    raw: str

    @classmethod
    def beside(cls, inputs: list[str]) -> RejectColumns:
        row = own_column(ROW, inputs)
        reason = own_column(REASON, [*inputs, row])
        return cls(row, reason, own_column(RAW, [*inputs, row, reason]))


class _NoProgress:
    """What _progress gives when no bar is shown."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, rows: int) -> None:
        pass


def _progress(enabled: bool | None) -> Any:
    # Off when stderr is not a terminal (quiet when piped), as tqdm's disable=None decides;
    # decided here so that a run without a bar does not import tqdm (start-up time).
    if not (enabled or (enabled is None and _is_terminal(sys.stderr))):
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(unit=" rows", unit_scale=True, desc="scoring", file=sys.stderr, leave=False, disable=False)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def score_file(evaluator: Evaluator, input_path: str, output_path: str, *,
               rejects_path: str | None = None, keep: tuple[str, ...] = (), max_errors: int = 0,
               chunk_rows: int = DEFAULT_CHUNK_ROWS, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
               max_cell_bytes: int = DEFAULT_MAX_CELL_BYTES, input_format: str | None = None,
               output_format: str | None = None, progress: bool | None = None,
               threads: int | None = None, delimiter: str | None = None, explain: bool = False) -> ScoreSummary:
    """Score a file into ``output_path``; bad rows go to ``rejects_path`` (default: beside it).

    A run without rejects leaves no rejects file: one left by an earlier run is removed.
    ``threads`` score chunks at once (default: every core); the output is the same for any number.
    A CSV input may be compressed (``.csv.gz``...); its ``delimiter`` is sniffed from the header
    unless given. ``output_path`` ``-`` is standard output (CSV). ``explain`` adds the explanation
    columns of ``Evaluator.predict_batch(explain=True)`` after the results (native backend only).
    """
    started = time.perf_counter()
    if explain:
        from ..evaluator.explaining import require_native

        require_native(evaluator)
    check_kept(keep, evaluator.result_names)
    in_fmt = _local_format(input_path, input_format, what="input")
    out_fmt = _local_format(output_path, output_format, what="output")
    reader = open_input(input_path, in_fmt, chunk_rows=chunk_rows, chunk_bytes=chunk_bytes,
                        max_cell_bytes=max_cell_bytes, delimiter=delimiter)
    missing_keep = [c for c in keep if c not in reader.columns]
    if missing_keep:
        raise ConfigError(f"--keep column(s) {missing_keep} not in the input columns {reader.columns}")
    rejects_path = rejects_path or _default_rejects(output_path, input_path)
    summary = ScoreSummary(output_path=output_path, rejects_path=rejects_path, backend=evaluator.backend_name)
    header = getattr(reader, "header", None)
    if header is not None and (header.delimiter != "," or not header.detected):
        summary.input_note = f"{input_path}: {header.describe()}"
    names = RejectColumns.beside(reader.columns)
    reject_columns = [names.row, names.reason, *reader.columns, names.raw]
    scorer = _ChunkScorer(evaluator, keep=keep, names=names, fmt=out_fmt, explain=explain)
    with ExitStack() as stack:
        out = Sink(output_path, out_fmt)
        stack.callback(out.discard)
        rej = Sink(rejects_path, "csv", what="rejects file")
        stack.callback(rej.discard)
        bar = stack.enter_context(_progress(progress))
        # Read in a thread of its own: the next chunk is parsed while this thread writes.
        work = prefetched((chunk, reader.take_rejects()) for chunk in reader.chunks())
        for done in ordered_map(scorer, work, workers=_workers(evaluator, threads)):
            out.write_payload(done.output)
            if len(done.rejects):
                rej.write(done.rejects.reindex(columns=reject_columns))
            summary.input_rows += done.rows
            bar.update(done.rows)
        # Rejects after the last good row arrive only when the reader is drained.
        tail = _reader_rejects(reader.take_rejects(), names)
        if len(tail):
            rej.write(tail.reindex(columns=reject_columns))
        summary.input_rows += len(reader.rejects)
        summary.output_rows, summary.rejected_rows = out.rows, rej.rows
        out.commit([*keep, *scorer.columns])
        _finish_rejects(rej, reject_columns, summary)
        stack.pop_all()
    summary.seconds = time.perf_counter() - started
    if summary.rejected_rows > max_errors:
        raise TooManyRejectsError(summary.rejected_rows, max_errors, summary.rejects_path)
    return summary


def _workers(evaluator: Evaluator, threads: int | None) -> int:
    """Scoring threads: the native backend's are free; a JVM or PMML4S bridge stays in this thread."""
    workers = check_threads(threads)
    return workers if evaluator.backend_name == "native" else 0


@dataclass(frozen=True)
class _Scored:
    rows: int             # input rows of the chunk (not counting the reader's own rejects)
    output: Any           # the payload of Sink.write_payload
    rejects: pd.DataFrame


class _ChunkScorer:
    """Scores one chunk into its output payload and its rejects; safe to call from several threads."""

    def __init__(self, evaluator: Evaluator, *, keep: tuple[str, ...], names: RejectColumns, fmt: str,
                 explain: bool = False):
        self.evaluator, self.keep, self.names, self.fmt, self.explain = evaluator, keep, names, fmt, explain
        self._types = {name: f.data_type for name, f in evaluator.result_fields.items()}
        if explain:
            from ..evaluator.explaining import column_types

            self._types.update(column_types(evaluator, keep))
        #: the output's columns after the kept ones: results, then any explanation columns
        self.columns = tuple(self._types)
        self._layout: OutputLayout | None = None
        self._lock = threading.Lock()

    def __call__(self, work: tuple[Chunk, list[Reject]]) -> _Scored:
        chunk, early = work
        ev = self.evaluator
        prepared = ev.contract.check_table(chunk.table, chunk.rows)
        results, messages, failed = ev.evaluate_prepared(prepared, chunk.rows)
        if self.explain:
            from ..evaluator.explaining import explain_prepared

            results = {**results, **explain_prepared(ev, prepared, messages, self.keep)}
        table = self.layout(chunk.table.schema).table(chunk.table, results, ~failed)
        frames = [_reader_rejects(early, self.names)] if early else []
        if failed.any():
            frame = chunk.table.filter(pa.array(failed)).to_pandas()
            frame.insert(0, self.names.reason, messages[failed])
            frame.insert(0, self.names.row, chunk.rows[failed])
            frame[self.names.raw] = None
            frames.insert(0, frame)
        # One concat per chunk, whatever the number of rejects: linear in the input.
        rejects = pd.concat(frames, ignore_index=True) if len(frames) > 1 else (frames[0] if frames else
                                                                                 pd.DataFrame())
        return _Scored(chunk.table.num_rows, self.layout(chunk.table.schema).encode(table, self.fmt), rejects)

    def layout(self, inputs: pa.Schema) -> OutputLayout:
        """The output's columns and types, fixed by the first chunk (every chunk has its schema)."""
        with self._lock:
            if self._layout is None:
                self._layout = OutputLayout(self.keep, inputs, {n: self._types.get(n, "string") for n in self.columns})
            return self._layout


def _reader_rejects(rows: list[Reject], names: RejectColumns) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[names.row, names.reason, names.raw])


def _finish_rejects(rej: Sink, columns: list[str], summary: ScoreSummary) -> None:
    if rej.rows:
        rej.commit(columns)
        return
    rej.discard()
    summary.rejects_path = None
    # A rejects file of an earlier run beside the new output would be taken for this run's.
    if os.path.isfile(rej.path) and not rej.in_place:
        os.remove(rej.path)


def _local_format(path: str, explicit: str | None, *, what: str) -> str:
    """csv or parquet, by formats.data_format; a device or FIFO (``/dev/stdout``) is CSV unless told."""
    if explicit is None and is_special(path):
        return "csv"
    fmt = data_format(path, explicit, what=what)
    if what == "output" and compression(path):
        raise ConfigError(f"the output {path!r} asks for {compression(path)} compression, which `pmmlkit score` "
                          "does not write; name a .csv or .parquet file (Parquet is compressed)")
    return fmt


def _default_rejects(output_path: str, input_path: str) -> str:
    """Beside the output; for standard output, named after the input, in the current folder."""
    if output_path != STDIO:
        p = Path(output_path)
        return str(p.with_name(p.stem + ".rejects.csv"))
    p = Path(input_path)
    if compression(input_path):
        p = p.with_suffix("")
    return p.stem + ".rejects.csv"
