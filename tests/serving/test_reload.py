"""Hot reload in process: new, failing and removed versions, version policies, in-flight holds."""
from __future__ import annotations

import pytest
from serving_helpers import ADMIN_TOKEN, expected_p1, record, v1, v2

from pmmlkit.errors import ConfigError
from pmmlkit.serving.config import Policy

pytestmark = pytest.mark.anyio
AUTH = {"authorization": f"Bearer {ADMIN_TOKEN}"}
BROKEN = b'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/></PMML>'


def statuses(app, name="clf"):
    return {n: (s.state, s.error) for n, s in app.state.models.status(name).items()}


async def predict_version(client, path="/v1/models/clf"):
    r = await client.post(path + ":predict", json={"instances": [record()]})
    assert r.status_code == 200, r.text
    return int(r.json()["model_version"])


async def test_new_version_swaps_in_and_old_one_unloads(client, published):
    assert await predict_version(client) == 1
    published.publish("clf", v2())
    assert await predict_version(client) == 1  # nothing changes before a poll
    client.app.state.models.poll()
    r = await client.post("/v1/models/clf:predict", json={"instances": [record()]})
    assert r.json()["predictions"][0]["probability(1)"] == pytest.approx(expected_p1(record(), 2), abs=1e-9)
    assert statuses(client.app) == {1: ("END", ""), 2: ("AVAILABLE", "")}
    metrics = (await client.get("/metrics")).text
    assert 'pmmlkit_serving_reload_events_total{model="clf",outcome="unloaded",version="1"} 1.0' in metrics


async def test_failing_version_is_reported_and_previous_keeps_serving(client, published):
    published.publish("clf", BROKEN)
    client.app.state.models.poll()
    assert await predict_version(client) == 1
    state = statuses(client.app)
    assert state[1] == ("AVAILABLE", "")
    assert state[2][0] == "END" and "DataDictionary" in state[2][1]
    body = (await client.get("/v1/models/clf/versions/2")).json()["model_version_status"][0]
    assert body["state"] == "END" and body["status"]["error_code"] != "OK"
    assert "DataDictionary" in body["status"]["error_message"]
    metrics = (await client.get("/metrics")).text
    assert 'pmmlkit_serving_reload_events_total{model="clf",outcome="failed",version="2"} 1.0' in metrics
    client.app.state.models.poll()  # a failed version is not retried: same bytes, same failure
    assert 'outcome="failed",version="2"} 1.0' in (await client.get("/metrics")).text
    published.publish("clf", v2())  # a good version after the broken one loads normally
    client.app.state.models.poll()
    assert await predict_version(client) == 3


async def test_removed_version_unloads_and_older_one_returns(client, published):
    published.publish("clf", v2())
    client.app.state.models.poll()
    assert await predict_version(client) == 2
    published.delete("clf", 2)
    client.app.state.models.poll()
    assert await predict_version(client) == 1  # latest:1 falls back to the newest published
    assert statuses(client.app)[2] == ("END", "")


async def test_model_removed_from_repository_stops_being_served(client, published):
    published.delete("clf", 1)
    client.app.state.models.poll()
    r = await client.post("/v1/models/clf:predict", json={"instances": [record()]})
    assert r.status_code == 404


@pytest.mark.parametrize("policy, versions, loaded", [
    ("latest", None, [3]), ("latest:2", None, [2, 3]), ("all", None, [1, 2, 3]), ("specific", "1,3", [1, 3]),
])
async def test_version_policies(repo, make_app, policy, versions, loaded):
    for raw in (v1(), v2(), v1()):
        repo.publish("clf", raw)
    app = make_app(policy=Policy.parse(policy, versions=versions))
    assert sorted(app.state.models.snapshot("clf").available) == loaded


def test_policy_parsing_rejects_nonsense():
    assert str(Policy.parse("latest:3")) == "latest:3"
    assert Policy.parse("specific:2,1").versions == (1, 2)
    for bad in ("latest:0", "latest:x", "newest", "all:2", "specific"):
        with pytest.raises(ConfigError):
            Policy.parse(bad)
    with pytest.raises(ConfigError):
        Policy.parse("latest", versions="1,2")


async def test_in_flight_request_keeps_its_version_until_released(client, published):
    manager = client.app.state.models
    old = manager.pick("clf")
    assert old.acquire()  # a request that started on v1
    published.publish("clf", v2())
    manager.poll()
    assert manager.pick("clf").number == 2  # new requests go to v2
    assert not old.closed  # ...while the held v1 still scores
    assert old.evaluator.predict(record())["probability(1)"] == pytest.approx(expected_p1(record(), 1), abs=1e-9)
    old.release()
    assert old.closed and not old.acquire()


async def test_admin_publish_label_delete_roundtrip(client, published):
    r = await client.put("/v1/models/clf/versions", content=v2(), headers=AUTH)
    assert r.status_code == 201 and r.json() == {"model": "clf", "version": "2", "ref": "clf:2"}
    assert await predict_version(client) == 2  # the publishing worker loads it at once
    manifest = published.resolve("clf:2").manifest
    assert [f["name"] for f in manifest.input_schema] == ["x1", "x2", "color"]

    r = await client.put("/v1/models/clf/labels/stable", json={"version": 1}, headers=AUTH)
    assert r.status_code == 200 and published.labels("clf") == {"stable": 1}
    assert await predict_version(client, "/v1/models/clf/labels/stable") == 1

    r = await client.delete("/v1/models/clf/versions/1", headers=AUTH)
    assert r.status_code == 409 and "stable" in r.json()["error"]  # a label still points at it
    await client.put("/v1/models/clf/labels/stable", json={"version": 2}, headers=AUTH)
    r = await client.delete("/v1/models/clf/versions/1", headers=AUTH)
    assert r.status_code == 200 and [v.number for v in published.versions("clf")] == [2]
    assert 1 not in client.app.state.models.snapshot("clf").available


async def test_admin_rejects_traversal_names(client):
    r = await client.put("/v1/models/..a/versions", content=v1(), headers=AUTH)
    assert r.status_code == 400 and "invalid model name '..a'" in r.json()["error"]
