"""The real server (``pmmlkit serve``) as a subprocess: a version switch under load loses no request."""
from __future__ import annotations

import signal
import time

import httpx
import pytest
from serving_helpers import BACKEND, record, v1, v2

from tests.faults.live_server import live_server

POLL_SECONDS = 0.5
LOAD_MARGIN = 3.0       # loading a tiny model takes ~20 ms; a busy shared CI box gets slack
MAX_REQUESTS, MAX_SECONDS = 20_000, 30.0  # bounded both ways; the loop ends ~1 s after the switch settles


@pytest.fixture(params=[1, 2], ids=["1-worker", "2-workers"])
def server(request, repo, tmp_path):
    repo.publish("clf", v1())
    log_path = tmp_path / "server.log"
    with live_server(repo.root, log_path, "--poll-seconds", str(POLL_SECONDS), "--backend", BACKEND,
                     "--workers", str(request.param), "--log-level", "warning") as running:
        yield running.proc, running.base, repo, request.param, log_path


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


HOSTILE = [  # (body, content type): each one a 400 with one log line, never a 500 or a traceback
    ("[" * 100_000 + "]" * 100_000, "application/json"),
    ('{"instances": [' + "{" * 50_000 + "}" * 50_000 + "]}", "application/json"),
    ('{"instances": [{"x1": [1], "x2": 1, "color": "red"}, {"x1": 1, "x2": 1, "color": "red"}]}', "application/json"),
    ('{"inputs": {"x1": [{"a": 1}], "x2": [1], "color": ["red"]}}', "application/json"),
    ('{"instances": [], "errors": ["raise"]}', "application/json"),
    ("x1,x2,color,x1\n1,2,red,1\n", "text/csv"),
]


@pytest.mark.slow
def test_hostile_bodies_are_400_and_a_body_over_the_cap_mid_stream_ends_the_answer_visibly(repo, tmp_path):
    repo.publish("clf", v1())
    with live_server(repo.root, tmp_path / "server.log", "--backend", BACKEND, "--poll-seconds", "0",
                     "--max-body-bytes", "300000", "--log-level", "info") as server:
        with httpx.Client(base_url=server.base, timeout=30) as c:
            for body, kind in HOSTILE:
                r = c.post("/v1/models/clf:predict", content=body.encode(), headers={"content-type": kind})
                assert r.status_code == 400 and list(r.json()) == ["error"], (body[:80], r.text[:300])

            def over_the_cap():  # chunked: no Content-Length, the cap is hit while answering
                yield b"x1,x2,color\n"
                for i in range(1500):  # 384 kB: the first 256 kB block is answered, then the cap
                    if i == 1100:  # ~280 kB sent: let the server answer the first block first
                        time.sleep(1.0)
                    yield b"1,2,red\n" * 32
            received = []
            with pytest.raises(httpx.RemoteProtocolError):  # the closing chunk never comes
                with c.stream("POST", "/v1/models/clf:predict", content=over_the_cap(),
                              headers={"content-type": "text/csv"}) as r:
                    assert r.status_code == 200
                    for text in r.iter_text():
                        received.append(text)
            last = "".join(received).rstrip("\n").rsplit("\n", 1)[-1]
            assert "the answer is incomplete" in last and "larger than 300000 bytes" in last
            assert c.post("/v1/models/clf:predict", json={"instances": [record()]}).status_code == 200
        log = server.log()
    assert "Traceback" not in log, log[-5000:]
    assert log.count("failed: BodyTooLarge") == 1, log[-3000:]
