"""Streaming batch scoring of CSV and Parquet files, with rejects and atomic output.

Memory stays flat: the input is read in chunks bounded by rows and bytes (see
``readers``), each chunk is scored and appended to a temporary output that is renamed
into place at the end (see ``sink``). Every input row ends up either in the output or
in the rejects file, with its original row number (1 = the first data row), so
output + rejects = input.
"""
from __future__ import annotations

import os
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError, TooManyRejectsError
from ..evaluator import Evaluator, own_column
from .readers import DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS, DEFAULT_MAX_CELL_BYTES, Reject, open_input
from .sink import Sink

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

    @property
    def rows_per_second(self) -> float:
        return self.input_rows / self.seconds if self.seconds else 0.0


def _format(path: str, explicit: str | None) -> str:
    fmt = explicit or ("parquet" if str(path).lower().endswith((".parquet", ".pq")) else "csv")
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"unknown format {fmt!r} for {path}; expected csv or parquet")
    return fmt


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


def _progress(enabled: bool | None) -> Any:
    from tqdm import tqdm

    # tqdm's disable=None turns the bar off when stderr is not a terminal (quiet when piped).
    return tqdm(unit=" rows", unit_scale=True, desc="scoring", file=sys.stderr, leave=False,
                disable=None if enabled is None else not enabled)


def score_file(evaluator: Evaluator, input_path: str, output_path: str, *,
               rejects_path: str | None = None, keep: tuple[str, ...] = (), max_errors: int = 0,
               chunk_rows: int = DEFAULT_CHUNK_ROWS, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
               max_cell_bytes: int = DEFAULT_MAX_CELL_BYTES, input_format: str | None = None,
               output_format: str | None = None, progress: bool | None = None) -> ScoreSummary:
    """Score a file into ``output_path``; bad rows go to ``rejects_path`` (default: beside it).

    A run without rejects leaves no rejects file: one left by an earlier run is removed.
    """
    started = time.perf_counter()
    in_fmt, out_fmt = _format(input_path, input_format), _format(output_path, output_format)
    reader = open_input(input_path, in_fmt, chunk_rows=chunk_rows, chunk_bytes=chunk_bytes,
                        max_cell_bytes=max_cell_bytes)
    missing_keep = [c for c in keep if c not in reader.columns]
    if missing_keep:
        raise ConfigError(f"--keep column(s) {missing_keep} not in the input columns {reader.columns}")
    rejects_path = rejects_path or _default_rejects(output_path)
    summary = ScoreSummary(output_path=output_path, rejects_path=rejects_path, backend=evaluator.backend_name)
    names = RejectColumns.beside(reader.columns)
    reject_columns = [names.row, names.reason, *reader.columns, names.raw]
    with ExitStack() as stack:
        out = Sink(output_path, out_fmt)
        stack.callback(out.discard)
        rej = Sink(rejects_path, "csv", what="rejects file")
        stack.callback(rej.discard)
        bar = stack.enter_context(_progress(progress))
        for df in reader.chunks():
            rejects = _score_chunk(evaluator, df, out, keep=keep, names=names, early=reader.take_rejects())
            if len(rejects):
                rej.write(rejects.reindex(columns=reject_columns))
            summary.input_rows += len(df)
            bar.update(len(df))
            del df, rejects  # before the next chunk is read: one chunk in memory at a time
        # Rejects after the last good row arrive only when the reader is drained.
        tail = _reader_rejects(reader.take_rejects(), names)
        if len(tail):
            rej.write(tail.reindex(columns=reject_columns))
        summary.input_rows += len(reader.rejects)
        summary.output_rows, summary.rejected_rows = out.rows, rej.rows
        out.commit([*keep, *evaluator.result_names])
        _finish_rejects(rej, reject_columns, summary)
        stack.pop_all()
    summary.seconds = time.perf_counter() - started
    if summary.rejected_rows > max_errors:
        raise TooManyRejectsError(summary.rejected_rows, max_errors, summary.rejects_path)
    return summary


def _score_chunk(evaluator: Evaluator, df: pd.DataFrame, out: Sink, *, keep: tuple[str, ...],
                 names: RejectColumns, early: list[Reject]) -> pd.DataFrame:
    """Score one chunk, write its good rows; return its rejects (the reader's ``early`` ones too)."""
    scored = evaluator.predict_batch(df, errors="column")
    reasons = scored[evaluator.error_column]
    failed = reasons.notna().to_numpy()
    out.write(pd.concat([df.loc[~failed, list(keep)], scored.loc[~failed, list(evaluator.result_names)]], axis=1))
    frames = [_reader_rejects(early, names)] if early else []
    if failed.any():
        frame = df.loc[failed].copy()
        frame.insert(0, names.reason, reasons[failed].to_numpy())
        frame.insert(0, names.row, frame.index.to_numpy())
        frame[names.raw] = None
        frames.insert(0, frame.reset_index(drop=True))
    # One concat per chunk, whatever the number of rejects: linear in the input.
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else (frames[0] if frames else pd.DataFrame())


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


def _default_rejects(output_path: str) -> str:
    p = Path(output_path)
    return str(p.with_name(p.stem + ".rejects.csv"))
