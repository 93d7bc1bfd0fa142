"""Shared fixtures: one SparkSession for the whole test session, temp repositories, the async backend."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark():
    from pmmlkit.spark.session import get_session, stop_session

    session = get_session(master="local[2]", app_name="pmmlkit-tests")
    yield session
    stop_session()


@pytest.fixture()
def repo(tmp_path):
    from pmmlkit.repository.store import Repository

    return Repository(str(tmp_path / "models"))


@pytest.fixture
def anyio_backend():
    """Async tests (pytest.mark.anyio) run on asyncio, as the server does."""
    return "asyncio"
