"""Output of batch scoring: frames appended to a temporary file that is renamed into place.

The temporary lives beside the target (same filesystem, so the rename is atomic), is
named after its owner (see pmmlkit.durable) and gets the mode a plain open() would give
(umask), not mkstemp's 0600. Temporaries of killed runs for the same target are swept.
A target that exists and is not a regular file (``/dev/stdout``, a FIFO) cannot be
renamed onto: it is written in place, as it streams. Any OSError while writing becomes
an OutputError that says what was kept.
"""
from __future__ import annotations

import glob
import os
import stat
import tempfile
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..durable import follow_umask, fsync_dir, is_stale, owner_tag, remove_tree
from ..errors import OutputError


class Sink:
    """Appends frames to a temporary file beside ``path``; ``commit`` renames it in."""

    def __init__(self, path: str, fmt: str, *, what: str = "output"):
        self.path, self.fmt, self.what = path, fmt, what
        self.rows = 0
        self._writer: Any = None
        self._wrote_header = False
        self.tmp = ""  # none yet: discard() then removes nothing
        self.in_place = _is_special(path)
        if self.in_place:
            self.tmp = path
            return
        folder = os.path.dirname(os.path.abspath(path))
        with self._guard("creating a temporary file beside"):
            os.makedirs(folder, exist_ok=True)
            sweep_stale(path)
            fd, self.tmp = tempfile.mkstemp(prefix=_tmp_prefix(path) + owner_tag() + ".", suffix=".tmp",
                                            dir=folder)
            try:
                follow_umask(fd)
            finally:
                os.close(fd)

    def write(self, df: pd.DataFrame) -> None:
        with self._guard("writing"):
            if self.fmt == "parquet":
                table = pa.Table.from_pandas(df, preserve_index=False)
                if self._writer is None:
                    self._writer = pq.ParquetWriter(self.tmp, table.schema)
                self._writer.write_table(table.cast(self._writer.schema))
            else:
                df.to_csv(self.tmp, mode="a" if not self.in_place or self._wrote_header else "w",
                          header=not self._wrote_header, index=False)
                self._wrote_header = True
        self.rows += len(df)

    def commit(self, empty_columns: list[str]) -> None:
        """Close and rename into place; with no rows, a file holding only the header (or schema)."""
        if self.rows == 0 and not (self._writer or self._wrote_header):
            self.write(pd.DataFrame(columns=empty_columns))
        with self._guard("finishing"):
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            if self.in_place:
                return
            with open(self.tmp, "rb") as done:  # the data first, then the rename that publishes it
                os.fsync(done.fileno())
            os.replace(self.tmp, self.path)
            fsync_dir(os.path.dirname(os.path.abspath(self.path)))

    def discard(self) -> None:
        """Drop the temporary (nothing of this run replaces the target)."""
        if self._writer is not None:
            try:
                self._writer.close()
            except OSError:
                pass  # the write that failed is what is being reported
            self._writer = None
        if not self.in_place:
            remove_tree(self.tmp)

    def _guard(self, doing: str) -> Any:
        return _Guard(self, doing)


class _Guard:
    """Turns an OSError of a sink into an OutputError naming the file and what was kept."""

    def __init__(self, sink: Sink, doing: str):
        self.sink, self.doing = sink, doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, tb: Any) -> bool:
        if error is None or not isinstance(error, OSError) or isinstance(error, OutputError):
            return False
        s = self.sink
        s.discard()
        reason = os.strerror(error.errno) if error.errno else str(error)
        if s.in_place:
            kept = f"{s.path} is not a regular file, so it was written in place: it may hold a partial {s.what}"
        else:
            kept = (f"nothing was replaced: {s.path} keeps its previous content (if any) and the temporary "
                    "file was removed")
        raise OutputError(f"{self.doing} the {s.what} {s.path} failed: {reason} ({error}); {kept}. "
                          "Free space or fix permissions, then run again.") from None


def sweep_stale(path: str) -> list[str]:
    """Remove temporaries of ``path`` left by killed runs; returns what was removed."""
    removed = []
    pattern = os.path.join(glob.escape(os.path.dirname(os.path.abspath(path))),
                           glob.escape(_tmp_prefix(path)) + "*.tmp")
    for leftover in glob.glob(pattern):
        if is_stale(leftover):
            remove_tree(leftover)
            removed.append(leftover)
    return removed


def _tmp_prefix(path: str) -> str:
    return f".{os.path.basename(path)}."


def _is_special(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)
