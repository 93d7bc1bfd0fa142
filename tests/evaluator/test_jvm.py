"""The shared JVM: threads, a dead JVM, fork, orphans and a missing java."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pmmlkit import Evaluator
from pmmlkit.evaluator.jvm import GATEWAY
from tests.docs import logistic_pmml
from tests.evaluator.conformance import frame

JVM_BACKENDS = ["jpmml", "pypmml"]


def _jvm_pid() -> int:
    return int(GATEWAY.jvm.java.lang.ProcessHandle.current().pid())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too; it only waits for its parent to reap it.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("backend", JVM_BACKENDS)
def test_eight_threads_match_sequential_results_exactly(backend):
    ev = Evaluator.from_bytes(logistic_pmml(), backend=backend)
    records = frame(2000, seed=3).drop(columns="extra").to_dict("records")
    sequential = [ev.predict(r) for r in records]
    with ThreadPoolExecutor(8) as pool:
        runs = list(pool.map(lambda _: [ev.predict(r) for r in records], range(8)))
    for run in runs:
        assert run == sequential


@pytest.mark.parametrize("backend", JVM_BACKENDS)
def test_dead_jvm_is_replaced_and_models_reload(backend, caplog):
    caplog.set_level(logging.INFO)
    ev = Evaluator.from_bytes(logistic_pmml(), backend=backend)
    record = {"x1": 0.3, "x2": 10, "device": "ios"}
    before = ev.predict(record)
    generation = GATEWAY.generation
    pid = _jvm_pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while _alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    assert ev.predict(record) == before
    assert GATEWAY.generation == generation + 1
    # One line from pmmlkit, none of py4j's connection tracebacks for the dead JVM.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == \
        ["JVM gateway is gone; starting a new one"]
    assert _jvm_pid() != pid


def test_forked_child_does_not_reuse_parent_gateway():
    ev = Evaluator.from_bytes(logistic_pmml(), backend="jpmml")
    record = {"x1": 0.3, "x2": 10, "device": "ios"}
    expected = ev.predict(record)["probability(yes)"]
    parent_jvm = _jvm_pid()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            got = ev.predict(record)["probability(yes)"]
            os.write(write, f"{_jvm_pid()} {got!r}".encode())
            GATEWAY.shutdown()
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        child_jvm, got = f.read().split()
    os.waitpid(child, 0)
    assert int(child_jvm) != parent_jvm
    assert float(got) == expected
    assert ev.predict(record)["probability(yes)"] == expected  # the parent's JVM is untouched


def test_no_jvm_outlives_a_killed_python_process(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        from pmmlkit import Evaluator
        from pmmlkit.evaluator.jvm import GATEWAY
        Evaluator.from_bytes(open(sys.argv[1], "rb").read(), backend="jpmml")
        print(GATEWAY.jvm.java.lang.ProcessHandle.current().pid(), flush=True)
        time.sleep(120)
    """)
    model = tmp_path / "m.pmml"
    model.write_bytes(logistic_pmml())
    proc = subprocess.Popen([sys.executable, "-c", script, str(model)], stdout=subprocess.PIPE, text=True)
    try:
        jvm_pid = int(proc.stdout.readline())
        assert _alive(jvm_pid)
        proc.kill()
        proc.wait(10)
        deadline = time.time() + 15
        while _alive(jvm_pid) and time.time() < deadline:
            time.sleep(0.1)
        assert not _alive(jvm_pid), "the gateway JVM outlived its killed Python process"
    finally:
        proc.kill()


def test_missing_java_is_one_clear_message(tmp_path):
    model = tmp_path / "m.pmml"
    model.write_bytes(logistic_pmml())
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = os.path.dirname(sys.executable)  # python and pmmlkit, but no java
    proc = subprocess.run([sys.executable, "-m", "pmmlkit", "score", str(model), "-m", str(model),
                           "-o", str(tmp_path / "o.csv"), "--backend", "jpmml"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    assert "no Java runtime found" in proc.stderr and "openjdk-17" in proc.stderr
    assert "Traceback" not in proc.stderr and "py4j" not in proc.stderr.lower()
