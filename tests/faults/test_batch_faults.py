"""kill -9 during `pmmlkit score`: no partial output at the target path, and a rerun works."""
from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time

import pandas as pd

from tests.docs import logistic_pmml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _score(tmp_path, *, chunk_rows: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pmmlkit", "score", str(tmp_path / "in.csv"), "-m",
                             str(tmp_path / "m.pmml"), "-o", str(tmp_path / "out.csv"), "--backend", "native",
                             "--chunk-rows", str(chunk_rows), "--keep", "id"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(pattern: str, proc: subprocess.Popen, *, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = glob.glob(pattern)
        if found or proc.poll() is not None:
            return found
        time.sleep(0.005)
    return []


def test_kill_9_while_scoring_leaves_no_partial_output_and_a_rerun_works(tmp_path):
    (tmp_path / "m.pmml").write_bytes(logistic_pmml())
    rows = 100_000
    with open(tmp_path / "in.csv", "w") as f:
        f.write("id,x1,x2,device\n")
        f.writelines(f"{i},{i % 13 * 0.1},{i % 7},ios\n" for i in range(1, rows + 1))
    proc = _score(tmp_path, chunk_rows=200)  # small chunks: a slow run, easy to kill midway
    try:
        temporaries = _wait_for(str(tmp_path / ".out.csv.*.tmp"), proc, timeout=60)
        assert temporaries, f"the scorer never wrote: {proc.communicate()}"
        time.sleep(0.2)  # well inside the run: a few chunks are written
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, "the run ended before the kill: make the input bigger"
    assert not (tmp_path / "out.csv").exists()  # never a partial file at the target path
    assert glob.glob(str(tmp_path / ".out.csv.*.tmp"))  # the killed run's temporary...
    rerun = _score(tmp_path, chunk_rows=100_000)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert f"{rows} rows in, {rows} scored, 0 rejected" in out
    assert pd.read_csv(tmp_path / "out.csv")["id"].tolist() == list(range(1, rows + 1))
    assert not glob.glob(str(tmp_path / ".out.csv.*.tmp"))  # ...swept by the rerun (its owner is dead)
