"""kill -9 during publish: the next publish sweeps, the repository stays consistent, numbers distinct."""
from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time

from pmmlkit.repository.store import Repository

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_PUBLISHER = """
import os, sys
from pmmlkit.repository.store import Repository
repo = Repository(sys.argv[1])
payload = os.urandom(8 << 20)  # large enough that writing and fsyncing it takes a while
for i in range(1000):
    repo.publish("m", payload + str(i).encode())
"""


def _kill_mid_publish(root: str) -> bool:
    """Start a publisher, kill -9 it while a .tmp-* folder exists; True when the kill landed mid-publish."""
    proc = subprocess.Popen([sys.executable, "-c", _PUBLISHER, root], cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if glob.glob(os.path.join(root, "m", ".tmp-*", "model.pmml")):
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    return bool(glob.glob(os.path.join(root, "m", ".tmp-*")))


def test_kill_9_during_publish_then_the_next_publish_sweeps(tmp_path):
    root = str(tmp_path / "models")
    repo = Repository(root)
    first = repo.publish("m", b"<PMML/> first")
    caught = False
    for _ in range(5):  # the kill may land between two publishes: try again
        caught = _kill_mid_publish(root)
        if caught:
            break
    assert caught, "no kill landed while a publish was writing"
    scan = repo.scan_versions("m")
    assert scan.problems == []  # a killed publish is invisible, not a corrupt version
    for version in scan.versions:
        repo.read_pmml(version)  # every published version is complete (size and sha256)
    latest = repo.publish("m", b"<PMML/> after the kill")
    numbers = [v.number for v in repo.scan_versions("m").versions]
    assert numbers == sorted(set(numbers)) and numbers[0] == first.number and numbers[-1] == latest.number
    assert latest.number > max(numbers[:-1])  # a number is never reused
    assert not glob.glob(os.path.join(root, "m", ".tmp-*"))  # the dead publisher's folder is swept
    assert repo.read_pmml(repo.resolve("m")) == b"<PMML/> after the kill"
