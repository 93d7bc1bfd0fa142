"""A real ``pmmlkit serve`` subprocess on 127.0.0.1 for fault and end-to-end tests."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    proc: subprocess.Popen
    base: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def live_server(repo_root: str, log_path: Path, *options: str, ready_seconds: float = 90) -> Iterator[LiveServer]:
    """Start ``pmmlkit serve`` over ``repo_root``, wait for /readyz, stop it (SIGTERM) on exit."""
    port = free_port()
    cmd = [sys.executable, "-m", "pmmlkit", "serve", "--repo", repo_root, "--host", "127.0.0.1",
           "--port", str(port), *options]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = LiveServer(proc, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_ready(server, ready_seconds)
        yield server
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(server: LiveServer, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError("server exited:\n" + server.log())
        try:
            if httpx.get(server.base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server not ready in {seconds} s:\n" + server.log())
