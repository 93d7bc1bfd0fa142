"""Request batching: concurrent requests scored as one batch, each answered exactly as alone."""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from serving_helpers import record

pytestmark = pytest.mark.anyio
PREDICT = "/v1/models/clf:predict"

# Good and bad records, row-wise and columnar, per-record and all-or-nothing, all at once.
BODIES = [
    {"instances": [record()]},
    {"instances": [record(x1=0.5), record(color="pink"), record(x2="zz")], "errors": "per_record"},
    {"instances": [record(x1=-1.0, color="blue")]},
    {"instances": [record(), record(color="pink")]},                       # raise: a 400 naming row 1
    {"instances": [{"x1": 1.0, "color": "red"}, record(x1=[1])], "errors": "per_record"},  # absent, a list
    {"inputs": {"x1": [1.0, 2.0], "x2": [3.0, "q"], "color": ["red", "green"]}, "errors": "per_record"},
    {"inputs": {"x1": [1.0], "x2": [3.0]}},                               # a missing column: 400
    {"instances": [record(x1=i / 7, color=("red", "green", "blue")[i % 3]) for i in range(20)]},
    {"instances": [record(x1=None)], "errors": "per_record"},
    {"instances": []},
]


def client_of(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def answers(app, bodies) -> list[tuple[int, dict]]:
    async with client_of(app) as c:
        responses = await asyncio.gather(*(c.post(PREDICT, json=b) for b in bodies))
    return [(r.status_code, r.json()) for r in responses]


async def test_each_response_is_identical_to_the_request_alone(published, make_app):
    batched = make_app(batch_timeout_micros=20_000)  # 20 ms: every concurrent request joins one batch
    alone = make_app(max_batch_size=0)
    bodies = BODIES * 3
    got = await answers(batched, bodies)
    expected = [(await answers(alone, [b]))[0] for b in bodies]
    assert got == expected
    statuses = [code for code, _ in got]
    assert statuses.count(400) == 6 and set(statuses) == {200, 400}
    batcher = batched.state.core.batcher
    assert batcher.batches < batcher.requests, "the requests were not batched"
    assert alone.state.core.batcher is None


async def test_versions_are_batched_apart(published, make_app):
    from serving_helpers import expected_p1, v2

    published.publish("clf", v2())
    published.set_label("clf", "old", 1)
    app = make_app(batch_timeout_micros=20_000)
    async with client_of(app) as c:
        paths = ["/v1/models/clf:predict", "/v1/models/clf/labels/old:predict"] * 5
        responses = await asyncio.gather(*(c.post(p, json={"instances": [record()]}) for p in paths))
    for path, r in zip(paths, responses):
        version = 1 if "old" in path else 2
        assert r.json()["model_version"] == str(version)
        assert r.json()["predictions"][0]["probability(1)"] == pytest.approx(expected_p1(record(), version), abs=1e-9)


async def test_a_lone_request_waits_at_most_the_timeout(published, make_app):
    app = make_app(batch_timeout_micros=100_000)  # 0.1 s
    async with client_of(app) as c:
        await c.post(PREDICT, json={"instances": [record()]})  # warm up
        started = time.perf_counter()
        r = await c.post(PREDICT, json={"instances": [record()]})
        elapsed = time.perf_counter() - started
    assert r.status_code == 200
    assert 0.1 <= elapsed < 0.1 + 0.15, elapsed  # the timeout, plus one request's own time


async def test_a_full_batch_does_not_wait_for_the_timeout(published, make_app):
    app = make_app(batch_timeout_micros=1_000_000, max_batch_size=4)  # a whole second, 4 records
    async with client_of(app) as c:
        started = time.perf_counter()
        responses = await asyncio.gather(*(c.post(PREDICT, json={"instances": [record(), record()]})
                                           for _ in range(4)))
        elapsed = time.perf_counter() - started
        assert [r.status_code for r in responses] == [200] * 4
        assert elapsed < 0.5, elapsed
        # A request of max_batch_size records or more is a batch on its own: no wait either.
        started = time.perf_counter()
        assert (await c.post(PREDICT, json={"instances": [record()] * 4})).status_code == 200
        assert time.perf_counter() - started < 0.5
