"""Admin routes (they change what is deployed): publish, unpublish, label. Bearer token only."""
from __future__ import annotations

import hmac
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import PmmlkitError
from ...evaluator.names import result_schema
from ...repository.store import check_name
from ..core import ScoringCore
from ..http import HttpError, json_response, tag
from ..predict import BadRequest, parse_json_object
from . import NAME

BASE = "/v1/models/" + NAME


def authorize(request: Request, token: str | None) -> None:
    """403 when admin is disabled, 401 for a missing or wrong token."""
    tag(endpoint="admin")
    if not token:
        raise HttpError(403, "admin endpoints are disabled: start the server with --admin-token "
                             "or PMMLKIT_ADMIN_TOKEN")
    scheme, _, given = request.headers.get("authorization", "").strip().partition(" ")
    # The scheme is case-insensitive (RFC 9110 11.1); the token is compared in constant time.
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise HttpError(401, "missing or wrong admin token: send 'Authorization: Bearer <token>'",
                        {"WWW-Authenticate": "Bearer"})


def routes(core: ScoringCore) -> list[Route]:
    """The admin routes over ``core``'s repository and models."""
    repository, manager, config = core.repository, core.manager, core.config

    async def publish(request: Request) -> Response:
        authorize(request, config.admin_token)
        name = check_name(request.path_params["name"])
        raw = await request.body()

        def check_and_publish() -> Any:
            from ...evaluator import Evaluator

            try:
                ev = Evaluator.from_bytes(raw, backend=config.backend, verify=True, source=f"upload of {name}")
            except PmmlkitError as e:  # a bad upload is the client's error, whatever the layer
                raise BadRequest(f"the uploaded PMML for model {name!r} does not load: {e}") from None
            with ev:
                info = {"input_schema": [f.as_dict() for f in ev.input_fields],
                        "output_schema": result_schema(ev.schema),
                        "data_source": f"PUT /v1/models/{name}/versions"}
            version = repository.publish(name, raw, manifest=info)
            manager.poll([name])
            return version

        version = await anyio.to_thread.run_sync(check_and_publish)
        return json_response({"model": name, "version": str(version.number), "ref": version.ref}, 201)

    async def delete(request: Request) -> Response:
        authorize(request, config.admin_token)
        name, number = check_name(request.path_params["name"]), request.path_params["version"]

        def unpublish() -> None:
            repository.delete(name, number)
            manager.poll([name])

        await anyio.to_thread.run_sync(unpublish)
        return json_response({"deleted": f"{name}:{number}"})

    async def set_label(request: Request) -> Response:
        authorize(request, config.admin_token)
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

    return [Route(BASE + "/versions", publish, methods=["PUT"]),
            Route(BASE + "/versions/{version:int}", delete, methods=["DELETE"]),
            Route(BASE + "/labels/{label:pmmlkit_name}", set_label, methods=["PUT"])]
