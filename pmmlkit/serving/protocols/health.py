"""Process routes: liveness, readiness, Prometheus metrics, the OpenAPI document."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core import ScoringCore
from ..http import json_response, tag
from ..metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from ..openapi import openapi_document


def routes(core: ScoringCore) -> list[Route]:
    """/healthz, /readyz, /metrics and /openapi.json over ``core``."""
    manager, metrics = core.manager, core.metrics

    async def healthz(request: Request) -> Response:
        tag(endpoint="healthz")
        return json_response({"status": "alive"})

    async def readyz(request: Request) -> Response:
        tag(endpoint="readyz")
        state = manager.readiness()  # ready: >= 1 model AVAILABLE and every --require'd one
        if state.ready:
            return json_response({"status": "ready", "models": state.models, "unavailable": state.unavailable,
                                  "repository": state.repository_error or "ok"})
        return json_response({"error": f"not ready: {state.reason}", "unavailable": state.unavailable}, 503)

    async def metrics_endpoint(request: Request) -> Response:
        tag(endpoint="metrics")
        return Response(metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    async def openapi(request: Request) -> Response:
        tag(endpoint="openapi")
        return json_response(openapi_document(models=manager.served()))

    return [Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"])]
