"""One JSON error shape, ``{"error": "..."}``, with the right status, for every endpoint."""
from __future__ import annotations

import pytest
from serving_helpers import ADMIN_TOKEN, record

pytestmark = pytest.mark.anyio
AUTH = {"authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = {"content-type": "application/json"}

# (method, path, body, headers, status, a phrase the message must hold)
CASES = [
    ("POST", "/v1/models/clf:predict", b"{not json", JSON, 400, "not valid JSON"),
    ("POST", "/v1/models/clf:predict", b"[1, 2]", JSON, 400, "is a JSON list; expected an object"),
    ("POST", "/v1/models/clf:predict", b'{"instances": {"x1": 1}}', JSON, 400, '"instances" is a object'),
    ("POST", "/v1/models/clf:predict", b'{"instances": [3]}', JSON, 400, "instances[0] is a number"),
    ("POST", "/v1/models/clf:predict", b'{"instances": [], "inputs": {}}', JSON, 400, "exactly one of"),
    ("POST", "/v1/models/clf:predict", b'{"instances": [], "errors": "ignore"}', JSON, 400, "per_record"),
    ("POST", "/v1/models/clf:predict", b'{"inputs": {"x1": [1, 2], "x2": [1]}}', JSON, 400, "different lengths"),
    ("POST", "/v1/models/clf:predict", b'{"instances": [{"x1": true, "x2": 1, "color": "red"}]}', JSON, 400,
     "row 0: field 'x1': value True is not a number; expected type double"),
    ("POST", "/v1/models/clf:predict", b'{"instances": [{"x1": 1, "color": "red"}]}', JSON, 400,
     "row 0: field 'x2': value None is absent"),
    ("POST", "/v1/models/nope:predict", b'{"instances": []}', JSON, 404, "model 'nope' is not served"),
    ("POST", "/v1/models/clf/versions/7:predict", b'{"instances": []}', JSON, 404, "version 7 of model 'clf'"),
    ("POST", "/v1/models/clf/labels/gold:predict", b'{"instances": []}', JSON, 404, "no label 'gold'"),
    ("GET", "/v1/models/nope", None, {}, 404, "model 'nope' is not served"),
    ("GET", "/v1/models/clf/versions/7", None, {}, 404, "no version 7"),
    ("GET", "/v1/models/clf/labels/gold", None, {}, 404, "no label 'gold'"),
    ("GET", "/v1/models/nope/metadata", None, {}, 404, "not served"),
    ("GET", "/v1/models/..%2Fetc", None, {}, 404, "no endpoint"),
    ("GET", "/nowhere", None, {}, 404, "no endpoint for GET /nowhere"),
    ("GET", "/v1/models/clf:predict", None, {}, 405, "allowed: POST"),
    ("DELETE", "/v1/models/clf", None, {}, 405, "method not allowed"),
    ("POST", "/metrics", b"", {}, 405, "allowed: GET, HEAD"),
    ("PUT", "/v1/models/clf/versions", b"<PMML/>", {}, 401, "missing or wrong admin token"),
    ("PUT", "/v1/models/clf/versions", b"<PMML/>", {"authorization": "Bearer nope"}, 401, "wrong admin token"),
    ("DELETE", "/v1/models/clf/versions/1", None, {"authorization": "Basic x"}, 401, "admin token"),
    ("PUT", "/v1/models/clf/labels/stable", b'{"version": 1}', {}, 401, "admin token"),
    ("PUT", "/v1/models/clf/versions", b"<PMML>not pmml</PMML>", AUTH, 400,
     "uploaded PMML for model 'clf' does not load"),
    ("PUT", "/v1/models/clf/labels/stable", b'{"version": "x"}', AUTH, 400, '"version" is'),
    ("PUT", "/v1/models/clf/labels/stable", b'{"version": 9}', AUTH, 404, "no version 9"),
    ("DELETE", "/v1/models/clf/versions/9", None, AUTH, 404, "no version 9"),
    # the scheme is case-insensitive (RFC 9110); the token is not
    ("DELETE", "/v1/models/clf/versions/9", None, {"authorization": f"bearer {ADMIN_TOKEN}"}, 404, "no version 9"),
    ("DELETE", "/v1/models/clf/versions/9", None, {"authorization": f"BEARER  {ADMIN_TOKEN}"}, 404, "no version 9"),
    ("DELETE", "/v1/models/clf/versions/9", None, {"authorization": f"Bearer {ADMIN_TOKEN.upper()}"}, 401,
     "wrong admin token"),
    ("DELETE", "/v1/models/clf/versions/9", None, {"authorization": f"Bearer{ADMIN_TOKEN}"}, 401, "admin token"),
    # every method of the path, whichever route Starlette tried first
    ("OPTIONS", "/v1/models/clf/versions/1", None, {}, 405, "allowed: DELETE, GET, HEAD"),
    ("POST", "/v1/models/clf/labels/stable", b"", {}, 405, "allowed: GET, HEAD, PUT"),
]


@pytest.mark.parametrize("method, path, body, headers, status, phrase", CASES,
                         ids=[f"{c[0]} {c[1]} {c[4]}" for c in CASES])
async def test_error_shape(client, method, path, body, headers, status, phrase):
    r = await client.request(method, path, content=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    payload = r.json()
    assert list(payload) == ["error"] and isinstance(payload["error"], str)
    assert phrase in payload["error"]


async def test_oversized_body_is_413_with_and_without_content_length(published, make_app):
    import httpx

    app = make_app(max_body_bytes=1000)
    big = {"instances": [record()] * 50}  # ~2.5 kB
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/v1/models/clf:predict", json=big)
        assert r.status_code == 413 and "larger than 1000 bytes" in r.json()["error"]

        async def chunked():  # no Content-Length: the cap is counted while reading
            for _ in range(5):
                yield b" " * 400
        r = await c.post("/v1/models/clf:predict", content=chunked(), headers=JSON)
        assert r.status_code == 413 and list(r.json()) == ["error"]
        assert (await c.post("/v1/models/clf:predict", json={"instances": [record()]})).status_code == 200


async def test_admin_disabled_without_token(published, make_app):
    import httpx

    app = make_app(admin_token=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for method, path in (("PUT", "/v1/models/clf/versions"), ("DELETE", "/v1/models/clf/versions/1"),
                             ("PUT", "/v1/models/clf/labels/stable")):
            r = await c.request(method, path, content=b"{}", headers=AUTH)
            assert r.status_code == 403 and "admin endpoints are disabled" in r.json()["error"]
    assert published.labels("clf") == {} and [v.number for v in published.versions("clf")] == [1]


async def test_errors_are_counted_in_metrics(client):
    await client.post("/v1/models/clf:predict", json={"instances": [record(x1="abc")]})
    await client.get("/v1/models/nope")
    text = (await client.get("/metrics")).text
    assert 'pmmlkit_serving_requests_total{code="400",endpoint="predict",model="clf",version="1"} 1.0' in text
    # an unknown model name never becomes a label value: label cardinality stays bounded
    assert 'pmmlkit_serving_errors_total{kind="404",model="",version=""} 1.0' in text
    assert "nope" not in text


async def test_allow_header_lists_every_method_of_the_path(client):
    r = await client.options("/v1/models/clf/versions/1")
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET, HEAD"


def test_backend_unavailable_is_503_with_retry_after():
    from pmmlkit.errors import BackendUnavailable
    from pmmlkit.serving.http import error_response

    r = error_response(BackendUnavailable("the JVM restarted twice; retry", retry_after=2.2))
    assert r.status_code == 503 and r.headers["retry-after"] == "3"
    assert r.body == b'{"error":"the JVM restarted twice; retry"}'
