"""No JVM outlives the Python process that started it: not after a fork, not from the test harness."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.docs import logistic_pmml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _alive(pid: int) -> bool:
    """Running and not a zombie (a zombie only waits for its parent to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.time() + seconds
    while _alive(pid) and time.time() < deadline:
        time.sleep(0.1)
    return not _alive(pid)


def _run(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)


# Run by the parent after its JVM is up (its pid in ``jvm``): fork a child that keeps running.
_FORK = """
child = os.fork()
if child == 0:  # a still-running child: it inherited the pipe the JVM watches
    time.sleep(120)
    os._exit(0)
print(jvm, child, flush=True)
time.sleep(120)
"""


def _kill_parent_of_forked_child(start_jvm: str, *args: str, seconds: float) -> None:
    """Start a JVM in a parent that forks a running child, kill -9 the parent: its JVM must go."""
    parent = _run("import os, sys, time\n" + textwrap.dedent(start_jvm) + _FORK, *args)
    jvm_pid = child_pid = None
    try:
        jvm_pid, child_pid = map(int, parent.stdout.readline().split())
        assert _alive(jvm_pid) and _alive(child_pid)
        parent.kill()
        parent.wait(10)
        assert _wait_gone(jvm_pid, seconds), "the JVM outlived its killed Python process (held open by the fork)"
        assert _alive(child_pid)  # the child was still running all along
    finally:
        parent.kill()
        for pid in (child_pid, jvm_pid):
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_jvm_dies_with_a_killed_parent_whose_forked_child_lives_on(tmp_path):
    model = tmp_path / "m.pmml"
    model.write_bytes(logistic_pmml())
    _kill_parent_of_forked_child("""
        from pmmlkit import Evaluator
        from pmmlkit.evaluator.jvm import GATEWAY
        Evaluator.from_bytes(open(sys.argv[1], "rb").read(), backend="jpmml")
        jvm = GATEWAY.jvm.java.lang.ProcessHandle.current().pid()
    """, str(model), seconds=15)


def test_reference_harness_leaves_no_jvm_behind():
    """The native conformance harness's JPMML reference ran in a JVM that survived every test run."""
    harness = _run("""
        import os
        import pandas as pd
        from pmmlkit.pmml import loader
        from tests.docs import logistic_pmml
        from tests.evaluator.native_harness import jpmml_results
        out = jpmml_results(loader.parse(logistic_pmml()),
                            pd.DataFrame({"x1": [0.5], "x2": [3], "device": ["ios"]}))
        assert len(out) == 1
        me = str(os.getpid())
        for p in filter(str.isdigit, os.listdir("/proc")):
            try:
                stat = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
                cmd = open(f"/proc/{p}/cmdline", "rb").read()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if stat[1] == me and b"java" in cmd:
                print(p, flush=True)
    """)
    out, _ = harness.communicate(timeout=120)
    assert harness.returncode == 0
    jvms = [int(p) for p in out.split()]
    assert jvms, "the harness started no JVM of its own: the check proves nothing"
    try:
        for pid in jvms:
            assert _wait_gone(pid, 15), f"JVM {pid} outlived the process that started it"
    finally:
        for pid in jvms:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_spark_driver_jvm_dies_with_a_killed_parent_whose_forked_child_lives_on():
    """The same rule for a Spark driver's JVM: pmmlkit.java closes the child's copy of its stdin."""
    _kill_parent_of_forked_child("""
        from pyspark import SparkContext
        from pmmlkit.spark.session import get_session
        get_session(master="local[1]", app_name="pmmlkit-fork-test")
        jvm = SparkContext._gateway.proc.pid
    """, seconds=20)
