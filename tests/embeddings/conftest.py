"""Embedding fixtures: a real redis-server on a free 127.0.0.1 port, file stores, a tiny ranker PMML."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """One redis-server process; ``stop()`` and ``start()`` again on the same port (store-down tests)."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not listen on 127.0.0.1:{self.port} within 10 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture(scope="session")
def redis_server():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server binary not installed (CI installs it: apt-get install redis-server)")
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_store(redis_server):
    import redis

    from pmmlkit.embeddings.redisstore import RedisStore

    redis.Redis.from_url(redis_server.url).flushdb()
    store = RedisStore(redis_server.url)
    yield store
    store.close()


@pytest.fixture
def file_store(tmp_path):
    from pmmlkit.embeddings.filestore import FileStore

    return FileStore(tmp_path / "emb")


@pytest.fixture(params=["file", "redis"])
def store(request):
    return request.getfixturevalue(f"{request.param}_store")
