"""The real server (``pmmlkit serve``) as a subprocess: a version switch under load loses no request."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from serving_helpers import BACKEND, record, v1, v2

POLL_SECONDS = 0.5
LOAD_MARGIN = 3.0       # loading a tiny model takes ~20 ms; a busy shared CI box gets slack
MAX_REQUESTS, MAX_SECONDS = 20_000, 30.0  # bounded both ways; the loop ends ~1 s after the switch settles


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=[1, 2], ids=["1-worker", "2-workers"])
def server(request, repo, tmp_path):
    repo.publish("clf", v1())
    port = free_port()
    log = open(tmp_path / "server.log", "wb")
    cmd = [sys.executable, "-m", "pmmlkit", "serve", "--repo", repo.root, "--port", str(port),
           "--poll-seconds", str(POLL_SECONDS), "--backend", BACKEND, "--workers", str(request.param),
           "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def stop():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
    request.addfinalizer(stop)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "server.log").read_text()
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    else:
        pytest.fail("server not ready in 90 s:\n" + (tmp_path / "server.log").read_text())
    return proc, base, repo, request.param, tmp_path / "server.log"


@pytest.mark.slow
def test_publish_under_load_switches_without_failures(server):
    proc, base, repo, workers, log_path = server
    seen: list[tuple[float, int]] = []
    failures: list[str] = []
    published_at = None
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=10) as client:
        while len(seen) + len(failures) < MAX_REQUESTS and time.monotonic() - started < MAX_SECONDS:
            if published_at is None and len(seen) >= 100:
                repo.publish("clf", v2())
                published_at = time.monotonic()
            try:
                r = client.post("/v1/models/clf:predict", json={"instances": [record()]})
            except httpx.HTTPError as e:
                failures.append(repr(e))
                continue
            if r.status_code != 200:
                failures.append(f"{r.status_code} {r.text}")
                continue
            seen.append((time.monotonic(), int(r.json()["model_version"])))
            after = [v for t, v in seen if published_at and t > published_at + POLL_SECONDS + LOAD_MARGIN]
            if len(after) >= 200:
                break
    assert failures == []
    assert published_at is not None and seen[0][1] == 1
    first_v2 = next(t for t, v in seen if v == 2)
    assert first_v2 - published_at <= POLL_SECONDS + LOAD_MARGIN
    # once every worker has switched, no request is answered by v1 again
    settled = [v for t, v in seen if t > published_at + POLL_SECONDS + LOAD_MARGIN]
    assert settled and set(settled) == {2}
    if workers == 1:  # one process: one switch, never back
        versions = [v for _, v in seen]
        assert versions == sorted(versions)
    proc.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why it ended
    assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
    log = log_path.read_text()
    assert "Traceback" not in log, log


def _scrape(base: str) -> dict[str, list]:
    """Samples of /metrics by name, over a new connection (so any worker may answer)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(base + "/metrics", timeout=10).text
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


@pytest.mark.slow
def test_metrics_sum_over_workers(server):
    """Whichever worker answers a scrape, it reports every worker's requests and records."""
    proc, base, repo, workers, log_path = server
    n = 120
    for _ in range(n):  # a new connection each time, so the requests spread over the workers
        r = httpx.post(base + "/v1/models/clf:predict", json={"instances": [record()]}, timeout=10)
        assert r.status_code == 200, r.text
    for _ in range(4 * workers):
        samples = _scrape(base)
        assert sum(s.value for s in samples["pmmlkit_serving_records_total"]) == n
        predicts = [s for s in samples["pmmlkit_serving_requests_total"] if s.labels["endpoint"] == "predict"]
        assert sum(s.value for s in predicts) == n
        assert len({s.labels["pid"] for s in samples["pmmlkit_serving_info"]}) == workers
