"""Lookups: one round trip per table per batch, fallbacks marked and counted, scores equal by-hand features."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import ADS, DIM, MANIFEST, USERS, hand_features, publish, ranker_pmml, tables

from pmmlkit.embeddings.lookups import FALLBACK_COLUMN, with_lookups
from pmmlkit.errors import ConfigError, InputError
from pmmlkit.evaluator import Evaluator

TOL = 1e-9


@pytest.fixture
def plain():
    with Evaluator.from_bytes(ranker_pmml(), backend="native") as ev:
        yield ev


def requests(n: int = 20, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"user_id": rng.choice(USERS, n), "ad_id": rng.choice(ADS, n),
                         "hour": rng.integers(0, 24, n), "device": rng.choice(["android", "ios", "web"], n)})


def by_hand(plain: Evaluator, frame: pd.DataFrame, vectors: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    rows = [{**r, **hand_features(vectors["users"][r["user_id"]], vectors["ads"][r["ad_id"]])}
            for r in frame.to_dict("records")]
    return plain.predict_batch(pd.DataFrame(rows))


def table_dicts(seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    return {t: dict(zip(ids, m)) for t, (ids, m) in tables(seed).items()}


def test_scores_equal_hand_built_features(store, plain):
    publish(store)
    frame = requests()
    with with_lookups(Evaluator.from_bytes(ranker_pmml(), backend="native"), MANIFEST, store) as ev:
        got = ev.predict_batch(frame)
        single = ev.predict(frame.iloc[3].to_dict())
    want = by_hand(plain, frame, table_dicts())
    np.testing.assert_allclose(got["probability(1)"], want["probability(1)"], rtol=0, atol=TOL)
    assert list(got.columns) == ["predicted_clicked", "probability(0)", "probability(1)", FALLBACK_COLUMN]
    assert got[FALLBACK_COLUMN].isna().all()
    assert abs(single["probability(1)"] - want["probability(1)"].iloc[3]) <= TOL
    assert single[FALLBACK_COLUMN] is None


def test_fallback_mean_is_marked_and_counted(store, plain):
    publish(store)
    counts: dict[str, int] = {}
    frame = requests(6)
    frame.loc[[1, 4], "user_id"] = ["new-user", None]
    ev = with_lookups(Evaluator.from_bytes(ranker_pmml(), backend="native"), MANIFEST, store,
                      on_fallback=lambda name, n: counts.__setitem__(name, counts.get(name, 0) + n))
    got = ev.predict_batch(frame)
    assert got[FALLBACK_COLUMN].tolist() == [None, "user", None, None, "user", None]
    assert counts == {"user": 2}
    vectors = table_dicts()
    mean = np.asarray(store.info("users").mean)
    vectors["users"]["new-user"] = mean
    want = by_hand(plain, frame.fillna({"user_id": "new-user"}), vectors)
    np.testing.assert_allclose(got["probability(1)"], want["probability(1)"], rtol=0, atol=TOL)
    np.testing.assert_allclose(mean, tables()["users"][1].astype(np.float64).mean(axis=0), rtol=0, atol=1e-6)


def test_missing_key_without_fallback_is_a_row_error(store):
    publish(store)
    frame = requests(3)
    frame.loc[2, "ad_id"] = "no-such-ad"
    ev = with_lookups(Evaluator.from_bytes(ranker_pmml(), backend="native"), MANIFEST, store)
    with pytest.raises(InputError, match=r"row 2: field 'ad_id': value 'no-such-ad' is not a key of "
                                         r"embedding table 'ads' \(version 1\)"):
        ev.predict_batch(frame)
    got = ev.predict_batch(frame, errors="column")
    assert got["error"].notna().tolist() == [False, False, True]
    assert pd.isna(got.loc[2, "probability(1)"]) and got.loc[:1, "probability(1)"].notna().all()


def test_zeros_fallback(store, plain):
    publish(store)
    manifest = {**MANIFEST, "fallback": {"ad": {"default": "zeros"}}}
    ev = with_lookups(Evaluator.from_bytes(ranker_pmml(), backend="native"), manifest, store)
    out = ev.predict({"user_id": "u1", "ad_id": "cold", "hour": 3, "device": "ios"})
    want = plain.predict({"user_id": "u1", "hour": 3, "device": "ios",
                          **hand_features(tables()["users"][1][1], np.zeros(DIM))})
    assert out[FALLBACK_COLUMN] == "ad"
    assert abs(out["probability(1)"] - want["probability(1)"]) <= TOL


class CountingConnection:
    """Mixin for redis-py's Connection: counts socket writes, i.e. round trips (a pipeline is one)."""

    sent = 0

    def send_packed_command(self, command, check_health=True):
        type(self).sent += 1
        return super().send_packed_command(command, check_health)


def test_one_round_trip_per_table_per_batch(redis_server):
    import redis

    from pmmlkit.embeddings.redisstore import RedisStore

    Counting = type("Counting", (CountingConnection, redis.Connection), {"sent": 0})
    pool = redis.ConnectionPool(host="127.0.0.1", port=redis_server.port, connection_class=Counting)
    client = redis.Redis(connection_pool=pool)
    client.flushdb()
    store = RedisStore(redis_server.url, client=client)
    publish(store)
    ev = with_lookups(Evaluator.from_bytes(ranker_pmml(), backend="native"), MANIFEST, store)
    ev.predict_batch(requests(5))  # warms the script cache and the per-version meta
    frame = pd.DataFrame({"user_id": ["u2"] * 100, "ad_id": [ADS[i % len(ADS)] for i in range(100)],
                          "hour": 9, "device": "web"})
    frame.loc[7, "ad_id"] = "cold-ad"
    manifest = {**MANIFEST, "fallback": {"user": {"default": "mean"}, "ad": {"default": "zeros"}}}
    ev = with_lookups(Evaluator.from_bytes(ranker_pmml(), backend="native"), manifest, store)
    client.config_resetstat()
    before = Counting.sent
    out = ev.predict_batch(frame)
    assert Counting.sent - before == 2, "expected one round trip per table (users, ads)"
    stats = client.info("commandstats")
    assert stats["cmdstat_evalsha"]["calls"] == 2
    assert out[FALLBACK_COLUMN].tolist().count("ad") == 1


def test_bad_declarations_are_config_errors():
    from pmmlkit.embeddings.features import LookupSpec

    with pytest.raises(ConfigError, match="fallback for 'item', which is not a lookup name"):
        LookupSpec.from_dict({**MANIFEST, "fallback": {"item": {"default": "mean"}}})
    with pytest.raises(ConfigError, match=r"fallback.user is \{'default': 'random'\}"):
        LookupSpec.from_dict({**MANIFEST, "fallback": {"user": {"default": "random"}}})
    with pytest.raises(ConfigError, match="'dot' and 'products' pair two lookups; 1 declared"):
        LookupSpec.from_dict({"lookups": MANIFEST["lookups"][:1]})


def test_fallback_model_computes_the_user_vector_from_raw_features(store, plain, tmp_path):
    from helpers import AGE_WEIGHTS, user_tower_fallback_pmml

    publish(store)
    tower = tmp_path / "user_tower.pmml"
    tower.write_bytes(user_tower_fallback_pmml())
    manifest = {**MANIFEST, "fallback": {"user": {"model": str(tower)}}}
    frame = requests(5)
    frame["age"] = [20.0, 35.0, 50.0, 65.0, 80.0]
    frame.loc[[0, 3], "user_id"] = ["brand-new", "also-new"]
    counts: dict[str, int] = {}
    ev = with_lookups(Evaluator.from_bytes(ranker_pmml(), backend="native"), manifest, store,
                      on_fallback=lambda name, n: counts.__setitem__(name, counts.get(name, 0) + n))
    got = ev.predict_batch(frame)
    assert got[FALLBACK_COLUMN].tolist() == ["user", None, None, "user", None]
    assert counts == {"user": 2}
    vectors = table_dicts()
    for row, key in ((0, "brand-new"), (3, "also-new")):
        vectors["users"][key] = frame.loc[row, "age"] * np.asarray(AGE_WEIGHTS)
    want = by_hand(plain, frame.drop(columns="age"), vectors)
    np.testing.assert_allclose(got["probability(1)"], want["probability(1)"], rtol=0, atol=TOL)
