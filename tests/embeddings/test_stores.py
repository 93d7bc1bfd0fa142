"""Both stores: publish, fetch, atomic version switch under a concurrent reader, pruning, import."""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from pmmlkit.embeddings.store import open_store
from pmmlkit.embeddings.tables import read_table, write_table
from pmmlkit.errors import ConfigError, EmbeddingStoreError


def test_publish_and_fetch_roundtrip(store):
    ids = ["a", "b", 7]
    vectors = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32)
    info = store.publish("t", ids, vectors)
    assert (info.version, info.dim, info.count) == (1, 2, 3)
    np.testing.assert_allclose(info.mean, [3.0, 4.0], rtol=0, atol=1e-12)
    got = store.fetch("t", ["b", "zz", "7", 7.0, "a"])
    assert got.found.tolist() == [True, False, True, True, True]
    np.testing.assert_array_equal(got.vectors, [[3, 4], [0, 0], [5, 6], [5, 6], [1, 2]])
    assert store.tables() == ["t"] and store.info("t").version == 1


def test_unknown_table_names_the_table(store):
    with pytest.raises(EmbeddingStoreError, match="'nope' is not published"):
        store.fetch("nope", ["x"])


def test_bad_tables_are_refused_before_writing(store):
    with pytest.raises(EmbeddingStoreError, match="row 2: id 'a' repeats row 0"):
        store.publish("t", ["a", "b", "a"], np.zeros((3, 2)))
    with pytest.raises(EmbeddingStoreError, match=r"row 1 \(id 'b'\) has a non-finite"):
        store.publish("t", ["a", "b"], np.array([[0, 0], [np.nan, 1]]))
    assert store.tables() == []


def test_versions_advance_and_old_ones_are_pruned(store):
    for v in range(1, 5):
        store.publish("t", ["x"], np.full((1, 3), v), keep=2)
    assert store.info("t").version == 4
    np.testing.assert_array_equal(store.fetch("t", ["x"]).vectors, [[4, 4, 4]])
    if hasattr(store, "versions"):  # file store: folders on disk
        assert store.versions("t") == [3, 4]
    else:
        keys = sorted(k.decode() for k in store.client.scan_iter(match="pmmlkit:emb:t:*"))
        assert [k for k in keys if ":v" in k and ":meta:" not in k] == ["pmmlkit:emb:t:v3:x", "pmmlkit:emb:t:v4:x"]


def test_reader_never_sees_a_mix_of_versions(store):
    """Each version holds one constant everywhere; a batch mixing two constants would be a torn read."""
    n_ids, dim = 300, 8
    ids = [f"id{i}" for i in range(n_ids)]
    store.publish("t", ids, np.full((n_ids, dim), 1.0))
    stop, seen, torn = threading.Event(), set(), []

    def reader() -> None:
        while not stop.is_set():
            got = store.fetch("t", ids)
            values = np.unique(got.vectors)
            if not got.found.all() or len(values) != 1 or values[0] != got.info.version:
                torn.append((got.info.version, values[:5], int(got.found.sum())))
            seen.add(got.info.version)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for v in range(2, 8):
            store.publish("t", ids, np.full((n_ids, dim), float(v)), keep=2)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not torn, f"torn reads: {torn[:3]}"
    assert len(seen) >= 2, f"the reader saw only versions {seen}; the test did not exercise a switch"
    assert store.info("t").version == 7


def test_open_store_picks_the_backend(tmp_path, redis_server):
    from pmmlkit.embeddings.filestore import FileStore
    from pmmlkit.embeddings.redisstore import RedisStore

    assert isinstance(open_store(str(tmp_path), shared=False), FileStore)
    assert isinstance(open_store(f"file://{tmp_path}", shared=False), FileStore)
    assert isinstance(open_store(redis_server.url, shared=False), RedisStore)
    with pytest.raises(ConfigError, match="unknown scheme 'ftp'"):
        open_store("ftp://x/y", shared=False)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_import_columns_and_array_column(tmp_path, file_store, fmt):
    frame = pd.DataFrame({"id": [10, 11], "e0": [0.5, 1.5], "e1": [-1.0, 2.0]})
    path = tmp_path / f"cols.{fmt}"
    frame.to_parquet(path) if fmt == "parquet" else frame.to_csv(path, index=False)
    ids, vectors = read_table(path)
    assert ids == ["10", "11"]
    np.testing.assert_array_equal(vectors, [[0.5, -1.0], [1.5, 2.0]])
    file_store.publish("imp", ids, vectors)
    np.testing.assert_array_equal(file_store.fetch("imp", [11]).vectors, [[1.5, 2.0]])


def test_import_array_column_roundtrip(tmp_path):
    path = tmp_path / "t.parquet"
    write_table(path, ["x", "y"], np.array([[1, 2, 3], [4, 5, 6]]))
    ids, vectors = read_table(path)
    assert ids == ["x", "y"] and vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors, [[1, 2, 3], [4, 5, 6]])
    pd.DataFrame({"id": ["x", "y"], "vec": [[1.0, 2.0], [3.0]]}).to_parquet(tmp_path / "ragged.parquet")
    with pytest.raises(ConfigError, match="row 1: vector has 1 values, expected 2"):
        read_table(tmp_path / "ragged.parquet")
