"""The training report of a served version, as a page: ``GET /v1/models/{name}[...]/report``."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...insight.store import REPORT
from ..core import ScoringCore
from . import NAME, model_routes, target

BASE = "/v1/models/" + NAME


def routes(core: ScoringCore) -> list[Route]:
    """The report route over ``core``: the report.html published with the version a path names."""

    async def report(request: Request) -> Response:
        t = target(request, "report")
        with core.hold(t.name, **t.where) as loaded:
            version = loaded.version
        # A version trained before reports existed, or without the report extra: a 404 that says so.
        page = await core.blocking(lambda: core.repository.read_file(version, REPORT))
        return Response(page, media_type="text/html; charset=utf-8",
                        headers={"X-Model-Version": str(version.number),
                                 "Content-Security-Policy": "default-src 'none'; img-src data:; "
                                                            "style-src 'unsafe-inline'"})

    return model_routes(BASE, "/report", report, ["GET"])
