"""Fault injection on the server's model lifecycle, in process with the real background poller.

Bounded in time (every loop has a deadline) and on no network at all: requests go
through httpx's ASGI transport, the repository is a temporary folder.
"""
from __future__ import annotations

import contextlib
import time
from collections import Counter
from pathlib import Path

import anyio
import httpx
import pytest

from tests.serving.serving_helpers import BACKEND, record, v1, v2

pytestmark = pytest.mark.anyio
BROKEN = b'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/></PMML>'
POLL = 0.05


@contextlib.asynccontextmanager
async def server(repo, **options):
    """An app over ``repo`` whose poller runs in the background, as under ``pmmlkit serve``."""
    from pmmlkit.serving import ServerConfig, create_app

    app = create_app(repo, config=ServerConfig(backend=BACKEND, poll_seconds=POLL, **options))
    manager = app.state.models
    manager.poll()
    manager.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client
    finally:
        await anyio.to_thread.run_sync(manager.close)


async def until(check, *, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await anyio.sleep(POLL)


async def served(client, name="clf") -> int | None:
    r = await client.post(f"/v1/models/{name}:predict", json={"instances": [record()]})
    return int(r.json()["model_version"]) if r.status_code == 200 else None


async def test_repository_moved_away_and_back_under_load(repo):
    repo.publish("clf", v1())
    root = Path(repo.root)
    codes: Counter = Counter()
    stop = anyio.Event()

    async def load(client) -> None:
        deadline = time.monotonic() + 30  # bounded even if the test body fails to stop it
        while not stop.is_set() and time.monotonic() < deadline:
            r = await client.post("/v1/models/clf:predict", json={"instances": [record()]})
            codes[r.status_code] += 1
            await anyio.sleep(0)

    async with server(repo) as client, anyio.create_task_group() as tasks:
        for _ in range(2):
            tasks.start_soon(load, client)
        await anyio.sleep(10 * POLL)
        root.rename(root.with_name("moved"))
        before = sum(codes.values())
        for _ in range(20):  # many polls while the root is away
            assert (await client.get("/readyz")).status_code == 200
            await anyio.sleep(POLL)
        away = sum(codes.values()) - before
        root.with_name("moved").rename(root)
        repo.publish("clf", v2())
        await until(lambda: _is(served(client), 2))
        stop.set()
    assert set(codes) == {200}, codes  # no 404 and no 5xx, ever
    assert away > 20, away  # requests answered while the root was away


async def _is(awaitable, value) -> bool:
    return await awaitable == value


async def _version_status(client) -> dict[str, dict]:
    return {s["version"]: s for s in (await client.get("/v1/models/clf")).json()["model_version_status"]}


async def test_corrupt_manifest_next_to_good_versions(repo):
    repo.publish("clf", v1())
    async with server(repo) as client:
        Path(repo.root, "clf", "1", "manifest.json").write_bytes(b"\x00garbage")
        repo.publish("clf", v2())
        await until(lambda: _is(served(client), 2))

        async def reported() -> bool:
            # The poll that serves version 2 retires version 1, then reports its unreadable entry:
            # a status read between the two still sees the retirement alone.
            return (await _version_status(client))["1"]["status"]["error_code"] == "UNKNOWN"
        await until(reported)
        status = await _version_status(client)
        assert status["2"]["state"] == "AVAILABLE"
        assert status["1"]["status"]["error_code"] == "UNKNOWN"
        assert "manifest" in status["1"]["status"]["error_message"]
        assert (await client.get("/readyz")).status_code == 200


async def test_bad_model_next_to_good_ones(repo):
    repo.publish("clf", v1())
    repo.publish("bad", BROKEN)
    async with server(repo) as client:
        r = await client.get("/readyz")
        assert r.status_code == 200 and r.json()["models"] == ["clf"]
        status = (await client.get("/v1/models/bad")).json()["model_version_status"][0]
        assert status["state"] == "END" and status["status"]["error_message"]
        assert await served(client) == 1
    async with server(repo, required=("bad",)) as client:
        r = await client.get("/readyz")
        assert r.status_code == 503 and "'bad'" in r.json()["error"]
        assert await served(client) == 1  # not ready, yet the good model still answers
