"""Streaming batch scoring of CSV and Parquet files, with rejects and atomic output.

Memory stays flat: the input is read in chunks, each chunk is scored and
appended to a temporary output that is renamed into place at the end. Every
input row ends up either in the output or in the rejects file, with its
original row number (1 = the first data row), so output + rejects = input.
"""
from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import ConfigError, TooManyRejectsError
from ..evaluator import ERROR_COLUMN, Evaluator

DEFAULT_CHUNK_ROWS = 100_000
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


@dataclass
class _Malformed:
    """Lines the CSV parser could not split into the header's fields."""

    rows: list[tuple[int, str, str]] = field(default_factory=list)


def _format(path: str, explicit: str | None) -> str:
    fmt = explicit or ("parquet" if str(path).lower().endswith((".parquet", ".pq")) else "csv")
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"unknown format {fmt!r} for {path}; expected csv or parquet")
    return fmt


def _csv_chunks(path: str, chunk_rows: int, malformed: _Malformed) -> Iterator[pd.DataFrame]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        names = next(csv.reader(f), [])

    def on_invalid(row: Any) -> str:
        # Physical line 1 is the header; without multi-line values a line is a row.
        number = (row.number - 1) if row.number is not None else -1
        malformed.rows.append((number, f"malformed CSV line: expected {row.expected_columns} fields, "
                                       f"found {row.actual_columns}", row.text))
        return "skip"

    # Arrow reads some forty blocks ahead of the parser: small blocks keep that at ~40 MB.
    with open(path, "rb") as raw:
        reader = pacsv.open_csv(
            raw,
            read_options=pacsv.ReadOptions(block_size=1 << 20, use_threads=False),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            # Every column as text: typing is the input contract's job, per row.
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False),
        )
        yield from _numbered(_batches_as_frames(reader, chunk_rows), malformed)


def _batches_as_frames(reader: Any, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The parser's blocks regrouped into frames of ``chunk_rows`` rows (the last one shorter)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in reader:
        pending.append(batch)
        held += batch.num_rows
        while held >= chunk_rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, chunk_rows).to_pandas()
            rest = table.slice(chunk_rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending).to_pandas()


def _numbered(frames: Iterator[pd.DataFrame], malformed: _Malformed) -> Iterator[pd.DataFrame]:
    """Give good rows their original row numbers, skipping the numbers of malformed lines."""
    next_row = 1
    for df in frames:
        skipped = np.array([n for n, _, _ in malformed.rows if n >= next_row], dtype=np.int64)
        candidates = np.arange(next_row, next_row + len(df) + len(skipped), dtype=np.int64)
        numbers = candidates[~np.isin(candidates, skipped)][:len(df)]
        if len(numbers):
            next_row = int(numbers[-1]) + 1
        df.index = pd.Index(numbers, name=ROW)
        yield df


def _parquet_chunks(path: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    start = 1
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
        df = batch.to_pandas()
        df.index = pd.RangeIndex(start, start + len(df), name=ROW)
        start += len(df)
        yield df


class _Sink:
    """Appends frames to a temporary file beside the target; ``commit`` renames it in."""

    def __init__(self, path: str, fmt: str):
        self.path, self.fmt = path, fmt
        target_dir = os.path.dirname(os.path.abspath(path))
        os.makedirs(target_dir, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=target_dir)
        os.close(fd)
        self._writer: Any = None
        self._wrote_header = False
        self.rows = 0

    def write(self, df: pd.DataFrame) -> None:
        self.rows += len(df)
        if self.fmt == "parquet":
            table = pa.Table.from_pandas(df, preserve_index=False)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.tmp, table.schema)
            self._writer.write_table(table.cast(self._writer.schema))
        else:
            df.to_csv(self.tmp, mode="a", header=not self._wrote_header, index=False)
            self._wrote_header = True

    def commit(self, empty_columns: list[str]) -> None:
        if self.rows == 0:
            self.write(pd.DataFrame(columns=empty_columns))
        if self._writer is not None:
            self._writer.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


def _progress(enabled: bool | None) -> Any:
    from tqdm import tqdm

    # tqdm's disable=None turns the bar off when stderr is not a terminal (quiet when piped).
    return tqdm(unit=" rows", unit_scale=True, desc="scoring", file=sys.stderr, leave=False,
                disable=None if enabled is None else not enabled)


def score_file(evaluator: Evaluator, input_path: str, output_path: str, *,
               rejects_path: str | None = None, keep: tuple[str, ...] = (), max_errors: int = 0,
               chunk_rows: int = DEFAULT_CHUNK_ROWS, input_format: str | None = None,
               output_format: str | None = None, progress: bool | None = None) -> ScoreSummary:
    """Score a file into ``output_path``; bad rows go to ``rejects_path`` (default: beside it)."""
    started = time.perf_counter()
    in_fmt, out_fmt = _format(input_path, input_format), _format(output_path, output_format)
    if not Path(input_path).is_file():
        raise ConfigError(f"{input_path}: no such input file")
    rejects_path = rejects_path or _default_rejects(output_path)
    summary = ScoreSummary(output_path=output_path, rejects_path=rejects_path, backend=evaluator.backend_name)
    malformed = _Malformed()
    chunks = _csv_chunks(input_path, chunk_rows, malformed) if in_fmt == "csv" \
        else _parquet_chunks(input_path, chunk_rows)
    out_columns = [*keep, *evaluator.result_names]
    with ExitStack() as stack:
        out = _Sink(output_path, out_fmt)
        rej = _Sink(rejects_path, "csv")
        stack.callback(out.discard)
        stack.callback(rej.discard)
        bar = stack.enter_context(_progress(progress))
        reported = 0
        for df in chunks:
            missing_keep = [c for c in keep if c not in df.columns]
            if missing_keep:
                raise ConfigError(f"--keep column(s) {missing_keep} not in the input columns {list(df.columns)}")
            scored = evaluator.predict_batch(df, errors="column")
            failed = scored[ERROR_COLUMN].notna()
            good = pd.concat([df.loc[~failed, list(keep)], scored.loc[~failed, list(evaluator.result_names)]],
                             axis=1)
            out.write(good)
            rejects = _rejects_frame(df.loc[failed], scored.loc[failed, ERROR_COLUMN])
            for number, reason, raw in malformed.rows[reported:]:
                rejects = pd.concat([rejects, pd.DataFrame({ROW: [number], REASON: [reason], RAW: [raw]})])
            reported = len(malformed.rows)
            if len(rejects):
                rej.write(rejects)
            summary.input_rows += len(df)
            bar.update(len(df))
            del df, scored, good, rejects  # before the next chunk is read: one chunk in memory at a time
        # Malformed lines after the last good row arrive only when the reader is drained.
        tail = malformed.rows[reported:]
        if tail:
            rej.write(pd.DataFrame({ROW: [n for n, _, _ in tail], REASON: [r for _, r, _ in tail],
                                    RAW: [t for _, _, t in tail]}))
        summary.input_rows += len(malformed.rows)
        summary.output_rows, summary.rejected_rows = out.rows, rej.rows
        out.commit(out_columns)
        if rej.rows:
            rej.commit([ROW, REASON])
        else:
            rej.discard()
            summary.rejects_path = None
        stack.pop_all()
    summary.seconds = time.perf_counter() - started
    if summary.rejected_rows > max_errors:
        raise TooManyRejectsError(summary.rejected_rows, max_errors, summary.rejects_path)
    return summary


def _rejects_frame(inputs: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    frame = inputs.copy()
    frame.insert(0, REASON, reasons.to_numpy())
    frame.insert(0, ROW, inputs.index.to_numpy())
    frame[RAW] = None
    return frame.reset_index(drop=True)


def _default_rejects(output_path: str) -> str:
    p = Path(output_path)
    return str(p.with_name(p.stem + ".rejects.csv"))
