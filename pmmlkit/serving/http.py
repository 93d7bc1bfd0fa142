"""HTTP plumbing of the server: the one error shape, status mapping, and the outermost guard.

Every error response is ``{"error": "..."}`` with a bounded message; nothing a client
sends turns into a 500 with a traceback (Guard answers, or ends a started answer, with
one log line).
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import (
    BackendUnavailable,
    ConfigError,
    EvaluationError,
    EvaluationTimeout,
    ExplanationError,
    InputError,
    IntegrityError,
    InvalidModelName,
    ModelNotFoundError,
    PmmlError,
    PmmlkitError,
    RepositoryError,
    StoreUnavailable,
    clip,
)
from .metrics import Metrics
from .predict import MESSAGE_CHARS, BadRequest, dumps

log = logging.getLogger("pmmlkit.serving.app")  # one logger name for the server's request failures


# The metric labels of the request being answered (Guard records them when it ends): the
# scoring core tags the model and version it resolved, whatever protocol module called it.
_TAGS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("pmmlkit_request_tags",
                                                                               default=None)


def tag(**labels: str) -> None:
    """Label the current request's metrics (``model``, ``version``, ``endpoint``); no-op outside one."""
    tags = _TAGS.get()
    if tags is not None:
        tags.update(labels)


class HttpError(Exception):
    """An HTTP-level refusal with its status code."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers


class DuplexStreamingResponse(StreamingResponse):
    """Streams while the request body is still being read.

    Starlette's StreamingResponse (ASGI spec < 2.4, which uvicorn declares) listens
    for a disconnect by calling ``receive`` concurrently: it would steal the request
    body messages the CSV scorer still reads. A disconnect still surfaces while the
    body is read (ClientDisconnect from ``request.stream()``).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stream_response(send)


class BodyTooLarge(HttpError):
    def __init__(self, limit: int):
        super().__init__(413, f"request body is larger than {limit} bytes (--max-body-bytes)")


# Library errors to HTTP statuses; the first matching class wins.
STATUS = ((InputError, 400), (BadRequest, 400), (ExplanationError, 400), (InvalidModelName, 400), (ConfigError, 400),
          (PmmlError, 400), (EvaluationError, 400), (ModelNotFoundError, 404), (IntegrityError, 500),
          (StoreUnavailable, 503), (BackendUnavailable, 503),
          (RepositoryError, 409), (EvaluationTimeout, 504), (PmmlkitError, 500))


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(obj), status_code=status, headers=headers, media_type="application/json")


def _allowed(request: Request | None, exc: HTTPException) -> str:
    """Every method some route of this path accepts (Starlette names only the first route's)."""
    methods = set((exc.headers or {}).get("Allow", "").split(", ")) - {""}
    if request is None:
        return ", ".join(sorted(methods))
    app = request.scope.get("app")
    for route in getattr(getattr(app, "router", None), "routes", ()):
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


def error_response(exc: Exception, request: Request | None = None) -> Response:
    """The one error shape, for every error of every endpoint; the message is bounded."""
    if isinstance(exc, HttpError):
        return json_response({"error": clip(str(exc), limit=MESSAGE_CHARS)}, exc.status, exc.headers)
    if isinstance(exc, HTTPException):
        where = f"{request.method} {clip(request.url.path, limit=200)}" if request is not None else "this request"
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 405:
            headers = {**(exc.headers or {}), "Allow": _allowed(request, exc)}
        message = {404: f"no endpoint for {where}; see /openapi.json",
                   405: f"{where}: method not allowed; allowed: {(headers or {}).get('Allow')}",
                   }.get(exc.status_code, exc.detail)
        return json_response({"error": message}, exc.status_code, headers)
    status = next((code for cls, code in STATUS if isinstance(exc, cls)), 500)
    headers = None
    if isinstance(exc, BackendUnavailable):  # transient: tell clients when to come back
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    if status == 500:
        log_failure(exc, request)
    return json_response({"error": clip(str(exc), limit=MESSAGE_CHARS) if isinstance(exc, (PmmlkitError, BadRequest))
                          else f"internal error: {type(exc).__name__}: {clip(str(exc), limit=200)}"}, status, headers)


def log_failure(exc: BaseException, request: Request | Scope | None) -> None:
    """One log line for a request that failed on the server's side; the traceback at debug level."""
    if request is None:
        where = "a request"
    elif isinstance(request, Request):
        where = f"{request.method} {clip(request.url.path, limit=200)}"
    else:  # an ASGI scope
        where = f"{request.get('method', '?')} {clip(request.get('path', '?'), limit=200)}"
    # Starlette wraps an error raised after the response started; the cause is what happened.
    cause = exc.__cause__ if isinstance(exc, RuntimeError) and exc.__cause__ is not None else exc
    log.error("%s failed: %s: %s", where, type(cause).__name__, clip(str(cause), limit=300))
    log.debug("traceback of the failure above", exc_info=exc)


class Guard:
    """Outermost middleware: body size cap, per-request metrics, JSON errors for crashes."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int):
        self.app = app
        self.metrics = metrics
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        code, responding = 500, False
        _TAGS.set(scope.setdefault("state", {}))  # the same dict as request.state

        async def send_status(message: Message) -> None:
            nonlocal code, responding
            if message["type"] == "http.response.start":
                code, responding = message["status"], True
            await send(message)

        try:
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.limit:
                await error_response(BodyTooLarge(self.limit))(scope, receive, send_status)
            else:
                await self.app(scope, self._capped(receive), send_status)
        except Exception as exc:  # noqa: BLE001 - the last line: one log line, never a traceback dump
            if isinstance(exc, ClientDisconnect):
                log.info("%s %s: the client went away", scope.get("method"), clip(scope.get("path", ""), limit=200))
            elif responding:  # too late for a status: the server ends the connection mid-body
                log_failure(exc, scope)
                # Read (and drop) what the client is still sending, within bounds: closing on
                # unread bytes resets the connection, and the client could lose the last line
                # that says the answer is incomplete.
                await _drain(receive, max_bytes=self.limit, seconds=DRAIN_SECONDS)
            else:
                await error_response(exc, Request(scope))(scope, receive, send_status)
        finally:
            state = scope["state"]
            self.metrics.observe(model=state.get("model", ""), version=state.get("version", ""),
                                 endpoint=state.get("endpoint", "other"), code=code,
                                 seconds=time.perf_counter() - started)
            if code >= 400:
                self.metrics.error(model=state.get("model", ""), version=state.get("version", ""),
                                   kind=str(code))

    def _capped(self, receive: Receive) -> Receive:
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # chunked uploads carry no Content-Length
                raise BodyTooLarge(self.limit)
            return message
        return capped


DRAIN_SECONDS = 2.0


async def _drain(receive: Receive, *, max_bytes: int, seconds: float) -> None:
    """Receive the rest of a request body and drop it, up to ``max_bytes`` or ``seconds``."""
    deadline = time.monotonic() + seconds
    dropped = 0
    while dropped <= max_bytes:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            message = await asyncio.wait_for(receive(), left)
        except Exception:  # noqa: BLE001 - a timeout or a broken connection: it is ending anyway
            return
        if message.get("type") != "http.request":
            return
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
