"""TF Serving's :classify and :regress, in TF's request and response shapes."""
from __future__ import annotations

import pytest
from serving_helpers import expected_p1, record

from tests.docs import boolean_pmml

pytestmark = pytest.mark.anyio
TOL = 1e-9


async def test_classify_answers_class_score_pairs(client):
    recs = [record(), record(x1=-2.0, color="blue")]
    r = await client.post("/v1/models/clf:classify", json={"signature_name": "serving_default", "examples": recs})
    assert r.status_code == 200, r.text
    assert r.headers["x-model-version"] == "1" and r.json()["model_version"] == "1"
    result = r.json()["result"]
    assert len(result) == 2
    for rec, pairs in zip(recs, result):
        assert [label for label, _ in pairs] == ["0", "1"]
        assert pairs[1][1] == pytest.approx(expected_p1(rec, 1), abs=TOL)
        assert pairs[0][1] == pytest.approx(1 - expected_p1(rec, 1), abs=TOL)


async def test_classify_context_is_shared_and_examples_override_it(client):
    r = await client.post("/v1/models/clf/versions/1:classify",
                          json={"context": {"color": "green", "x2": 0.0},
                                "examples": [{"x1": 1.0}, {"x1": 1.0, "color": "red"}]})
    assert r.status_code == 200, r.text
    result = r.json()["result"]
    assert result[0][1][1] == pytest.approx(expected_p1(record(1.0, 0.0, "green"), 1), abs=TOL)
    assert result[1][1][1] == pytest.approx(expected_p1(record(1.0, 0.0, "red"), 1), abs=TOL)


async def test_regress_answers_one_value_per_example(published, make_app):
    import httpx

    published.publish("spend", boolean_pmml())
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/v1/models/spend:regress",
                         json={"examples": [{"member": True, "visits": 3, "code": "1"},
                                            {"member": "false", "visits": 1, "code": "2"}]})
        assert r.status_code == 200, r.text
        assert r.json()["result"] == [10 + 6 + 5 + 100, 10 + 2 - 5 + 200]
        r = await c.post("/v1/models/spend:classify", json={"examples": [{"member": True, "visits": 3, "code": "1"}]})
        assert r.status_code == 400 and "use :regress or :predict" in r.json()["error"]


async def test_bad_examples_are_400s_naming_the_row(client):
    r = await client.post("/v1/models/clf:regress", json={"examples": [record()]})
    assert r.status_code == 400 and "use :classify or :predict" in r.json()["error"]
    r = await client.post("/v1/models/clf:classify", json={"examples": [record(), record(color="pink")]})
    assert r.status_code == 400 and r.json()["error"].startswith("row 1: field 'color': value 'pink'")
    r = await client.post("/v1/models/clf:classify", json={"instances": [record()]})
    assert r.status_code == 400 and "unknown key(s) ['instances']" in r.json()["error"]
    r = await client.post("/v1/models/clf:classify", json={"examples": {"x1": 1}})
    assert r.status_code == 400 and '"examples" must be a list' in r.json()["error"]
    r = await client.post("/v1/models/nope:classify", json={"examples": []})
    assert r.status_code == 404


async def test_a_context_value_that_is_not_a_scalar_is_a_400_even_without_examples(client):
    r = await client.post("/v1/models/clf:classify", json={"context": {"x1": {}}, "examples": []})
    assert r.status_code == 400
    assert r.json()["error"] == ('"context": field \'x1\': value {} is a JSON object; expected a string, number, '
                                 'boolean or null')
