"""CSV predict: CSV in, CSV out, block by block, while the request body is still arriving.

Every record gets exactly one output line, in order: its results, or empty results and
the reason in the error column. A malformed line (wrong number of fields, bytes that are
not UTF-8) is such a reject wherever it falls, so the answer, already 200 and streaming,
is never cut short by one bad line.
"""
from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pandas as pd

from ..errors import PmmlkitError, clip
from .predict import BadRequest, Budget, spread

log = logging.getLogger(__name__)

Score = Callable[[pd.DataFrame], Awaitable[pd.DataFrame]]
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that did not decode, kept by surrogateescape


@dataclass(frozen=True)
class CsvShape:
    """What the output looks like: the model's result columns and its error column."""

    names: tuple[str, ...]
    error_column: str


class CsvRecords:
    """The header, then blocks of complete records, parsed into a frame and per-row rejects."""

    def __init__(self, header: bytes):
        text = _decode(header).lstrip("\ufeff").rstrip("\r\n")
        if not text.strip():
            raise BadRequest("the CSV body is empty; expected a header line and records")
        if _NOT_UTF8.search(text):
            raise BadRequest("the CSV header line is not valid UTF-8")
        self.columns = next(csv.reader([text]))
        twice = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if twice:
            raise BadRequest(clip(f"the CSV header names column(s) {twice} more than once; "
                                  "give every column its own name", limit=300))
        self.offset = 0  # row number of the next record: 0 is the first line after the header

    def parse(self, block: bytes) -> tuple[pd.DataFrame, dict[int, str], pd.RangeIndex]:
        """(good records, {row: reason} for the rest, every row number of the block)."""
        text = _decode(block)
        check_utf8 = _NOT_UTF8.search(text) is not None
        width, good, positions, rejected = len(self.columns), [], [], {}
        reader = csv.reader(io.StringIO(text, newline=""))
        start = row = self.offset
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as e:  # the reader resumes at the next line
                rejected[row], row = f"row {row}: malformed CSV line: {e}", row + 1
                continue
            if not fields:
                continue  # a blank line is not a record (as in `pmmlkit score`)
            if len(fields) != width:
                rejected[row] = f"row {row}: malformed CSV line: expected {width} fields, found {len(fields)}"
            elif check_utf8 and any(_NOT_UTF8.search(f) for f in fields):
                rejected[row] = f"row {row}: the line is not valid UTF-8"
            else:
                good.append(fields)
                positions.append(row)
            row += 1
        self.offset = row
        # Everything as text: the input contract converts with the model's types and names
        # the row and field of a bad value. Empty cells are missing values.
        frame = pd.DataFrame(good, columns=self.columns, index=positions, dtype=object) if good \
            else pd.DataFrame({c: pd.Series(dtype=object) for c in self.columns}, index=pd.Index([], dtype=int))
        return frame, rejected, pd.RangeIndex(start, row)


async def stream_csv(chunks: AsyncIterator[bytes], score: Score, *, shape: CsvShape,
                     chunk_bytes: int) -> AsyncIterator[bytes]:
    """Score CSV bytes as they arrive; yield result CSV (results + error column) per block.

    An error scoring the first block propagates (the response has no status yet); after
    that, the block's rows are answered with the reason, and the next block is tried.
    """
    first, budget, records = True, Budget(), None
    async for header, block in _blocks(chunks, chunk_bytes):
        records = records or CsvRecords(header)
        frame, rejected, rows = records.parse(block)
        if not first and not len(rows):
            continue
        try:
            out = await score(frame)  # even with no good rows: the first call checks the header
        except Exception as e:  # answered in the rows (or re-raised for the first block): see the docstring
            if first:
                raise
            out = _not_scored(frame, rejected, e, shape)
        yield _write_csv(spread(out, rows, rejected, shape.error_column, budget), header=first)
        first = False


async def _blocks(chunks: AsyncIterator[bytes], chunk_bytes: int) -> AsyncIterator[tuple[bytes, bytes]]:
    """(header line, complete records) of about ``chunk_bytes``; at least one block."""
    buf, header, sent = b"", None, False
    async for chunk in chunks:
        buf += chunk
        if header is None:
            end = buf.find(b"\n")
            if end < 0:
                continue
            header, buf = buf[:end + 1], buf[end + 1:]
        if len(buf) >= chunk_bytes:
            complete, buf = _split_records(buf)
            if complete:
                yield header, complete
                sent = True
    if header is None:
        header, buf = buf, b""
    if buf or not sent:
        yield header, buf


def _not_scored(frame: pd.DataFrame, rejected: dict[int, str], e: Exception, shape: CsvShape) -> pd.DataFrame:
    ours = isinstance(e, (BadRequest, PmmlkitError))
    reason = clip(str(e), limit=300) if ours else f"internal error: {type(e).__name__}"
    log.error("CSV predict: rows %s-%s not scored: %s: %s", frame.index.min(), frame.index.max(),
              type(e).__name__, clip(str(e), limit=300))
    rejected.update({int(i): f"row {i}: not scored: {reason}" for i in frame.index})
    return pd.DataFrame({name: pd.Series(dtype=object) for name in shape.names}, index=pd.Index([], dtype=int))


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")


def _split_records(buf: bytes) -> tuple[bytes, bytes]:
    """Cut after the last newline that ends a record (not one inside a quoted field)."""
    end = len(buf)
    while (end := buf.rfind(b"\n", 0, end)) >= 0:
        if buf.count(b'"', 0, end) % 2 == 0:
            return buf[:end + 1], buf[end + 1:]
    return b"", buf


def _write_csv(out: pd.DataFrame, *, header: bool) -> bytes:
    return out.to_csv(index=False, header=header, lineterminator="\n").encode()


def csv_abort_line(shape: CsvShape, e: Exception) -> bytes:
    """A last CSV line for an answer that cannot be finished: empty results and the reason."""
    row = {**{name: None for name in shape.names},
           shape.error_column: "the answer is incomplete, rows after this line were not read: "
                               + clip(str(e), limit=300)}
    return _write_csv(pd.DataFrame([row]), header=False)
