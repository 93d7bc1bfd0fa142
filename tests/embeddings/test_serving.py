"""Serving a model whose manifest declares lookups: through the ASGI app, fallbacks counted, store down -> 503."""
from __future__ import annotations

import time

import httpx
import numpy as np
import pytest
from helpers import MANIFEST, hand_features, publish, ranker_pmml, tables

from pmmlkit.evaluator import Evaluator


def make_app(repo, store):
    from pmmlkit.serving import ServerConfig, create_app

    repo.publish("ranker", ranker_pmml(), manifest={**MANIFEST, "store": store.url})
    app = create_app(repo, config=ServerConfig(backend="native", poll_seconds=0))
    app.state.models.poll()
    return app


async def call(app, body):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.post("/v1/models/ranker:predict", json=body), (await c.get("/metrics")).text


@pytest.mark.anyio
async def test_predict_with_lookups_and_fallback_metric(repo, store):
    publish(store)
    app = make_app(repo, store)
    try:
        rows = [{"user_id": "u1", "ad_id": "a3", "hour": 5, "device": "ios"},
                {"user_id": "stranger", "ad_id": "a4", "hour": 7, "device": "web"}]
        resp, metrics = await call(app, {"instances": rows})
        assert resp.status_code == 200, resp.text
        preds = resp.json()["predictions"]
        assert [p["fallback"] for p in preds] == [None, "user"]
        users, ads = (dict(zip(*tables()[t])) for t in ("users", "ads"))
        with Evaluator.from_bytes(ranker_pmml(), backend="native") as plain:
            want = plain.predict({**rows[0], **hand_features(users["u1"], ads["a3"])})
            want2 = plain.predict({**rows[1], **hand_features(np.asarray(store.info("users").mean), ads["a4"])})
        assert abs(preds[0]["probability(1)"] - want["probability(1)"]) <= 1e-9
        assert abs(preds[1]["probability(1)"] - want2["probability(1)"]) <= 1e-9
        line = 'pmmlkit_serving_lookup_fallbacks_total{lookup="user",model="ranker",version="1"} 1.0'
        assert line in metrics
        resp, _ = await call(app, {"instances": rows[:1]})  # the single-record path
        assert resp.status_code == 200 and resp.json()["predictions"][0]["fallback"] is None
    finally:
        app.state.models.close()


@pytest.mark.anyio
async def test_store_down_is_a_503_within_bounded_time(repo, redis_server, redis_store):
    publish(redis_store)
    app = make_app(repo, redis_store)
    body = {"instances": [{"user_id": "u1", "ad_id": "a3", "hour": 5, "device": "ios"}]}
    try:
        resp, _ = await call(app, body)
        assert resp.status_code == 200, resp.text
        redis_server.stop()
        started = time.monotonic()
        resp, _ = await call(app, body)
        elapsed = time.monotonic() - started
        assert resp.status_code == 503, resp.text
        assert "is unavailable" in resp.json()["error"] and redis_server.url in resp.json()["error"]
        assert elapsed < 5, f"the 503 took {elapsed:.1f} s"
    finally:
        app.state.models.close()
        if redis_server.proc is None:
            redis_server.start()


@pytest.mark.anyio
async def test_hung_store_times_out_into_a_503(repo, redis_server, redis_store):
    """A Redis that accepts nothing (SIGSTOP) must not hang the request: socket timeout -> 503."""
    import signal

    publish(redis_store)
    app = make_app(repo, redis_store)
    body = {"instances": [{"user_id": "u1", "ad_id": "a3", "hour": 5, "device": "ios"}]}
    redis_server.proc.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        resp, _ = await call(app, body)
        elapsed = time.monotonic() - started
        assert resp.status_code == 503, resp.text
        assert "Timeout" in resp.json()["error"]
        assert elapsed < 5, f"the 503 took {elapsed:.1f} s"
    finally:
        redis_server.proc.send_signal(signal.SIGCONT)
        app.state.models.close()
