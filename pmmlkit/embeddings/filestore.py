"""The embedded default store: memory-mapped float32 files, no server.

Layout::

    ROOT/<table>/v<n>/vectors.f32   (count, dim) float32, C order, read with np.memmap
    ROOT/<table>/v<n>/ids.json      row i holds the vector of ids[i]
    ROOT/<table>/v<n>/meta.json     dim, count, created, mean
    ROOT/<table>/CURRENT            "n": replaced with os.replace, the atomic switch

A version folder is written under ``.tmp-<uuid>`` and renamed into place full, so
it is immutable once visible. Publishers of one table take an flock on
``ROOT/<table>/.lock`` so CURRENT only moves forward. A reader resolves CURRENT
once per fetch; a version it still maps keeps working after it is pruned (the
mapping holds the inode).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..durable import fsync_dir, write_synced
from ..errors import EmbeddingStoreError
from ..repository.manifest import utc_now
from ..repository.store import check_name
from .store import EmbeddingStore, Fetched, TableInfo, check_table, key_text, table_mean

CURRENT, VECTORS, IDS, META = "CURRENT", "vectors.f32", "ids.json", "meta.json"
_VERSION = re.compile(r"^v([1-9][0-9]{0,17})$")


@dataclass(frozen=True)
class _Mapped:
    info: TableInfo
    vectors: np.ndarray
    index: dict[str, int]


class FileStore(EmbeddingStore):
    def __init__(self, root: str | os.PathLike):
        self.root = os.path.abspath(os.fspath(root))
        self.url = f"file://{self.root}"
        self._cache: dict[tuple[str, int], _Mapped] = {}
        self._lock = threading.Lock()

    # --- reading ------------------------------------------------------------
    def tables(self) -> list[str]:
        if not os.path.isdir(self.root):
            return []
        return sorted(t for t in os.listdir(self.root) if os.path.isfile(os.path.join(self.root, t, CURRENT)))

    def versions(self, table: str) -> list[int]:
        folder = os.path.join(self.root, check_name(table, kind="embedding table name"))
        names = os.listdir(folder) if os.path.isdir(folder) else []
        return sorted(int(m.group(1)) for m in map(_VERSION.match, names) if m)

    def info(self, table: str) -> TableInfo:
        return self._mapped(table, self._current(table)).info

    def fetch(self, table: str, keys: Sequence[str]) -> Fetched:
        mapped = self._mapped(table, self._current(table))
        rows = np.fromiter((mapped.index.get(key_text(k), -1) for k in keys), dtype=np.int64, count=len(keys))
        found = rows >= 0
        vectors = np.zeros((len(keys), mapped.info.dim), dtype=np.float32)
        vectors[found] = mapped.vectors[rows[found]]
        return Fetched(mapped.info, vectors, found)

    def _current(self, table: str) -> int:
        path = os.path.join(self.root, check_name(table, kind="embedding table name"), CURRENT)
        try:
            with open(path, encoding="ascii") as fh:
                return int(fh.read().strip())
        except FileNotFoundError:
            raise EmbeddingStoreError(f"embedding table {table!r} is not published in {self.url}; "
                                      f"tables: {self.tables()}") from None
        except ValueError:
            raise EmbeddingStoreError(f"{path}: expected a version number") from None

    def _mapped(self, table: str, version: int) -> _Mapped:
        key = (table, version)
        mapped = self._cache.get(key)
        if mapped is not None:
            return mapped
        with self._lock:
            if key not in self._cache:
                self._cache = {**{k: v for k, v in self._cache.items() if k[0] != table}, key: self._open(*key)}
            return self._cache[key]

    def _open(self, table: str, version: int) -> _Mapped:
        folder = os.path.join(self.root, table, f"v{version}")
        try:
            with open(os.path.join(folder, META), encoding="utf-8") as fh:
                meta = json.load(fh)
            with open(os.path.join(folder, IDS), encoding="utf-8") as fh:
                ids = json.load(fh)
            vectors = np.memmap(os.path.join(folder, VECTORS), dtype=np.float32, mode="r",
                                shape=(meta["count"], meta["dim"]))
        except (OSError, ValueError, KeyError) as e:
            raise EmbeddingStoreError(f"embedding table {table!r} version {version} in {self.url} "
                                      f"cannot be read: {e}") from None
        info = TableInfo(table, version, meta["dim"], meta["count"], meta["created"], tuple(meta["mean"]))
        return _Mapped(info, vectors, {k: i for i, k in enumerate(ids)})

    # --- writing ------------------------------------------------------------
    def publish(self, table: str, ids: Sequence[str], vectors: np.ndarray, *, keep: int = 2) -> TableInfo:
        keys, matrix = check_table(ids, vectors, table=table)
        base = os.path.join(self.root, table)
        os.makedirs(base, exist_ok=True)
        with _flock(os.path.join(base, ".lock")):
            number = max([*self.versions(table), 0]) + 1
            meta = {"table": table, "version": number, "dim": int(matrix.shape[1]), "count": len(keys),
                    "created": utc_now(), "mean": list(table_mean(matrix))}
            tmp = os.path.join(base, f".tmp-{uuid.uuid4().hex}")
            os.makedirs(tmp)
            try:
                write_synced(os.path.join(tmp, VECTORS), matrix.tobytes(order="C"))
                write_synced(os.path.join(tmp, IDS), json.dumps(keys).encode())
                write_synced(os.path.join(tmp, META), json.dumps(meta).encode())
                os.rename(tmp, os.path.join(base, f"v{number}"))
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            pointer = os.path.join(base, f".{CURRENT}-{uuid.uuid4().hex}")
            write_synced(pointer, str(number).encode())
            os.replace(pointer, os.path.join(base, CURRENT))  # the switch: readers see n-1 or n, whole
            fsync_dir(base)
            for old in self.versions(table)[:-max(keep, 1)]:
                shutil.rmtree(os.path.join(base, f"v{old}"), ignore_errors=True)
        return self._mapped(table, number).info


@contextlib.contextmanager
def _flock(path: str) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
