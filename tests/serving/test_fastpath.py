"""The plain-ASGI :predict (fastpath.py) answers byte for byte as the Starlette route, errors included."""
from __future__ import annotations

import json

import httpx
import pytest

from pmmlkit.serving import fastpath

pytestmark = pytest.mark.anyio

OK = {"instances": [{"x1": 1.0, "x2": 2.0, "color": "red"}, {"x1": -2, "x2": 0.5, "color": "blue"}]}
REQUESTS = [  # (path, body, headers)
    ("/v1/models/clf:predict", OK, {}),
    ("/v1/models/clf/versions/1:predict", OK, {}),
    ("/v1/models/clf/labels/stable:predict", OK, {}),
    ("/v1/models/clf:predict", {"inputs": {"x1": [1.0, "abc"], "x2": [2.0, 1.0], "color": ["red", "red"]},
                                "errors": "per_record"}, {}),
    ("/v1/models/clf:predict", {"instances": [{"x1": "abc", "x2": 1.0, "color": "red"}]}, {}),  # 400: the record
    ("/v1/models/clf:predict", b"{not json", {}),
    ("/v1/models/clf:predict", {"instances": [1]}, {}),
    ("/v1/models/nope:predict", OK, {}),
    ("/v1/models/clf/versions/9:predict", OK, {}),
    ("/v1/models/clf/labels/nope:predict", OK, {}),
    ("/v1/models/clf:predict", b"x" * 2048, {}),  # over --max-body-bytes: 413
    ("/v1/models/clf:predict", [b"x" * 600, b"x" * 600], {}),  # the same, chunked (no Content-Length)
    ("/v1/models/clf:predict", b"x1,x2,color\n1.0,2.0,red\n", {"content-type": "text/csv"}),  # not taken
]


async def _answers(app, taken: list[str]) -> list[tuple[int, dict, bytes]]:
    out = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        for path, body, headers in REQUESTS:
            content = body if isinstance(body, bytes) else _chunks(body) if isinstance(body, list) else \
                json.dumps(body).encode()
            r = await c.post(path, content=content, headers={"content-type": "application/json", **headers})
            out.append((r.status_code, dict(r.headers), r.content))
    return out


async def _chunks(parts: list[bytes]):
    for part in parts:
        yield part


@pytest.fixture
def labelled(published):
    published.set_label("clf", "stable", 1)
    return published


async def test_the_fast_path_answers_as_the_route_does(labelled, make_app, monkeypatch):
    taken: list[str] = []
    real = fastpath._predict_path

    def spy(scope):
        match = real(scope)
        if match is not None:
            taken.append(scope["path"])
        return match

    monkeypatch.setattr(fastpath, "_predict_path", spy)
    fast = await _answers(make_app(max_body_bytes=1024), taken)
    # Every JSON :predict went the fast way; not CSV, nor the body Guard refused by its Content-Length.
    assert len(taken) == len(REQUESTS) - 2
    monkeypatch.setattr(fastpath, "_predict_path", lambda scope: None)
    routed = await _answers(make_app(max_body_bytes=1024), taken)
    assert [a[0] for a in fast] == [200, 200, 200, 200, 400, 400, 400, 404, 404, 404, 413, 413, 200]
    assert fast == routed


async def test_metrics_count_fast_requests_as_the_route_did(client):
    r = await client.post("/v1/models/clf:predict", json=OK)
    assert r.status_code == 200 and r.headers["x-model-version"] == "1"
    await client.post("/v1/models/nope:predict", json=OK)
    text = (await client.get("/metrics")).text
    assert 'pmmlkit_serving_requests_total{code="200",endpoint="predict",model="clf",version="1"} 1.0' in text
    assert 'code="404",endpoint="predict"' in text
