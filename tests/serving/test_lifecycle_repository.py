"""Model lifecycle against a flaky repository: nothing unloads by accident, one corrupt entry affects itself."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from serving_helpers import ADMIN_TOKEN, record, v1, v2

pytestmark = pytest.mark.anyio
AUTH = {"authorization": f"Bearer {ADMIN_TOKEN}"}


async def served_version(client, name="clf") -> int:
    r = await client.post(f"/v1/models/{name}:predict", json={"instances": [record()]})
    assert r.status_code == 200, r.text
    return int(r.json()["model_version"])


def statuses(app, name="clf"):
    return {n: (s.state, s.error) for n, s in app.state.models.status(name).items()}


@pytest.mark.parametrize("outage", ["moved away", "empty mount point"])
async def test_root_gone_for_a_while_changes_nothing(client, published, outage):
    root = Path(published.root)
    root.rename(root.with_name("away"))
    if outage == "empty mount point":
        root.mkdir()
    client.app.state.models.poll()
    assert await served_version(client) == 1  # the loaded version keeps serving
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["models"] == ["clf"]
    assert "repository" in r.json() and r.json()["repository"] != "ok"
    metrics = (await client.get("/metrics")).text
    assert 'pmmlkit_serving_listing_failures_total{model=""} 1.0' in metrics
    assert "pmmlkit_serving_repository_up 0.0" in metrics
    if outage == "empty mount point":
        root.rmdir()
    root.with_name("away").rename(root)
    published.publish("clf", v2())
    client.app.state.models.poll()
    assert await served_version(client) == 2  # back: the next successful listing is applied
    assert (await client.get("/readyz")).json()["repository"] == "ok"
    assert "pmmlkit_serving_repository_up 1.0" in (await client.get("/metrics")).text


async def test_unreadable_model_file_is_retried_not_failed_for_good(client, published):
    version = published.publish("clf", v2())
    pmml = Path(version.uri)
    pmml.rename(pmml.with_name("hidden"))  # the bytes are unreachable for one poll
    client.app.state.models.poll()
    assert await served_version(client) == 1
    state, error = statuses(client.app)[2]
    assert state == "START" and "retried on the next poll" in error
    pmml.with_name("hidden").rename(pmml)
    client.app.state.models.poll()
    assert await served_version(client) == 2
    assert statuses(client.app)[2] == ("AVAILABLE", "")


def corrupt_manifest(repo, number: int, name: str = "clf") -> None:
    Path(repo.root, name, str(number), "manifest.json").write_text("{not json")


async def test_corrupt_manifest_of_old_version_does_not_freeze_the_model(client, published):
    published.publish("clf", v2())
    client.app.state.models.poll()
    corrupt_manifest(published, 1)
    r = await client.put("/v1/models/clf/versions", content=v1(), headers=AUTH)
    assert r.status_code == 201 and r.json()["version"] == "3"
    assert await served_version(client) == 3  # the new version is served
    state, error = statuses(client.app)[1]
    assert state == "END" and "manifest" in error
    body = (await client.get("/v1/models/clf/versions/1")).json()["model_version_status"][0]
    assert body["status"]["error_code"] != "OK" and "manifest" in body["status"]["error_message"]
    assert 'pmmlkit_serving_failed_versions{model="clf"} 1.0' in (await client.get("/metrics")).text


async def test_loaded_version_whose_manifest_breaks_keeps_serving(client, published):
    corrupt_manifest(published, 1)
    client.app.state.models.poll()
    assert await served_version(client) == 1
    assert (await client.get("/readyz")).status_code == 200


async def test_repaired_manifest_is_loaded_on_a_later_poll(repo, make_app):
    repo.publish("clf", v1())
    good = Path(repo.root, "clf", "1", "manifest.json").read_bytes()
    corrupt_manifest(repo, 1)
    app = make_app()
    assert statuses(app)[1][0] == "END"
    Path(repo.root, "clf", "1", "manifest.json").write_bytes(good)
    app.state.models.poll()
    assert statuses(app)[1] == ("AVAILABLE", "")


async def test_corrupt_labels_keep_the_labels_loaded_before(client, published):
    published.set_label("clf", "stable", 1)
    published.publish("clf", v2())
    client.app.state.models.poll()
    Path(published.root, "clf", "labels.json").write_text(json.dumps({"stable": "one"}))
    published.publish("clf", v1())
    client.app.state.models.poll()
    assert await served_version(client) == 3  # new versions still load
    r = await client.post("/v1/models/clf/labels/stable:predict", json={"instances": [record()]})
    assert r.status_code == 200 and r.json()["model_version"] == "1"
    assert 'pmmlkit_serving_listing_failures_total{model="clf"}' in (await client.get("/metrics")).text


async def test_model_deleted_on_a_successful_listing_is_unloaded(client, published):
    published.publish("other", v2())
    client.app.state.models.poll()
    published.delete("clf", 1)
    client.app.state.models.poll()
    r = await client.post("/v1/models/clf:predict", json={"instances": [record()]})
    assert r.status_code == 404
    assert await served_version(client, "other") == 1
    assert os.path.isdir(published.root)
