"""Which data format a path holds: one rule for every command (score, train, embeddings).

CSV files may be compressed (``.csv.gz``, ``.csv.bz2``...): pyarrow and Spark read those
by their suffix. A Parquet dataset may be a folder (``events.parquet/``). ``-`` is standard
input or output, always CSV. Anything else needs an explicit format: guessing wrongly
would write a CSV into ``x.json``.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("csv", "parquet")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".xz": "xz", ".lz4": "lz4"}
STDIO = "-"


def compression(path: str) -> str | None:
    """The compression of a CSV path by its last suffix (``gzip`` for ``x.csv.gz``), else None."""
    _, ext = os.path.splitext(str(path).rstrip("/").lower())
    return COMPRESSION_SUFFIXES.get(ext)


def data_format(path: str, explicit: str | None = None, *, what: str = "data", default: str | None = None) -> str:
    """``csv`` or ``parquet`` for ``path``: ``explicit`` when given, else from the extension.

    ``what`` names the path in errors ("input", "output", "spec key 'data'"...). ``default``
    answers for a path without a known extension (Spark's folders and globs), instead of an error.
    """
    if explicit is not None:
        fmt = str(explicit).lower()
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format {explicit!r} for the {what} {path!r}; "
                              f"expected one of {', '.join(FORMATS)}")
        return fmt
    text = str(path).rstrip("/").lower()
    if text == STDIO:
        return "csv"
    if compression(text):
        text = os.path.splitext(text)[0]
    if text.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if text.endswith(CSV_SUFFIXES):
        return "csv"
    if default is not None:
        return default
    csv_names = ", ".join(CSV_SUFFIXES)
    raise ConfigError(
        f"cannot tell the format of the {what} {str(path)!r} from its extension; name a {csv_names} file "
        f"(optionally compressed: {', '.join(COMPRESSION_SUFFIXES)}), a .parquet/.pq file or folder, "
        f"or give the format explicitly ({', '.join(FORMATS)})")


def read_frame(path: str, *, what: str, as_text: bool = False) -> pd.DataFrame:
    """A whole CSV (compressed or not) or Parquet file as a DataFrame, its format by ``data_format``.

    ``as_text`` reads CSV cells as text (``"01"`` stays ``"01"``, an empty cell is missing), as
    the input contract sees them; otherwise pandas infers the column types.
    """
    import pandas as pd

    fmt = data_format(path, what=what)
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        if as_text:
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        return pd.read_csv(path)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{what} {path!r}: cannot read it as {fmt} ({e})") from None
