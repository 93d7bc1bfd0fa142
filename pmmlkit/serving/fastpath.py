"""The hot request, ``POST /v1/models/{name}[/versions/{v}|/labels/{l}]:predict`` with JSON, in plain ASGI.

Starlette's routing (a regular expression per route, tried in turn), its Request and
Response objects and its exception middleware cost about as much per request as scoring
one record. This middleware answers that one request before them, with the very same
code as the route (``tfserving.predict_json``) and the same response bytes and headers.
Anything else (another path or method, a CSV body, a mounted root path) goes on to the
app. It sits inside ``Guard``, so the body cap, the request metrics and the one error
shape apply unchanged: an error raised here reaches Guard, which answers it with
``error_response``, the function the app's exception handlers call.
"""
from __future__ import annotations

import re

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from .core import ScoringCore
from .http import tag
from .predict import dumps
from .protocols import NameConvertor, Target
from .protocols.tfserving import predict_json

_NAME = NameConvertor.regex
# The three paths of tfserving's :predict routes (model_routes), nothing else.
PREDICT = re.compile(rf"/v1/models/(?P<name>{_NAME})(?:/versions/(?P<version>[0-9]+)|/labels/(?P<label>{_NAME}))?"
                     r":predict")


class FastPredict:
    """Answers JSON :predict requests itself; passes every other request to ``app``."""

    def __init__(self, app: ASGIApp, *, core: ScoringCore):
        self.app = app
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _predict_path(scope)
        if match is None:
            await self.app(scope, receive, send)
            return
        tag(endpoint="predict")
        version = match["version"]
        t = Target(match["name"], int(version) if version is not None else None, match["label"])
        self.core.served(t.name, label=t.label)  # 404 before the body is read, as the route does
        body, number = await predict_json(self.core, t, await _body(receive))
        data = dumps(body)
        # Starlette's Response(headers=..., media_type="application/json") sends these, in this order.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"x-model-version", str(number).encode()),
                                (b"content-length", str(len(data)).encode()),
                                (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": data})


def _predict_path(scope: Scope) -> re.Match[str] | None:
    """The path's parts when this is a request the fast path answers, else None."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
        return None
    match = PREDICT.fullmatch(scope["path"])
    if match is None:
        return None
    for key, value in scope["headers"]:
        if key.lower() == b"content-type":  # the first one counts, as in Starlette's Headers.get
            if value.split(b";")[0].strip().lower() == b"text/csv":
                return None  # streamed CSV: the route's own path
            break
    return match


async def _body(receive: Receive) -> bytes:
    """The whole request body, as Starlette's Request.body() reads it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()
