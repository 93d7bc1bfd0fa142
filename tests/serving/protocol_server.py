"""A live ``pmmlkit serve`` for the protocol tests: clf versions 1 and 2 (both loaded), label stable -> 1.

Real client libraries (tritonclient, MLflow's scoring client) speak HTTP to it on 127.0.0.1.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from serving_helpers import BACKEND, v1, v2

from tests.faults.live_server import LiveServer, live_server

MLFLOW_MODEL = "clf@stable"  # what /invocations scores on the live server


@pytest.fixture(scope="module", name="live")
def live_fixture(tmp_path_factory) -> Iterator[LiveServer]:
    from pmmlkit.repository.store import Repository

    root = tmp_path_factory.mktemp("protocols")
    repo = Repository(str(root / "models"))
    repo.publish("clf", v1())
    repo.publish("clf", v2())
    repo.set_label("clf", "stable", 1)
    with live_server(repo.root, root / "server.log", "--policy", "all", "--backend", BACKEND,
                     "--poll-seconds", "0", "--mlflow-model", MLFLOW_MODEL, "--log-level", "warning") as server:
        yield server
