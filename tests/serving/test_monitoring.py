"""What the server records of its traffic: live PSI and unseen values in /metrics, request logs
that `pmmlkit drift` reads, and the training report served per version."""
from __future__ import annotations

import re

import httpx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from serving_helpers import v1

from pmmlkit.cli import main
from pmmlkit.insight import profile_frame
from pmmlkit.insight.batches import read_batch
from pmmlkit.insight.drift import drift

pytestmark = pytest.mark.anyio
COLUMNS = [("x1", "numeric"), ("x2", "numeric"), ("color", "categorical")]


def frame(n: int, seed: int, *, shift: float = 0.0, colors=("red", "green")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x1": rng.normal(shift, 1, n).round(3), "x2": rng.normal(0, 1, n).round(3),
                         "color": rng.choice(list(colors), n)})


@pytest.fixture
def monitored(repo):
    profile = profile_frame(frame(2000, 0), COLUMNS)
    repo.publish("clf", v1(), files={"profile.json": profile.to_json().encode(),
                                     "report.html": b"<!doctype html><title>clf report</title>"})
    repo.publish("clf", v1())  # version 2: no profile, no report
    return repo, profile


def metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if m and ",".join(sorted(m.group(1).split(","))) == want:
            return float(m.group(2))
    raise AssertionError(f"{name}{{{want}}} not in /metrics")


async def test_live_psi_and_unseen_values_match_the_offline_drift(monitored, make_app, tmp_path):
    repo, profile = monitored
    logs = tmp_path / "logs"
    app = make_app(log_requests=str(logs), log_sample=1.0, policy=_all())
    sent = frame(600, 1, shift=1.5, colors=("red", "green", "blue"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        for i in range(0, len(sent), 50):
            body = {"instances": sent.iloc[i:i + 50].to_dict("records")}
            r = await c.post("/v1/models/clf/versions/1:predict", json=body)
            assert r.status_code == 200, r.text
        await c.post("/v1/models/clf/versions/2:predict", json={"instances": sent.head(5).to_dict("records")})
        app.state.core.monitoring.drain()
        text = (await c.get("/metrics")).text
    offline = {f.name: f.psi for f in drift(profile, sent).fields}
    for field, psi in offline.items():
        assert metric(text, "pmmlkit_serving_input_psi", model="clf", version="1", field=field) == pytest.approx(
            psi, rel=1e-12)
    assert offline["x1"] > 0.5 and offline["x2"] < 0.1
    blue = int((sent.color == "blue").sum())
    assert metric(text, "pmmlkit_serving_unseen_values_total", model="clf", version="1", field="color") == blue
    assert 'version="2"' not in "".join(ln for ln in text.splitlines() if "input_psi" in ln)  # no profile: no gauge

    app.state.core.monitoring.close()
    logged = read_batch(str(logs))
    assert len(logged) == len(sent) + 5 and set(logged.columns) == {"x1", "x2", "color"}
    result = CliRunner().invoke(main, ["drift", "-m", "clf:1", str(logs), "--repo", repo.root,
                                       "-o", str(tmp_path / "report")])
    assert result.exit_code == 3 and "DRIFT  x1" in result.output, result.output


async def test_the_training_report_is_served_per_version(monitored, make_app):
    app = make_app(policy=_all())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        r = await c.get("/v1/models/clf/versions/1/report")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert r.text == "<!doctype html><title>clf report</title>" and r.headers["x-model-version"] == "1"
        r = await c.get("/v1/models/clf/report")  # latest: version 2 has none
        assert r.status_code == 404 and "without a file 'report.html'" in r.json()["error"]


def _all():
    from pmmlkit.serving.config import Policy

    return Policy("all", 0)
