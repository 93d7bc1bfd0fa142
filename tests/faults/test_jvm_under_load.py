"""The JVM behind a served model is SIGKILLed under load: every answer is 200, or 503 with Retry-After."""
from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.docs import color_record, versioned_p1, versioned_pmml
from tests.faults.live_server import live_server

pytestmark = pytest.mark.slow
CLIENTS = 8
BEFORE, AFTER = 0.5, 1.5        # seconds of load before the kill, and after the JVM serves again
BOUND_SECONDS = 40              # the whole loop: a JVM restart and a model reload on a busy 2-core box
RECORDS = [color_record(x1=i / 10, x2=i % 5 - 2.0, color=("red", "green", "blue")[i % 3]) for i in range(12)]


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == pid]
        found += kids
        frontier += kids
    return found


def _java_under(root: int) -> list[int]:
    pids = []
    for pid in _descendants(root):
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if os.path.basename(exe) == "java":
            pids.append(pid)
    return pids


def test_killing_the_jvm_under_load_gives_200_or_503_never_500(repo, tmp_path):
    repo.publish("clf", versioned_pmml(1))
    with live_server(repo.root, tmp_path / "server.log", "--backend", "jpmml", "--workers", "1",
                     "--poll-seconds", "0", "--log-level", "warning") as server:
        jvms = _java_under(server.proc.pid)
        assert len(jvms) == 1, jvms
        answers: list[tuple[float, int, str, str | None]] = []
        killed_at: list[float] = []
        stop = threading.Event()

        def client(k: int) -> None:
            with httpx.Client(base_url=server.base, timeout=30) as c:
                i = k
                while not stop.is_set():
                    rec = RECORDS[i % len(RECORDS)]
                    r = c.post("/v1/models/clf:predict", json={"instances": [rec, RECORDS[0]]})
                    answers.append((time.monotonic(), r.status_code, r.text, r.headers.get("retry-after")))
                    if r.status_code == 200:
                        got = r.json()["predictions"][0]["probability(1)"]
                        assert got == pytest.approx(versioned_p1(rec, 1), abs=1e-9)
                    i += CLIENTS

        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(CLIENTS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(BEFORE)
        os.kill(jvms[0], signal.SIGKILL)
        killed_at.append(time.monotonic())
        while time.monotonic() - started < BOUND_SECONDS:  # until the new JVM has served a while
            ok_after = [t for t, code, _, _ in answers if code == 200 and t > killed_at[0]]
            if ok_after and time.monotonic() - ok_after[0] > AFTER:
                break
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join(timeout=35)
        new_jvms = _java_under(server.proc.pid)
        log = server.log()

    assert new_jvms and jvms[0] not in new_jvms  # the JVM did die and a new one answered
    print(f"answers by status: {dict(Counter(code for _, code, _, _ in answers))}")

    codes = Counter(code for _, code, _, _ in answers)
    assert set(codes) <= {200, 503}, [(code, text[:300]) for _, code, text, _ in answers if code not in (200, 503)]
    for _, code, text, retry_after in answers:
        if code == 503:
            assert retry_after is not None and int(retry_after) >= 1
            assert list(httpx.Response(503, text=text).json()) == ["error"]
    assert any(code == 200 and t > killed_at[0] for t, code, _, _ in answers), codes  # the model serves again
    assert "Traceback" not in log, log[-5000:]
