"""JSON predict requests: one rule per record, bounded answers, 400 (never 500) for any body shape."""
from __future__ import annotations

import json
import logging

import httpx
import pytest
from serving_helpers import expected_p1, record, v1

pytestmark = pytest.mark.anyio
TOL = 1e-9
PREDICT = "/v1/models/clf:predict"


def error_output_pmml() -> bytes:
    """The test model with its probability(1) output named ``error``: the name of pmmlkit's own error key.

    (A target named ``error`` no longer collides: it is published as ``predicted_error``.)
    """
    return v1().replace(b'name="probability(1)"', b'name="error"')


def wide_category_pmml(n: int = 50_000) -> bytes:
    """The test model with 50,000 allowed colors: an error message must not list them all."""
    values = "".join(f'<Value value="c{i}"/>' for i in range(n)).encode()
    old = b'<Value value="red"/><Value value="green"/><Value value="blue"/>'
    assert old in v1()
    return v1().replace(old, old + values)


async def _client(repo, make_app, name: str, pmml: bytes) -> httpx.AsyncClient:
    repo.publish(name, pmml)
    app = make_app()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


# --- (6) pmmlkit's own keys never shadow a field -------------------------------

async def test_output_named_error_keeps_its_values_and_errors_move_aside(repo, make_app):
    async with await _client(repo, make_app, "clf", error_output_pmml()) as c:
        recs = [record(), record(color="pink")]
        r = await c.post(PREDICT, json={"instances": recs, "errors": "per_record"})
        assert r.status_code == 200, r.text
        good, bad = r.json()["predictions"]
        assert good["predicted_y"] == ("1" if expected_p1(recs[0], 1) > 0.5 else "0")
        assert good["error"] == pytest.approx(expected_p1(recs[0], 1), abs=TOL)
        assert list(bad) == ["_error"] and bad["_error"].startswith("row 1: field 'color': value 'pink'")
        r = await c.post(PREDICT, json={"inputs": {"x1": [1.0, 1.0], "x2": [2.0, 2.0], "color": ["red", "pink"]},
                                        "errors": "per_record"})
        out = r.json()["outputs"]
        assert out["error"] == [good["error"], None] and out["_error"][0] is None
        assert out["_error"][1].startswith("row 1: field 'color'")
        r = await c.post(PREDICT, content=b"x1,x2,color\n1,2,red\n1,2,pink\n", headers={"content-type": "text/csv"})
        lines = r.text.splitlines()
        assert lines[0] == "predicted_y,probability(0),error,_error"
        assert lines[1].startswith(good["predicted_y"] + ",") and lines[1].endswith(",")
        assert lines[2].startswith(",,,") and "row 1: field 'color'" in lines[2]
        metrics = (await c.get("/metrics")).text
        assert 'pmmlkit_serving_errors_total{kind="record",model="clf",version="1"} 2.0' in metrics


# --- (9) a record without a field is answered as that record alone -------------

ABSENT = {"x1": 1.0, "color": "red"}  # no x2


async def test_absent_field_is_the_same_error_alone_or_after_a_complete_record(client):
    alone = await client.post(PREDICT, json={"instances": [ABSENT]})
    after = await client.post(PREDICT, json={"instances": [record(), ABSENT]})
    assert alone.status_code == after.status_code == 400
    assert alone.json()["error"].startswith("row 0: field 'x2'") and "absent" in alone.json()["error"]
    assert after.json()["error"] == alone.json()["error"].replace("row 0", "row 1")
    # every record lacks it: still each record's own error
    both = await client.post(PREDICT, json={"instances": [ABSENT, ABSENT]})
    assert both.status_code == 400 and both.json()["error"] == alone.json()["error"]


async def test_absent_field_per_record_rejects_only_that_record(client):
    recs = [record(), ABSENT, record(x1=-1.0, color="blue"), ABSENT]
    r = await client.post(PREDICT, json={"instances": recs, "errors": "per_record"})
    assert r.status_code == 200
    preds = r.json()["predictions"]
    for i in (1, 3):
        assert list(preds[i]) == ["error"] and preds[i]["error"].startswith(f"row {i}: field 'x2'")
    for i in (0, 2):
        assert preds[i]["probability(1)"] == pytest.approx(expected_p1(recs[i], 1), abs=TOL)


async def test_null_is_a_missing_value_and_an_extra_key_changes_nothing(client):
    """``null`` is PMML's missing value (treated by the MiningField), unlike an absent key."""
    extra = {**record(), "comment": "ignored"}
    r = await client.post(PREDICT, json={"instances": [record(), extra, {**record(), "x2": None}]})
    assert r.status_code == 200, r.text
    p = r.json()["predictions"]
    assert p[0] == p[1]
    assert p[2]["predicted_y"] is None or isinstance(p[2]["predicted_y"], str)  # scored (asIs missing), not refused


# --- (12) lists, objects and deep nesting are 400 naming the row and field ----

def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


NESTED = _nested(500)  # parses, but must not be echoed whole (nor recursed into) in a message


@pytest.mark.parametrize("body, phrase", [
    ({"instances": [record(), {**record(), "x1": [1, 2]}]},
     "row 1: field 'x1': value [1, 2] is a JSON list; expected a string"),
    ({"instances": [{**record(), "color": {"a": 1}}, record()]},
     "row 0: field 'color': value {'a': 1} is a JSON object"),
    ({"instances": [{**record(), "color": {"a": 1}}]}, "row 0: field 'color'"),
    ({"inputs": {"x1": [1.0, [2.0]], "x2": [1.0, 2.0], "color": ["red", "red"]}}, "row 1: field 'x1'"),
    ({"instances": [record()], "errors": {"a": 1}}, '"errors": {\'a\': 1} is not supported'),
    ({"instances": [record()], "signature_name": ["x"]}, '"signature_name" must be a string'),
    ({"instances": [record(), {**record(), "x1": NESTED}]}, "row 1: field 'x1': value [[[...]]] is a JSON list"),
], ids=["list-in-batch", "object-first", "object-alone", "list-in-inputs", "object-errors-mode", "list-signature",
        "nested-500"])
async def test_non_scalar_values_are_400_with_one_log_line(client, caplog, body, phrase):
    with caplog.at_level(logging.INFO):
        r = await client.post(PREDICT, json=body)
    assert r.status_code == 400, r.text
    assert list(r.json()) == ["error"] and phrase in r.json()["error"] and len(r.content) < 1_000
    assert not [rec for rec in caplog.records if rec.exc_info or rec.levelno >= logging.ERROR]


async def test_non_scalar_value_per_record_rejects_only_that_record(client):
    recs = [record(), {**record(), "x2": [1]}, record(color="green")]
    r = await client.post(PREDICT, json={"instances": recs, "errors": "per_record"})
    preds = r.json()["predictions"]
    assert r.status_code == 200 and preds[1] == {
        "error": "row 1: field 'x2': value [1] is a JSON list; expected a string, number, boolean or null"}
    assert preds[2]["probability(1)"] == pytest.approx(expected_p1(recs[2], 1), abs=TOL)
    r = await client.post(PREDICT, json={"inputs": {"x1": [1.0, 1.0], "x2": [{}, 2.0], "color": ["red", "red"]},
                                         "errors": "per_record"})
    out = r.json()["outputs"]
    assert out["error"][0].startswith("row 0: field 'x2'") and out["error"][1] is None
    assert out["probability(1)"][0] is None
    assert out["probability(1)"][1] == pytest.approx(expected_p1(record(), 1), abs=TOL)


@pytest.mark.parametrize("depth", [100_000, 5_000])
async def test_deeply_nested_json_is_400(client, caplog, depth):
    for body in ("[" * depth + "]" * depth, '{"instances": ' + "[" * depth + "]" * depth + "}"):
        with caplog.at_level(logging.INFO):
            r = await client.post(PREDICT, content=body.encode(), headers={"content-type": "application/json"})
        assert r.status_code == 400, r.text[:300]
        assert "too deeply" in r.json()["error"]
    assert not [rec for rec in caplog.records if rec.exc_info or rec.levelno >= logging.ERROR]


# --- bounded answers: 40 bad records against a 50,000-value field -------------

async def test_many_bad_records_against_a_wide_vocabulary_give_a_small_response(repo, make_app):
    async with await _client(repo, make_app, "clf", wide_category_pmml()) as c:
        bad = [record(color=f"nope{i}") for i in range(40)]
        body = json.dumps({"instances": bad, "errors": "per_record"}).encode()
        assert len(body) < 2_000
        r = await c.post(PREDICT, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 200
        assert len(r.content) < 48_000, len(r.content)  # 40 messages of at most ~1 KB each
        preds = r.json()["predictions"]
        assert all(p["error"].startswith(f"row {i}: field 'color': value 'nope{i}'") for i, p in enumerate(preds))
        r = await c.post(PREDICT, json={"instances": bad})  # the first error alone, also bounded
        assert r.status_code == 400 and len(r.content) < 1_200 and r.json()["error"].startswith("row 0:")
        r = await c.post(PREDICT, content=("x1,x2,color\n" + "1,2,nope\n" * 40).encode(),
                         headers={"content-type": "text/csv"})
        assert r.status_code == 200 and len(r.content) < 48_000
