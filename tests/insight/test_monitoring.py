"""The server's side of drift: rolling PSI gauges and sampled, rotating request logs."""
from __future__ import annotations

import json
import os

import pytest

from pmmlkit.errors import ConfigError
from pmmlkit.insight import profile_frame
from pmmlkit.insight.batches import read_batch
from pmmlkit.insight.drift import drift
from pmmlkit.insight.monitor import DriftMonitor
from pmmlkit.insight.requestlog import RequestLog

from .test_drift import COLUMNS, frame


def records(n: int, seed: int, **kw) -> list[dict]:
    return frame(n, seed=seed, **kw).to_dict("records")


def test_rolling_psi_equals_the_batch_psi_of_the_window() -> None:
    profile = profile_frame(frame(3000, seed=0), COLUMNS)
    monitor = DriftMonitor(profile, window=1000)
    old, new = records(1500, 1), records(1000, 2, mean=55.0, oses=("ios", "tablet"))
    for i in range(0, 1500, 100):
        monitor.observe(old[i:i + 100])
    assert max(monitor.psi().values()) < 0.1 and monitor.records() == 1000
    for i in range(0, 1000, 50):
        monitor.observe(new[i:i + 50])
    window = frame(1000, seed=2, mean=55.0, oses=("ios", "tablet"))  # exactly the last 1000 records
    want = {f.name: f.psi for f in drift(profile, window).fields}
    assert monitor.psi() == pytest.approx(want, rel=1e-12)
    assert monitor.unseen["os"] == sum(r["os"] == "tablet" for r in new) and monitor.unseen["age"] == 0


def test_absent_fields_count_as_missing() -> None:
    monitor = DriftMonitor(profile_frame(frame(500, seed=0), COLUMNS))
    monitor.observe([{"os": "ios"}] * 10)
    assert monitor.psi()["age"] > 1.0  # every age missing where 5% were


def test_request_log_samples_rotates_and_feeds_drift(tmp_path) -> None:
    folder = str(tmp_path / "logs")
    rl = RequestLog(folder, sample=0.5, max_bytes=20_000, keep=3, seed=1)
    sent = records(2000, 3)
    for i in range(0, 2000, 20):
        chunk = sent[i:i + 20]
        rl.record(model="ctr", version=2, latency_ms=1.25, inputs=chunk,
                  results=[{"p": float("nan")}] * len(chunk), errors=[None] * len(chunk))
    rl.close()
    files = sorted(os.listdir(folder))
    assert len(files) == 3 and all(f.endswith(".jsonl") for f in files)  # older parts removed
    lines = [json.loads(line) for f in files for line in open(os.path.join(folder, f))]
    assert rl.dropped == 0 and 800 < rl.written < 1200  # about half sampled
    assert len(lines) < rl.written  # rotation removed the oldest parts
    assert lines[0]["outputs"] == {"p": None} and lines[0]["version"] == 2 and lines[0]["model"] == "ctr"
    batch = read_batch(folder)
    assert len(batch) == len(lines) and set(batch.columns) == {"age", "os"}
    assert drift(profile_frame(frame(3000, seed=0), COLUMNS), batch).drifted == []


def test_bad_sample_share_is_refused(tmp_path) -> None:
    with pytest.raises(ConfigError, match="--log-sample"):
        RequestLog(str(tmp_path), sample=0)
