"""Input of batch scoring: CSV and Parquet read in chunks bounded by rows *and* bytes.

A reader yields Arrow chunks: a table and each row's original number (0 = the first
data row, ``errors.FIRST_ROW``). Rows that never reach the model are the reader's own rejects, each a
``(row, reason, raw line)``: a CSV line with the wrong number of fields, a row with bytes
that are not UTF-8, a row with a cell larger than ``max_cell_bytes``. A file that cannot
be read as a table at all (empty, no header, duplicate column names, not Parquet) is an
InputFileError before anything is scored.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import FIRST_ROW, ConfigError, InputFileError
from ..formats import compression
from .csvsource import DECOMPRESSION_ERRORS, open_bytes, read_header

DEFAULT_CHUNK_ROWS = 100_000
DEFAULT_CHUNK_BYTES = 64 << 20  # decoded bytes of one chunk: bounds memory whatever the compression
DEFAULT_MAX_CELL_BYTES = 1 << 20
_PREVIEW = 60  # characters of an oversized value kept in its reject
# A byte that is not UTF-8 reaches the parser as one private-use character of this range
# (byte 0xXY -> U+10FEXY): the row stays one row, and is rejected with the original byte.
_MARK_BASE = 0x10FE00
_MARKS = "[\U0010FE80-\U0010FEFF]"

Reject = tuple[int, str, "str | None"]


@dataclass(frozen=True)
class Chunk:
    """Rows of the input as Arrow read them (CSV: all text), with their row numbers."""

    table: pa.Table
    rows: np.ndarray  # int64, one per row of ``table``


class InputReader:
    """Chunks of one input file plus the rows it rejected on its own."""

    def __init__(self, path: str, *, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES, max_cell_bytes: int = DEFAULT_MAX_CELL_BYTES):
        self.path, self.chunk_rows, self.chunk_bytes = path, chunk_rows, chunk_bytes
        self.max_cell_bytes = max_cell_bytes
        self.columns: list[str] = []
        self.rejects: list[Reject] = []  # appended in row order by the parser and the screen
        self._taken = 0

    def chunks(self) -> Iterator[Chunk]:
        raise NotImplementedError

    def _marked(self) -> bool:
        """True once the input held a byte that is not UTF-8 (CSV only)."""
        return False

    def take_rejects(self) -> list[Reject]:
        """The rejects found since the last call."""
        new = self.rejects[self._taken:]
        self._taken = len(self.rejects)
        return new

    def _check_columns(self, names: list[str], *, where: str) -> None:
        seen: dict[str, int] = {}
        for i, name in enumerate(names, 1):
            if name in seen:
                raise InputFileError(f"{self.path}: column {name!r} appears twice in the {where} (columns "
                                     f"{seen[name]} and {i}); rename one so that every column name is unique")
            seen[name] = i
        self.columns = names

    def _chunks(self, table: pa.Table, numbers: np.ndarray) -> Iterator[Chunk]:
        """Chunks without the rows that are not valid text or too big.

        Text may arrive dictionary-encoded (Parquet): it is decoded only after oversized
        rows are gone, and in slices of at most ``chunk_bytes`` decoded bytes.
        """
        ok = np.ones(table.num_rows, dtype=bool)
        row_bytes = np.zeros(table.num_rows, dtype=np.int64)
        reasons: dict[int, str] = {}
        for name, column in zip(table.column_names, table.columns):
            sizes = _cell_sizes(column)
            if sizes is None:
                continue
            row_bytes += sizes
            for i in np.flatnonzero(ok & (sizes > self.max_cell_bytes)).tolist():
                ok[i] = False
                reasons[i] = (f"row {numbers[i]}: field {name!r}: value of {sizes[i]} bytes is larger than "
                              f"the cell cap of {self.max_cell_bytes} bytes (max_cell_bytes, --max-cell-bytes)")
            if self._marked() and pa.types.is_string(column.type):  # only once a bad byte was seen
                for i, problem in _invalid_utf8(column, ok):
                    ok[i] = False
                    reasons[i] = f"row {numbers[i]}: field {name!r}: {problem}"
        if reasons:  # rare: the columns as bytes once, for every reject's line
            cells = [c.cast(pa.binary()) if pa.types.is_string(c.type) else c for c in table.columns]
            self.rejects.extend((int(numbers[i]), reasons[i], _line_preview(cells, i, self.max_cell_bytes))
                                for i in sorted(reasons))
        if not ok.all():
            table, row_bytes, numbers = table.filter(pa.array(ok)), row_bytes[ok], numbers[ok]
        for start, stop in _slices(row_bytes, self.chunk_bytes):
            yield Chunk(_decoded(table.slice(start, stop - start)), numbers[start:stop])


class CsvReader(InputReader):
    """CSV read by Arrow, every column as text (typing is the input contract's job, per row)."""

    def __init__(self, path: str, *, delimiter: str | None = None, **options: Any):
        super().__init__(path, **options)
        self.header = read_header(path, delimiter)
        self._check_columns(self.header.names, where="header")
        self._next_row = FIRST_ROW
        self._numbered_upto = 0  # self.rejects[:_numbered_upto] are behind _next_row
        self._stream: _MarkedUtf8 | None = None

    def _marked(self) -> bool:
        return self._stream is not None and self._stream.marked

    def chunks(self) -> Iterator[Chunk]:
        def on_invalid(row: Any) -> str:
            # Physical line 1 is the header, line 2 the first data row; without multi-line values
            # a line is a row.
            number = (row.number - 2 + FIRST_ROW) if row.number is not None else -1
            self.rejects.append((number, f"malformed CSV line: expected {row.expected_columns} fields, "
                                         f"found {row.actual_columns}", _unmarked(row.text)))
            return "skip"

        # Arrow reads blocks ahead of the parser: small blocks keep that small. A line must fit a
        # block, so a block holds a few maximal cells.
        block = max(1 << 20, 2 * self.max_cell_bytes + (64 << 10))
        with open_bytes(self.path) as raw:
            self._stream = _MarkedUtf8(raw)
            try:
                reader = pacsv.open_csv(
                    self._stream,
                    read_options=pacsv.ReadOptions(block_size=block, use_threads=False),
                    parse_options=pacsv.ParseOptions(delimiter=self.header.delimiter,
                                                     invalid_row_handler=on_invalid),
                    convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in self.columns},
                                                         strings_can_be_null=False),
                )
            except DECOMPRESSION_ERRORS as e:
                raise self._parse_error(e) from None
            try:
                for table in _regrouped(reader, self.chunk_rows, self.chunk_bytes):
                    yield from self._chunks(table, self._numbers(table.num_rows))
            except DECOMPRESSION_ERRORS as e:
                raise self._parse_error(e) from None
            finally:
                reader.close()

    def _numbers(self, n: int) -> np.ndarray:
        """The next ``n`` row numbers, skipping those of malformed lines (already rejected)."""
        # The parser runs ahead: rejects past this chunk are kept for the next one.
        skipped = np.array([r[0] for r in self.rejects[self._numbered_upto:] if r[0] >= self._next_row],
                           dtype=np.int64)
        candidates = np.arange(self._next_row, self._next_row + n + len(skipped), dtype=np.int64)
        numbers = candidates[~np.isin(candidates, skipped)][:n]
        if n:
            self._next_row = int(numbers[-1]) + 1
        while (self._numbered_upto < len(self.rejects)
               and self.rejects[self._numbered_upto][0] < self._next_row):
            self._numbered_upto += 1
        return numbers

    def _parse_error(self, e: Exception) -> InputFileError:
        hint = ""
        if "straddl" in str(e):
            hint = (f"; a line after row {self._next_row - 1} is longer than the parser's block; "
                    f"raise --max-cell-bytes (now {self.max_cell_bytes}) if such lines are expected")
        elif not isinstance(e, pa.ArrowInvalid) or compression(self.path):
            what = f"{compression(self.path)}-compressed " if compression(self.path) else ""
            return InputFileError(f"{self.path}: cannot read the {what}CSV after row {self._next_row - 1}: {e}; "
                                  "is the file complete?")
        return InputFileError(f"{self.path}: cannot parse the CSV: {e}{hint}")


class ParquetReader(InputReader):
    """Parquet read one row group at a time, in batches sized by the row group's decoded bytes."""

    def __init__(self, path: str, **options: Any):
        super().__init__(path, **options)
        try:
            schema = pq.read_schema(path)
            # Text read as dictionaries: a value repeated in every row (which compresses to
            # nothing) is held once until the rows that are too big have been dropped.
            text = [f.name for f in schema if _is_text(f.type)]
            self._file = pq.ParquetFile(path, read_dictionary=text)
        except (pa.ArrowInvalid, OSError) as e:
            raise InputFileError(f"{path}: not a readable Parquet file ({e})") from None
        self._check_columns(list(schema.names), where="schema")

    def chunks(self) -> Iterator[Chunk]:
        meta = self._file.metadata
        start = FIRST_ROW
        for group in range(meta.num_row_groups):
            info = meta.row_group(group)
            per_row = -(-info.total_byte_size // max(info.num_rows, 1))
            rows = max(1, min(self.chunk_rows, self.chunk_bytes // max(per_row, 1)))
            for batch in self._file.iter_batches(batch_size=rows, row_groups=[group], use_threads=False):
                table = pa.Table.from_batches([batch])
                yield from self._chunks(table, np.arange(start, start + batch.num_rows, dtype=np.int64))
                start += batch.num_rows


def open_input(path: str, fmt: str, *, delimiter: str | None = None, **options: Any) -> InputReader:
    """A reader for ``path`` (``fmt``: csv or parquet); refuses an unreadable file at once."""
    if os.path.isdir(path) or not os.path.exists(path):
        raise InputFileError(f"{path}: no such input file")
    if fmt == "csv":
        return CsvReader(path, delimiter=delimiter, **options)
    if delimiter is not None:
        raise ConfigError(f"--delimiter is for CSV input; {path} is Parquet")
    return ParquetReader(path, **options)


def _regrouped(reader: Any, chunk_rows: int, chunk_bytes: int) -> Iterator[pa.Table]:
    """The parser's blocks regrouped into tables of at most ``chunk_rows`` rows and ~``chunk_bytes``."""
    pending: list[pa.RecordBatch] = []
    rows = size = 0
    for batch in reader:
        pending.append(batch)
        rows, size = rows + batch.num_rows, size + batch.nbytes
        while rows >= chunk_rows or (size >= chunk_bytes and rows):
            table = pa.Table.from_batches(pending)
            take = min(rows, chunk_rows)
            yield table.slice(0, take)
            rest = table.slice(take)
            pending, rows, size = rest.to_batches(), rest.num_rows, rest.nbytes if rest.num_rows else 0
    if rows:
        yield pa.Table.from_batches(pending)


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) \
        or pa.types.is_large_binary(kind)


def _cell_sizes(column: pa.ChunkedArray) -> np.ndarray | None:
    """Bytes of each text value (0 for null), dictionary or not; None for a column that is not text."""
    if pa.types.is_dictionary(column.type):
        if not _is_text(column.type.value_type):
            return None
        parts = []
        for chunk in column.chunks:
            lengths = pc.fill_null(pc.binary_length(chunk.dictionary), 0).to_numpy(zero_copy_only=False)
            valid = chunk.is_valid().to_numpy(zero_copy_only=False)
            indices = pc.fill_null(chunk.indices, 0).to_numpy(zero_copy_only=False)
            parts.append(np.where(valid, lengths[indices] if len(lengths) else 0, 0))
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
    if not _is_text(column.type):
        return None
    return pc.fill_null(pc.binary_length(column), 0).to_numpy().astype(np.int64)


def _slices(row_bytes: np.ndarray, budget: int) -> Iterator[tuple[int, int]]:
    """[start, stop) ranges of consecutive rows holding at most ``budget`` bytes (at least one row)."""
    ends = np.cumsum(row_bytes)
    start, n = 0, len(row_bytes)
    while start < n:
        base = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + budget, side="right")))
        yield start, stop
        start = stop


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary columns back to plain values (as the writers and the rejects want them)."""
    for i, kind in enumerate(table.schema.types):
        if pa.types.is_dictionary(kind):
            table = table.set_column(i, table.field(i).name, table.column(i).cast(kind.value_type))
    return table


class _MarkedUtf8(io.RawIOBase):
    """The bytes of ``raw``, with every byte that is not UTF-8 turned into a mark character.

    Arrow's CSV reader fails a whole block on such a byte (and cannot even report the line
    to the invalid-row handler); marked, the row parses and is rejected on its own. Valid
    UTF-8 passes unchanged: ASCII blocks as they are, others through an incremental decoder.
    """

    def __init__(self, raw: Any):
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="pmmlkit-mark")
        self._out = b""
        self._eof = False
        self.marked = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._out) < size):
            block = self._raw.read(1 << 20)
            self._eof = not block
            if block.isascii() and not self._decoder.getstate()[0]:
                self._out += block
                continue
            text = self._decoder.decode(block, final=self._eof)
            self.marked = self.marked or re.search(_MARKS, text) is not None
            self._out += text.encode("utf-8")
        size = len(self._out) if size < 0 else size
        data, self._out = self._out[:size], self._out[size:]
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _mark(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):  # registered for decoding only
        raise error
    return "".join(chr(_MARK_BASE + b) for b in error.object[error.start:error.end]), error.end


codecs.register_error("pmmlkit-mark", _mark)


def _unmarked(text: str) -> str:
    """Marks shown as the bytes they stand for: ``\\xe9``."""
    return re.sub(_MARKS, lambda m: f"\\x{ord(m.group()) - _MARK_BASE:02x}", text)


def _invalid_utf8(column: pa.ChunkedArray, ok: np.ndarray) -> list[tuple[int, str]]:
    """(position, problem) of values that held bytes that are not UTF-8 (marked by _MarkedUtf8)."""
    hits = pc.fill_null(pc.match_substring_regex(column, _MARKS), False).to_numpy(zero_copy_only=False)
    bad = []
    for i in np.flatnonzero(hits & ok):
        value = column[int(i)].as_py()
        original = b"".join(bytes([ord(c) - _MARK_BASE]) if _MARK_BASE + 0x80 <= ord(c) <= _MARK_BASE + 0xFF
                            else c.encode("utf-8") for c in value)
        try:
            original.decode("utf-8")
            continue
        except UnicodeDecodeError as e:
            bad.append((int(i), f"byte 0x{original[e.start]:02x} at position {e.start} is not UTF-8; save "
                                "the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"))
    return bad


def _line_preview(cells: list[pa.ChunkedArray], i: int, cap: int) -> str:
    """Row ``i`` as a CSV line, bad bytes escaped and oversized values cut to a preview."""
    values = []
    for column in cells:
        value = column[i].as_py()
        if isinstance(value, str) and len(value) > cap // 4:  # may be over the cap in bytes
            value = value.encode("utf-8")
        if isinstance(value, bytes):
            text = _unmarked(value[:cap + 1].decode("utf-8", errors="backslashreplace"))
            value = text if len(value) <= cap else f"{text[:_PREVIEW]}... ({len(value)} bytes)"
        values.append("" if value is None else value)
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()
