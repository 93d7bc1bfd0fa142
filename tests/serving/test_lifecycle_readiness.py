"""Readiness covers what can be served: one bad model is its own problem; --require names the essential ones."""
from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from serving_helpers import v2

from pmmlkit.errors import ConfigError
from pmmlkit.serving.config import ServerConfig

pytestmark = pytest.mark.anyio
BROKEN = b'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/></PMML>'


async def get(app, path):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.get(path)


async def test_bad_model_next_to_good_ones_leaves_the_server_ready(published, make_app):
    published.publish("bad", BROKEN)
    app = make_app()
    r = await get(app, "/readyz")
    assert r.status_code == 200 and r.json()["models"] == ["clf"]
    assert "DataDictionary" in r.json()["unavailable"]["bad"]
    status = (await get(app, "/v1/models/bad")).json()["model_version_status"][0]
    assert status["state"] == "END" and "DataDictionary" in status["status"]["error_message"]
    assert status["status"]["error_code"] == "UNKNOWN"
    metrics = (await get(app, "/metrics")).text
    assert 'pmmlkit_serving_failed_versions{model="bad"} 1.0' in metrics
    assert 'pmmlkit_serving_reload_events_total{model="bad",outcome="failed",version="1"} 1.0' in metrics


async def test_required_model_must_be_available(published, make_app):
    published.publish("bad", BROKEN)
    r = await get(make_app(required=("bad",)), "/readyz")
    assert r.status_code == 503
    assert "required" in r.json()["error"] and "'bad'" in r.json()["error"]
    assert (await get(make_app(required=("clf",)), "/readyz")).status_code == 200
    app = make_app(required=("later",))
    assert (await get(app, "/readyz")).status_code == 503  # not in the repository yet
    published.publish("later", v2())
    app.state.models.poll()
    assert (await get(app, "/readyz")).status_code == 200


async def test_never_ready_with_nothing_to_serve(repo, make_app):
    Path(repo.root).mkdir(parents=True)
    r = await get(make_app(), "/readyz")
    assert r.status_code == 503 and r.json() == {
        "error": "not ready: no model has an AVAILABLE version; the repository cannot be listed: "
                 f"the repository root {repo.root} is empty (unmounted?)", "unavailable": {}}
    repo.publish("bad", BROKEN)
    r = await get(make_app(), "/readyz")
    assert r.status_code == 503 and "bad" in r.json()["unavailable"]


def test_require_must_be_served():
    with pytest.raises(ConfigError, match="--require 'b'"):
        ServerConfig(models=("a",), required=("b",))
    config = ServerConfig(required=("a", "b"))
    assert ServerConfig.from_json(config.to_json()) == config


def test_cli_require_option_reaches_the_config(monkeypatch, tmp_path):
    from pmmlkit.cli import main

    seen = {}
    monkeypatch.setattr("pmmlkit.serving.run.serve", lambda **kw: seen.update(kw))
    result = CliRunner().invoke(main, ["serve", "--repo", str(tmp_path), "--require", "a", "--require", "b"])
    assert result.exit_code == 0, result.output
    assert seen["config"].required == ("a", "b")


async def test_loads_swaps_and_unloads_are_logged_with_version_and_time(published, make_app, caplog):
    caplog.set_level(logging.INFO, logger="pmmlkit.serving")
    app = make_app()
    published.publish("clf", v2())
    published.publish("clf", BROKEN)
    app.state.models.poll()
    text = "\n".join(r.getMessage() for r in caplog.records)
    for needle in ("loaded clf:1 in ", "loaded clf:2 in ", "cannot load clf:3 (after ",
                   "model clf now serves version(s) [2] (before: [1])", "unloaded clf:1 in "):
        assert needle in text, text


def test_serve_logs_the_lifecycle_at_the_default_level():
    import pmmlkit.serving.run as run

    logger = logging.getLogger("pmmlkit")
    before = (logger.level, list(logger.handlers), logger.propagate)
    try:
        run.configure_logging("info")
        run.configure_logging("info")  # idempotent: one handler, each record printed once
        ours = [h for h in logger.handlers if getattr(h, "pmmlkit_serving", False)]
        assert len(ours) == 1 and logging.getLogger("pmmlkit.serving.models").isEnabledFor(logging.INFO)
    finally:
        logger.setLevel(before[0])
        logger.handlers[:] = before[1]
        logger.propagate = before[2]
