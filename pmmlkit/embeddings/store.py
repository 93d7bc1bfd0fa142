"""Embedding stores: versioned tables of id -> float32 vector, switched atomically.

A table is published as a new version number; readers follow a ``current``
pointer that moves in one step, and every read resolves that pointer once, so a
batch is always served from one version. ``open_store(url)`` picks the backend:

* a plain path or ``file:///path`` -> ``FileStore`` (memory-mapped, no server)
* ``redis://host:port/db`` -> ``RedisStore`` (production; one round trip per fetch)
"""
from __future__ import annotations

import abc
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, EmbeddingStoreError
from ..repository.store import check_name

STORE_ENV = "PMMLKIT_EMBEDDING_STORE"


@dataclass(frozen=True)
class TableInfo:
    """One published version of a table."""

    table: str
    version: int
    dim: int
    count: int
    created: str
    mean: tuple[float, ...]  # the table mean: the ``default: mean`` fallback vector

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "version": self.version, "dim": self.dim, "count": self.count,
                "created": self.created}


@dataclass(frozen=True)
class Fetched:
    """Vectors for a list of keys, all from one version; rows of missing keys are zeros."""

    info: TableInfo
    vectors: np.ndarray  # (n, dim) float32
    found: np.ndarray    # (n,) bool


class EmbeddingStore(abc.ABC):
    """Publish tables under new versions; fetch vectors of the current version."""

    url: str

    @abc.abstractmethod
    def publish(self, table: str, ids: Sequence[str], vectors: np.ndarray, *, keep: int = 2) -> TableInfo:
        """Write a new version, make it current in one step, drop versions older than ``keep``."""

    @abc.abstractmethod
    def fetch(self, table: str, keys: Sequence[str]) -> Fetched:
        """Vectors of ``keys`` from the current version, in one round trip."""

    @abc.abstractmethod
    def tables(self) -> list[str]:
        """Names of the tables with a current version, sorted."""

    @abc.abstractmethod
    def info(self, table: str) -> TableInfo:
        """The current version of ``table``; EmbeddingStoreError when there is none."""

    def close(self) -> None:  # noqa: B027 - optional for backends without connections
        """Release connections and mappings."""


def check_table(ids: Sequence[str], vectors: np.ndarray, *, table: str) -> tuple[list[str], np.ndarray]:
    """Validated (ids as text, vectors as C-contiguous float32); errors name the row."""
    check_name(table, kind="embedding table name")
    keys = [key_text(i) for i in ids]
    matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if matrix.ndim != 2 or matrix.shape[0] != len(keys) or matrix.shape[1] == 0:
        raise EmbeddingStoreError(f"table {table!r}: vectors have shape {matrix.shape}; expected "
                                  f"({len(keys)}, dim>0), one row per id")
    seen: dict[str, int] = {}
    for row, key in enumerate(keys):
        if key in seen:
            raise EmbeddingStoreError(f"table {table!r}: row {row}: id {key!r} repeats row {seen[key]}; "
                                      "ids must be unique")
        seen[key] = row
    bad = np.flatnonzero(~np.isfinite(matrix).all(axis=1))
    if bad.size:
        raise EmbeddingStoreError(f"table {table!r}: row {bad[0]} (id {keys[bad[0]]!r}) has a non-finite "
                                  f"value; expected finite floats")
    return keys, matrix


def key_text(value: Any) -> str:
    """The one text form of a key: 42, 42.0, np.int64(42) and "42" are the same key."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))  # integer ids come back as floats from columns holding missing values
    return str(value)


def table_mean(matrix: np.ndarray) -> tuple[float, ...]:
    return tuple(float(x) for x in matrix.astype(np.float64).mean(axis=0))


_OPEN: dict[str, EmbeddingStore] = {}
_OPEN_LOCK = threading.Lock()


def open_store(url: str | os.PathLike | None = None, *, shared: bool = True) -> EmbeddingStore:
    """The store at ``url`` (default: $PMMLKIT_EMBEDDING_STORE); shared ones are opened once per process."""
    text = str(url or os.environ.get(STORE_ENV) or "")
    if not text:
        raise ConfigError(f"no embedding store given: pass a store URL or set {STORE_ENV} "
                          "(a path, file:///path or redis://host:port/db)")
    if not shared:
        return _connect(text)
    with _OPEN_LOCK:
        if text not in _OPEN:
            _OPEN[text] = _connect(text)
        return _OPEN[text]


def _connect(text: str) -> EmbeddingStore:
    scheme = text.split("://", 1)[0].lower() if "://" in text else "file"
    if scheme in ("redis", "rediss", "unix"):
        from .redisstore import RedisStore

        return RedisStore(text)
    if scheme == "file":
        from .filestore import FileStore

        return FileStore(text[len("file://"):] if text.startswith("file://") else text)
    raise ConfigError(f"embedding store {text!r}: unknown scheme {scheme!r}; expected a path, "
                      "file:///path or redis://host:port/db")
