"""The ASGI app: a TF-Serving-compatible REST API over the model repository.

Every error response is ``{"error": "..."}``. Scoring runs off the event loop;
a request holds the version it started on until its response is complete.
"""
from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import anyio
import pandas as pd
from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import EvaluationTimeout, ModelNotFoundError, PmmlkitError
from ..repository.store import Repository, check_name
from .config import ServerConfig
from .http import DuplexStreamingResponse, Guard, HttpError, error_response, json_response
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import Metrics
from .models import LoadedVersion, ModelManager
from .openapi import openapi_document
from .csv_stream import CsvShape, csv_abort_line, stream_csv
from .predict import BadRequest, count_rejected, parse_json_object, parse_payload, score_payload

log = logging.getLogger(__name__)
T = TypeVar("T")
INLINE_RECORDS = 8


class NameConvertor(Convertor):
    """Model names and labels in paths: never ':' (so ``{name}:predict`` parses), '/' or '%'."""

    regex = "[A-Za-z0-9._-]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("pmmlkit_name", NameConvertor())


def create_app(repository: Repository, *, config: ServerConfig | None = None) -> Starlette:
    """The server for ``repository``; ``app.state.models`` is its ModelManager."""
    config = config or ServerConfig()
    metrics = Metrics()
    manager = ModelManager(repository, config=config, metrics=metrics)

    async def blocking(fn: Callable[[], T]) -> T:
        """Run ``fn`` in a worker thread, within ``--timeout``."""
        if config.timeout is None:
            return await anyio.to_thread.run_sync(fn)
        try:
            with anyio.fail_after(config.timeout):
                return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True)
        except TimeoutError:
            raise EvaluationTimeout(f"scoring took longer than {config.timeout} s (--timeout)") from None

    def target(request: Request, endpoint: str) -> tuple[str, int | None, str | None]:
        request.state.endpoint = endpoint
        params = request.path_params
        name = check_name(params["name"])
        label = params.get("label")
        if label is not None:
            check_name(label, kind="label")
        manager.snapshot(name)  # 404 for a model this server does not serve
        request.state.model = name  # only served names become metric labels (bounded)
        return name, params.get("version"), label

    @contextlib.contextmanager
    def hold(request: Request, endpoint: str):
        name, number, label = target(request, endpoint)
        for _ in range(3):  # a version retired between pick and acquire: pick again
            loaded = manager.pick(name, number=number, label=label)
            if loaded.acquire():
                break
        else:
            raise HttpError(503, f"model {name!r} is switching versions; retry", {"Retry-After": "1"})
        request.state.version = str(loaded.number)
        try:
            yield loaded
        finally:
            loaded.release()

    # --- read-only endpoints ------------------------------------------------
    async def status(request: Request) -> Response:
        name, number, label = target(request, "status")
        statuses = manager.status(name)
        if label is not None or number is not None:
            number = manager.pick(name, label=label).number if label is not None else number
            if number not in statuses:
                raise ModelNotFoundError(f"model {name!r} has no version {number} in this server; "
                                         f"known: {sorted(statuses)}")
            statuses = {number: statuses[number]}
        return json_response({"model_version_status": [s.as_dict(n) for n, s in sorted(statuses.items(),
                                                                                     reverse=True)]})

    async def metadata(request: Request) -> Response:
        with hold(request, "metadata") as loaded:
            ev, version = loaded.evaluator, loaded.version
            body = {"model_spec": {"name": version.name, "version": str(version.number)},
                    "metadata": {"model_type": ev.schema.model_type, "function_name": ev.schema.function_name,
                                 "backend": ev.backend_name,
                                 "inputs": [f.as_dict() for f in ev.input_fields],
                                 "targets": [f.as_dict() for f in ev.target_fields],
                                 "outputs": [f.as_dict() for f in ev.output_fields],
                                 "manifest": version.manifest.as_dict()}}
            return json_response(body, headers={"X-Model-Version": str(version.number)})

    async def predict(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip().lower() == "text/csv":
            return await predict_csv(request)
        with hold(request, "predict") as loaded:
            payload = parse_payload(await request.body())
            n = payload.size
            if n <= INLINE_RECORDS and config.timeout is None and loaded.evaluator.backend_name == "native":
                # A few records score natively in ~0.1 ms: less than the hop to a worker
                # thread, which the GIL would serialise with the event loop anyway.
                result = score_payload(loaded.evaluator, payload)
            else:
                result = await blocking(lambda: score_payload(loaded.evaluator, payload))
            metrics.records.labels(loaded.version.name, str(loaded.number)).inc(n)
            rejected = count_rejected(result, loaded.evaluator.error_column) if payload.errors == "column" else 0
            if rejected:
                metrics.error(model=loaded.version.name, version=str(loaded.number), kind="record",
                              count=rejected)
            result["model_version"] = str(loaded.number)
            return json_response(result, headers={"X-Model-Version": str(loaded.number)})

    async def predict_csv(request: Request) -> Response:
        stack = contextlib.ExitStack()
        loaded: LoadedVersion = stack.enter_context(hold(request, "predict_csv"))
        try:
            async def score(frame: pd.DataFrame) -> pd.DataFrame:
                metrics.records.labels(loaded.version.name, str(loaded.number)).inc(len(frame))
                return await blocking(lambda: loaded.evaluator.predict_batch(frame, errors="column"))

            shape = CsvShape(tuple(loaded.evaluator.result_names), loaded.evaluator.error_column)
            chunks = stream_csv(request.stream(), score, shape=shape, chunk_bytes=config.csv_chunk_bytes)
            first = await anext(chunks)  # errors found here still get a proper status code
        except BaseException:
            stack.close()
            raise

        async def body() -> AsyncIterator[bytes]:
            with stack:  # the version is held until the last chunk is sent
                yield first
                try:
                    async for part in chunks:
                        yield part
                except Exception as e:
                    if not isinstance(e, ClientDisconnect):
                        # Bad rows are answered in their own lines; this is the request itself
                        # failing (a body over --max-body-bytes...). A last line says why, then
                        # the connection ends without the closing chunk: an incomplete answer.
                        yield csv_abort_line(shape, e)
                    raise

        return DuplexStreamingResponse(body(), media_type="text/csv",
                                 headers={"X-Model-Version": str(loaded.number)})

    # --- admin endpoints: they change what is deployed ---------------------
    def authorize(request: Request) -> None:
        request.state.endpoint = "admin"
        if not config.admin_token:
            raise HttpError(403, "admin endpoints are disabled: start the server with --admin-token "
                                 "or PMMLKIT_ADMIN_TOKEN")
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        # The scheme is case-insensitive (RFC 9110 11.1); the token is compared in constant time.
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                                  config.admin_token.encode()):
            raise HttpError(401, "missing or wrong admin token: send 'Authorization: Bearer <token>'",
                            {"WWW-Authenticate": "Bearer"})

    async def publish(request: Request) -> Response:
        authorize(request)
        name = check_name(request.path_params["name"])
        raw = await request.body()

        def check_and_publish() -> Any:
            from ..evaluator import Evaluator

            try:
                ev = Evaluator.from_bytes(raw, backend=config.backend, verify=True, source=f"upload of {name}")
            except PmmlkitError as e:  # a bad upload is the client's error, whatever the layer
                raise BadRequest(f"the uploaded PMML for model {name!r} does not load: {e}") from None
            with ev:
                info = {"input_schema": [f.as_dict() for f in ev.input_fields],
                        "output_schema": [f.as_dict() for f in (*ev.target_fields, *ev.output_fields)],
                        "data_source": f"PUT /v1/models/{name}/versions"}
            version = repository.publish(name, raw, manifest=info)
            manager.poll([name])
            return version

        version = await anyio.to_thread.run_sync(check_and_publish)
        return json_response({"model": name, "version": str(version.number), "ref": version.ref}, 201)

    async def delete(request: Request) -> Response:
        authorize(request)
        name, number = check_name(request.path_params["name"]), request.path_params["version"]
        await anyio.to_thread.run_sync(lambda: (repository.delete(name, number), manager.poll([name])))
        return json_response({"deleted": f"{name}:{number}"})

    async def set_label(request: Request) -> Response:
        authorize(request)
        name = check_name(request.path_params["name"])
        label = check_name(request.path_params["label"], kind="label")
        body = parse_json_object(await request.body())
        number = body.get("version")
        if isinstance(number, str) and number.isdigit():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise BadRequest(f'"version" is {number!r}; expected a version number such as {{"version": 3}}')

        def label_it() -> None:
            repository.resolve(f"{name}:{number}")  # 404 for an unknown model or version, first
            repository.set_label(name, label, number)
            manager.poll([name])

        await anyio.to_thread.run_sync(label_it)
        return json_response({"model": name, "label": label, "version": str(number)})

    # --- process endpoints --------------------------------------------------
    async def healthz(request: Request) -> Response:
        request.state.endpoint = "healthz"
        return json_response({"status": "alive"})

    async def readyz(request: Request) -> Response:
        request.state.endpoint = "readyz"
        state = manager.readiness()  # ready: >= 1 model AVAILABLE and every --require'd one
        if state.ready:
            return json_response({"status": "ready", "models": state.models, "unavailable": state.unavailable,
                                  "repository": state.repository_error or "ok"})
        return json_response({"error": f"not ready: {state.reason}", "unavailable": state.unavailable}, 503)

    async def metrics_endpoint(request: Request) -> Response:
        request.state.endpoint = "metrics"
        return Response(metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    async def openapi(request: Request) -> Response:
        request.state.endpoint = "openapi"
        return json_response(openapi_document(models=manager.served()))

    async def on_error(request: Request, exc: Exception) -> Response:
        return error_response(exc, request)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The first load happens before this process accepts connections: with several
        # workers on one socket, a worker that has loaded nothing must not answer 404s.
        await anyio.to_thread.run_sync(manager.poll)
        if config.poll_seconds:
            manager.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(manager.close)
            metrics.close()

    m = "/v1/models/{name:pmmlkit_name}"
    v, lab = m + "/versions/{version:int}", m + "/labels/{label:pmmlkit_name}"
    routes = [
        Route(m + ":predict", predict, methods=["POST"]),
        Route(v + ":predict", predict, methods=["POST"]),
        Route(lab + ":predict", predict, methods=["POST"]),
        Route(m, status, methods=["GET"]),
        Route(v, status, methods=["GET"]),
        Route(lab, status, methods=["GET"]),
        Route(m + "/metadata", metadata, methods=["GET"]),
        Route(v + "/metadata", metadata, methods=["GET"]),
        Route(lab + "/metadata", metadata, methods=["GET"]),
        Route(m + "/versions", publish, methods=["PUT"]),
        Route(v, delete, methods=["DELETE"]),
        Route(lab, set_label, methods=["PUT"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={Exception: on_error, HTTPException: on_error,
                                        PmmlkitError: on_error, HttpError: on_error, BadRequest: on_error})
    app.add_middleware(Guard, metrics=metrics, max_body_bytes=config.max_body_bytes)
    app.state.models = manager
    app.state.metrics = metrics
    app.state.config = config
    return app

