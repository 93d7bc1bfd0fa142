"""Canary and shadow traffic by label: shares, pinning, label changes, exact divergence metrics."""
from __future__ import annotations

import math
import random

import httpx
import pytest
from serving_helpers import BACKEND, expected_p1, record, v1, v2

from pmmlkit import Evaluator
from pmmlkit.errors import ConfigError
from pmmlkit.serving.config import ServerConfig
from pmmlkit.serving.traffic import CanaryRouter

pytestmark = pytest.mark.anyio


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus exposition ``text`` (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_canary_router_share_over_10000_draws():
    router = CanaryRouter({"ctr": ("candidate", 0.10)}, rng=random.Random())
    labels, loaded = {"candidate": 2}, {1, 2}
    draws = [router.label("ctr", labels, loaded) for _ in range(10_000)]
    assert set(draws) == {"candidate", None}
    assert abs(draws.count("candidate") / 10_000 - 0.10) <= 0.03
    assert router.label("other", labels, loaded) is None    # no canary for that model
    assert router.label("ctr", {}, loaded) is None          # its label is gone: the primary
    assert all(router.label("ctr", labels, {1}) is None for _ in range(100))  # its version is not loaded


def test_canary_and_shadow_options_are_checked():
    assert ServerConfig(canary=("ctr@cand=12.5%",)).canaries == {"ctr": ("cand", 0.125)}
    for bad in ("ctr@cand", "ctr=10%", "ctr@cand=101%", "ctr@cand=ten%"):
        with pytest.raises(ConfigError, match="MODEL@LABEL=P%"):
            ServerConfig(canary=(bad,))
    with pytest.raises(ConfigError, match="twice"):
        ServerConfig(shadow=("ctr@a", "ctr@b"))
    config = ServerConfig(canary=("ctr@cand=5%",), shadow=("ctr@cand",))
    assert ServerConfig.from_json(config.to_json()) == config  # workers get the same options


async def test_canary_routes_its_share_of_unpinned_requests_and_follows_the_label(published, make_app):
    published.publish("clf", v2())
    published.set_label("clf", "cand", 1)  # latest is 2; the canary label points at 1
    app = make_app(canary=("clf@cand=25%",))
    core = app.state.core
    versions = []
    for _ in range(10_000):  # the router through the core, as a request resolves its version
        with core.hold("clf", route=True) as loaded:
            versions.append(loaded.number)
    assert abs(versions.count(1) / 10_000 - 0.25) <= 0.03
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        answered = [(await c.post("/v1/models/clf:predict", json={"instances": [record()]})).json()["model_version"]
                    for _ in range(400)]
        assert 0.15 <= answered.count("1") / 400 <= 0.35
        for path, version in (("/v1/models/clf/versions/2", "2"), ("/v1/models/clf/labels/cand", "1")):
            pinned = {(await c.post(path + ":predict", json={"instances": [record()]})).json()["model_version"]
                      for _ in range(50)}
            assert pinned == {version}  # pinned requests are never moved
        published.publish("clf", v1())  # version 3 is the latest now; the label moves to 2
        published.set_label("clf", "cand", 2)
        app.state.models.poll()
        answered = [(await c.post("/v1/models/clf:predict", json={"instances": [record()]})).json()["model_version"]
                    for _ in range(400)]
        assert set(answered) == {"2", "3"} and 0.15 <= answered.count("2") / 400 <= 0.35


async def test_shadow_divergence_metrics_are_exact(published, make_app):
    published.publish("clf", v2())
    published.set_label("clf", "cand", 1)  # primary: latest = 2; shadow: the label's version 1
    app = make_app(shadow=("clf@cand",))
    recs = [record(x1=x / 2, x2=(x % 5) - 2.0, color=("red", "green", "blue")[x % 3]) for x in range(-8, 9)]
    recs.insert(3, record(color="pink"))  # refused by both versions: no divergence, no mismatch
    with Evaluator.from_bytes(v2(), backend=BACKEND) as primary, Evaluator.from_bytes(v1(), backend=BACKEND) as cand:
        mine, theirs = primary.predict_records(recs).results, cand.predict_records(recs).results
    both = [(a, b) for a, b in zip(mine, theirs) if a is not None]
    expected_delta = math.fsum(abs(a["probability(1)"] - b["probability(1)"]) for a, b in both)
    expected_flips = sum(1 for a, b in both if a["predicted_y"] != b["predicted_y"])
    assert expected_flips > 0 and len(both) == len(recs) - 1
    # The closed form agrees: this pair of versions really diverges this much.
    good = [r for r in recs if r["color"] != "pink"]
    assert expected_delta == pytest.approx(sum(abs(expected_p1(r, 2) - expected_p1(r, 1)) for r in good), abs=1e-9)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/v1/models/clf:predict", json={"instances": recs, "errors": "per_record"})
        assert r.status_code == 200 and r.json()["model_version"] == "2"
        assert [p.get("probability(1)") for p in r.json()["predictions"]] == [
            None if a is None else a["probability(1)"] for a in mine]  # only the primary's answer
        await app.state.core.shadow.drain()
        text = (await c.get("/metrics")).text
    shadow = "pmmlkit_serving_shadow_"
    assert metric(text, shadow + "records_total", model="clf", version="2", shadow_version="1") == len(recs)
    for output in ("predicted_y", "probability(0)", "probability(1)"):
        assert metric(text, shadow + "compared_total", model="clf", output=output) == len(both)
    assert metric(text, shadow + "abs_delta_total", model="clf", output="probability(1)") == expected_delta
    assert metric(text, shadow + "flips_total", model="clf", output="predicted_y") == expected_flips
    assert metric(text, shadow + "flips_total", model="clf", output="probability(1)") == 0
    assert metric(text, shadow + "abs_delta_total", model="clf", output="predicted_y") == 0  # a label: flips only
    assert metric(text, shadow + "error_mismatches_total", model="clf") == 0


async def test_shadow_skips_the_version_that_answered_and_follows_the_label(published, make_app):
    published.publish("clf", v2())
    published.set_label("clf", "cand", 2)  # the shadow label points at the primary itself
    app = make_app(shadow=("clf@cand",))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await c.post("/v1/models/clf:predict", json={"instances": [record()]})
        await app.state.core.shadow.drain()
        assert "pmmlkit_serving_shadow_records_total{" not in (await c.get("/metrics")).text
        published.set_label("clf", "cand", 1)
        app.state.models.poll()
        await c.post("/v1/models/clf:predict", json={"instances": [record(), record()]})
        await app.state.core.shadow.drain()
        text = (await c.get("/metrics")).text
    assert metric(text, "pmmlkit_serving_shadow_records_total", model="clf", version="2", shadow_version="1") == 2


def test_serve_refuses_a_malformed_canary_or_batch_option_in_one_line(tmp_path):
    from click.testing import CliRunner

    from pmmlkit.cli import main

    for args, message in ((["--canary", "ctr@cand=150%"], "MODEL@LABEL=P% with P from 0 to 100"),
                          (["--shadow", "ctr"], "expected MODEL@LABEL"),
                          (["--batch-timeout-micros", "2000000"], "--batch-timeout-micros")):
        result = CliRunner().invoke(main, ["serve", "--repo", str(tmp_path), *args])
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output


def test_canary_and_shadow_through_a_real_server(repo, tmp_path):
    """``pmmlkit serve --workers 2 --canary --shadow``: shares over real HTTP, shadow metrics summed."""
    from tests.faults.live_server import live_server

    repo.publish("clf", v1())
    repo.publish("clf", v2())
    repo.set_label("clf", "cand", 1)
    with live_server(repo.root, tmp_path / "server.log", "--backend", BACKEND, "--workers", "2",
                     "--canary", "clf@cand=50%", "--shadow", "clf@cand", "--log-level", "warning") as server:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            answered = [client.post("/v1/models/clf:predict", json={"instances": [record()]}).json()["model_version"]
                        for _ in range(300)]
            text = client.get("/metrics").text
    assert abs(answered.count("1") / 300 - 0.5) <= 0.15  # 300 draws: 0.15 is over 5 standard deviations
    # Requests answered by 2 were shadowed on 1 (those answered by 1 need no shadow): counted over both workers.
    shadowed = metric(text, "pmmlkit_serving_shadow_records_total", model="clf", version="2", shadow_version="1")
    assert 0 < shadowed <= answered.count("2")
