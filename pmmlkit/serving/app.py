"""The ASGI app: the protocol modules' routes over one scoring core and the model repository.

Every error response is ``{"error": "..."}``. Scoring runs off the event loop (core.py);
a request holds the version it started on until its response is complete.
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..errors import PmmlkitError
from ..repository.store import Repository
from .config import ServerConfig
from .core import ScoringCore
from .fastpath import FastPredict
from .http import Guard, HttpError, error_response
from .metrics import Metrics
from .models import ModelManager
from .predict import BadRequest
from .protocols import admin, health, mlflow, reports, tfserving, v2

# Every protocol the server speaks, in routing order: each module's routes(core).
# A new protocol is a new module in protocols/ and one more entry here.
PROTOCOLS = (tfserving, admin, health, reports, v2, mlflow)


def create_app(repository: Repository, *, config: ServerConfig | None = None) -> Starlette:
    """The server for ``repository``; ``app.state.models`` is its ModelManager, ``app.state.core`` its core."""
    config = config or ServerConfig()
    metrics = Metrics()
    manager = ModelManager(repository, config=config, metrics=metrics)
    core = ScoringCore(manager, config=config, metrics=metrics)

    async def on_error(request: Request, exc: Exception) -> Response:
        return error_response(exc, request)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The first load happens before this process accepts connections: with several
        # workers on one socket, a worker that has loaded nothing must not answer 404s.
        await anyio.to_thread.run_sync(manager.poll)
        if config.poll_seconds:
            manager.start()
        core.monitoring.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(manager.close)
            await anyio.to_thread.run_sync(core.monitoring.close)
            metrics.close()

    routes = [route for protocol in PROTOCOLS for route in protocol.routes(core)]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={Exception: on_error, HTTPException: on_error,
                                        PmmlkitError: on_error, HttpError: on_error, BadRequest: on_error})
    app.add_middleware(FastPredict, core=core)  # inside Guard: added first (Starlette nests the last outermost)
    app.add_middleware(Guard, metrics=metrics, max_body_bytes=config.max_body_bytes)
    app.state.models = manager
    app.state.metrics = metrics
    app.state.config = config
    app.state.core = core
    return app
