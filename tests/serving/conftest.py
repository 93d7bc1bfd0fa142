"""Serving fixtures: an app over a temp repository, called in process through httpx's ASGI transport."""
from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from serving_helpers import ADMIN_TOKEN, BACKEND, v1


@pytest.fixture
def make_app(repo):
    """Build an app over ``repo`` with no background poller; tests call ``poll()`` themselves."""
    from pmmlkit.serving import ServerConfig, create_app

    apps = []

    def make(**options):
        options = {"backend": BACKEND, "poll_seconds": 0, "admin_token": ADMIN_TOKEN, **options}
        app = create_app(repo, config=ServerConfig(**options))
        apps.append(app)
        app.state.models.poll()
        return app

    yield make
    for app in apps:
        app.state.models.close()


@pytest.fixture
def published(repo):
    """``clf`` with version 1 published."""
    repo.publish("clf", v1())
    return repo


@pytest.fixture
async def client(published, make_app):
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        c.app = app
        yield c

