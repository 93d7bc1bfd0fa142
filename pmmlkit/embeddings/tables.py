"""Embedding tables as files: read Parquet/CSV (id + array column or vector columns), write Parquet."""
from __future__ import annotations

import os
import uuid
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..formats import read_frame
from .store import key_text


def read_table(path: str | os.PathLike, *, id_column: str = "id", vector_column: str | None = None,
               columns: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """(ids, (n, dim) float32) from Parquet or CSV.

    The vector is ``vector_column`` (a list/array column), else ``columns``, else
    every numeric column but the id (in file order) - or the one array column if
    the file has exactly one.
    """
    text = os.fspath(path)
    df = read_frame(text, what="embedding file")
    if id_column not in df.columns:
        raise ConfigError(f"embedding file {text!r}: no id column {id_column!r}; columns: {list(df.columns)}")
    rest = [c for c in df.columns if c != id_column]
    arrays = [c for c in rest if len(df) and isinstance(df[c].iloc[0], (list, tuple, np.ndarray))]
    if vector_column is None and columns is None and len(arrays) == 1:
        vector_column = arrays[0]
    if vector_column is not None:
        if vector_column not in df.columns:
            raise ConfigError(f"embedding file {text!r}: no vector column {vector_column!r}; "
                              f"columns: {list(df.columns)}")
        lengths = df[vector_column].map(len)
        if lengths.nunique() > 1:
            row = int(np.flatnonzero(lengths.to_numpy() != lengths.iloc[0])[0])
            raise ConfigError(f"embedding file {text!r}: row {row}: vector has {lengths.iloc[row]} values, "
                              f"expected {lengths.iloc[0]} like row 0")
        matrix = np.array(df[vector_column].tolist(), dtype=np.float32).reshape(len(df), -1)
    else:
        cols = list(columns) if columns else [c for c in rest if pd.api.types.is_numeric_dtype(df[c])]
        missing = [c for c in cols if c not in df.columns]
        if missing or not cols:
            raise ConfigError(f"embedding file {text!r}: vector columns {missing or cols} not found; "
                              f"columns: {list(df.columns)}")
        matrix = df[cols].to_numpy(dtype=np.float32)
    return [key_text(v) for v in df[id_column].tolist()], matrix


def write_table(path: str | os.PathLike, ids: Sequence[str], vectors: np.ndarray) -> None:
    """Parquet with ``id`` (string) and ``vector`` (list<float>), written atomically."""
    text = os.fspath(path)
    frame = pd.DataFrame({"id": [str(i) for i in ids],
                          "vector": [row.tolist() for row in np.asarray(vectors, dtype=np.float32)]})
    tmp = os.path.join(os.path.dirname(os.path.abspath(text)), f".tmp-{uuid.uuid4().hex}.parquet")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, text)
