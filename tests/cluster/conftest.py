"""A real Spark standalone cluster on 127.0.0.1: one master and one worker, started with the
``spark-class`` script pyspark ships, always stopped (process groups killed) afterwards."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from pmmlkit.java import find_java


def spark_home() -> str:
    import pyspark

    return os.path.dirname(pyspark.__file__)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_env() -> dict[str, str]:
    java = find_java()
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable,
           "PYSPARK_DRIVER_PYTHON": sys.executable, "SPARK_HOME": spark_home()}
    if java:
        env.setdefault("JAVA_HOME", os.path.dirname(os.path.dirname(os.path.realpath(java))))
    return env


def _alive_workers(ui_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as r:
            return int(json.load(r).get("aliveworkers", 0))
    except OSError:
        return 0


def _stop(proc: subprocess.Popen) -> None:
    # spark-class execs java in the same group; kill the whole group so no JVM outlives the test.
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="session")
def standalone_cluster(tmp_path_factory):
    """``spark://127.0.0.1:PORT`` of a running master with one registered 1-core worker."""
    env = cluster_env()
    logs = tmp_path_factory.mktemp("cluster-logs")
    spark_class = os.path.join(spark_home(), "bin", "spark-class")
    port, ui_port = free_port(), free_port()
    master_url = f"spark://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
             "--port", str(port), "--webui-port", str(ui_port)],
            env=env, stdout=open(logs / "master.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True))
        procs.append(subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.worker.Worker", master_url, "--host", "127.0.0.1",
             "--cores", "1", "--memory", "1g", "--webui-port", str(free_port()),
             "--work-dir", str(logs / "work")],
            env=env, stdout=open(logs / "worker.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 90
        while _alive_workers(ui_port) < 1:
            dead = [p for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                log = "\n".join((logs / f).read_text()[-2000:] for f in ("master.log", "worker.log"))
                raise RuntimeError(f"standalone cluster did not come up at {master_url}:\n{log}")
            time.sleep(0.5)
        yield master_url
    finally:
        for proc in reversed(procs):
            _stop(proc)
