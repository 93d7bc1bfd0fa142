"""The production store: Redis, vectors as packed float32 bytes.

Keys (``P`` = ``pmmlkit:emb``)::

    P:<table>:v<n>:<id>   one vector, dim float32 little-endian
    P:<table>:meta:v<n>   JSON: dim, count, created, mean
    P:<table>:current     n: the atomic switch
    P:<table>:next        INCR counter: each publish claims a fresh n
    P:tables              set of table names

A fetch is one EVALSHA: the script reads ``current`` and MGETs the keys of that
version. Redis runs a script atomically, so a batch can never mix two versions
and costs one round trip per table. Every socket operation is bounded by
``timeout`` seconds and nothing is retried: a store that is down is reported as
StoreUnavailable at once instead of hanging the request.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import EmbeddingStoreError, StoreUnavailable
from ..repository.manifest import utc_now
from .store import EmbeddingStore, Fetched, TableInfo, check_table, key_text, table_mean

PREFIX = "pmmlkit:emb"
WRITE_CHUNK = 2000

# MGET in slices: Lua's unpack() has a stack limit of a few thousand values.
_FETCH = """
local v = redis.call('GET', KEYS[1])
if not v then return {false} end
local prefix = ARGV[1] .. v .. ':'
local out, keys = {v}, {}
for i = 2, #ARGV do
  keys[#keys + 1] = prefix .. ARGV[i]
  if #keys == 1000 or i == #ARGV then
    local vals = redis.call('MGET', unpack(keys))
    for j = 1, #keys do out[#out + 1] = vals[j] end
    keys = {}
  end
end
return out
"""
# Only ever move forward: of two racing publishers the newer number wins.
_SWITCH = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0
"""


class RedisStore(EmbeddingStore):
    def __init__(self, url: str, *, timeout: float = 1.0, client: Any = None):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = url
        self.timeout = timeout
        self.client = client or redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False, health_check_interval=0)
        self._fetch = self.client.register_script(_FETCH)
        self._switch = self.client.register_script(_SWITCH)
        self._meta: dict[tuple[str, int], TableInfo] = {}
        self._lock = threading.Lock()

    # --- reading ------------------------------------------------------------
    def tables(self) -> list[str]:
        names = self._call(lambda: self.client.smembers(f"{PREFIX}:tables"))
        return sorted(n.decode() for n in names if self._call(lambda n=n: self.client.exists(
            f"{PREFIX}:{n.decode()}:current")))

    def info(self, table: str) -> TableInfo:
        raw = self._call(lambda: self.client.get(f"{PREFIX}:{table}:current"))
        if raw is None:
            raise self._not_published(table)
        return self._info(table, int(raw))

    def fetch(self, table: str, keys: Sequence[str]) -> Fetched:
        texts = [key_text(k) for k in keys]
        reply = self._call(lambda: self._fetch(keys=[f"{PREFIX}:{table}:current"],
                                               args=[f"{PREFIX}:{table}:v", *texts]))
        if reply[0] is None:
            raise self._not_published(table)
        info = self._info(table, int(reply[0]))
        found = np.fromiter((v is not None for v in reply[1:]), dtype=bool, count=len(texts))
        vectors = np.zeros((len(texts), info.dim), dtype=np.float32)
        if found.any():
            blob = b"".join(v for v in reply[1:] if v is not None)
            vectors[found] = np.frombuffer(blob, dtype="<f4").reshape(-1, info.dim)
        return Fetched(info, vectors, found)

    def _info(self, table: str, version: int) -> TableInfo:
        # A version's meta never changes: fetched once per version, not per batch.
        info = self._meta.get((table, version))
        if info is None:
            raw = self._call(lambda: self.client.get(f"{PREFIX}:{table}:meta:v{version}"))
            if raw is None:
                raise EmbeddingStoreError(f"embedding table {table!r} version {version} has no meta in "
                                          f"{self.url}; it was deleted or half-published")
            meta = json.loads(raw)
            info = TableInfo(table, version, meta["dim"], meta["count"], meta["created"], tuple(meta["mean"]))
            with self._lock:
                self._meta[(table, version)] = info
        return info

    # --- writing ------------------------------------------------------------
    def publish(self, table: str, ids: Sequence[str], vectors: np.ndarray, *, keep: int = 2) -> TableInfo:
        keys, matrix = check_table(ids, vectors, table=table)
        base = f"{PREFIX}:{table}"
        number = int(self._call(lambda: self.client.incr(f"{base}:next")))
        blob = matrix.astype("<f4", copy=False)
        for start in range(0, len(keys), WRITE_CHUNK):  # pipelined: one round trip per chunk
            pipe = self.client.pipeline(transaction=False)
            for i in range(start, min(start + WRITE_CHUNK, len(keys))):
                pipe.set(f"{base}:v{number}:{keys[i]}", blob[i].tobytes())
            self._call(pipe.execute)
        meta = {"table": table, "version": number, "dim": int(matrix.shape[1]), "count": len(keys),
                "created": utc_now(), "mean": list(table_mean(matrix))}
        self._call(lambda: self.client.set(f"{base}:meta:v{number}", json.dumps(meta)))
        self._call(lambda: self._switch(keys=[f"{base}:current"], args=[number]))  # the atomic switch
        self._call(lambda: self.client.sadd(f"{PREFIX}:tables", table))
        self._prune(table, number - max(keep, 1))
        return self._info(table, number)

    def _prune(self, table: str, upto: int) -> None:
        """Delete versions <= ``upto``; a fetch in flight is atomic, so it never sees half a delete."""
        base = f"{PREFIX}:{table}"
        for old in range(upto, 0, -1):
            if not self._call(lambda o=old: self.client.exists(f"{base}:meta:v{o}")):
                break  # older ones were pruned by an earlier publish
            self._call(lambda o=old: self.client.delete(f"{base}:meta:v{o}"))  # unreadable from here on
            batch: list[bytes] = []
            for key in self.client.scan_iter(match=f"{base}:v{old}:*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    self._call(lambda b=batch: self.client.unlink(*b))
                    batch = []
            if batch:
                self._call(lambda b=batch: self.client.unlink(*b))

    def close(self) -> None:
        self.client.close()

    # --- errors -----------------------------------------------------------------
    def _call(self, fn: Any) -> Any:
        import redis

        try:
            return fn()
        except (redis.ConnectionError, redis.TimeoutError) as e:
            raise StoreUnavailable(f"embedding store {self.url} is unavailable: {type(e).__name__}: {e} "
                                   f"(socket timeout {self.timeout:g} s); check that Redis is up "
                                   "and reachable") from None

    def _not_published(self, table: str) -> EmbeddingStoreError:
        return EmbeddingStoreError(f"embedding table {table!r} is not published in {self.url}; "
                                   f"publish it with `pmmlkit embeddings publish`")
