"""The OpenAPI document served at /openapi.json, written by hand to match app.py's routes.

Every status a route can answer is declared (tests/faults/test_openapi.py runs schemathesis
against a live server), every path parameter is declared with the pattern the router
matches, and every error has the one shape ``{"error": "..."}``.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_JSON = "application/json"
# What repository.store.check_name accepts (the router's NameConvertor is looser: a name it
# routes but check_name refuses is a 400; a name it does not route is a 404).
NAME_PATTERN = r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_ERROR = {"description": "Error: {\"error\": \"...\"}",
          "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}
_RETRY = {**_ERROR, "description": "Unavailable for now (a JVM restarting, a version switching, a store "
                                   "down); Retry-After says when to try again when known",
          "headers": {"Retry-After": {"schema": {"type": "string"}}}}
# Statuses every route can answer: a body over --max-body-bytes, an internal failure.
_ALWAYS = ("413", "500")
_MODEL = ("400", "404")  # every /v1/models route: an invalid name, an unknown model (or path)


def _responses(ok: dict[str, Any], codes: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(ok)
    for code in (*codes, *_ALWAYS):
        out[code] = _RETRY if code == "503" else _ERROR
    return out


def _op(summary: str, *, ok: dict[str, Any] | None = None, body: dict[str, Any] | None = None,
        admin: bool = False, codes: tuple[str, ...] = ("400", "404")) -> dict[str, Any]:
    ok = ok or {"200": {"description": "OK", "content": {_JSON: {"schema": {"type": "object"}}}}}
    op: dict[str, Any] = {"summary": summary, "responses": _responses(ok, codes)}
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    if admin:
        op["security"] = [{"bearer": []}]
        op["responses"].update({"401": _ERROR, "403": _ERROR})
    return op


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def _parameters(path: str, models: list[str]) -> list[dict[str, Any]]:
    name = {"type": "string", "pattern": NAME_PATTERN, **({"examples": models} if models else {})}
    params = [_param("name", name, "model name")]
    if "{version}" in path:
        params.append(_param("version", {"type": "integer", "minimum": 0}, "version number"))
    if "{label}" in path:
        params.append(_param("label", {"type": "string", "pattern": NAME_PATTERN}, "label, e.g. stable"))
    return params


def _predict() -> dict[str, Any]:
    ok = {"200": {"description": "predictions / outputs (JSON), or CSV streamed back: one line per record, "
                                 "its results or the reason it was rejected in the error column",
                  "content": {_JSON: {"schema": {"$ref": "#/components/schemas/PredictResponse"}},
                              "text/csv": {"schema": {"type": "string"}}}}}
    return _op("Score records: instances -> predictions, inputs -> outputs; text/csv streams CSV back",
               ok=ok, body={_JSON: {"schema": {"$ref": "#/components/schemas/PredictRequest"}},
                            "text/csv": {"schema": {"type": "string"}}},
               codes=(*_MODEL, "503", "504"))


def _model_paths(models: list[str]) -> dict[str, Any]:
    m = "/v1/models/{name}"
    paths: dict[str, Any] = {}
    for prefix in (m, m + "/versions/{version}", m + "/labels/{label}"):
        paths[prefix] = {"get": _op("Version status (TF Serving model_version_status)", codes=(*_MODEL, "503"))}
        paths[prefix + "/metadata"] = {"get": _op("Input, target and output fields, and the manifest",
                                                  codes=(*_MODEL, "503"))}
        paths[prefix + ":predict"] = {"post": _predict()}
    paths[m + "/versions"] = {"put": _op(
        "Publish a new version (body: PMML bytes), after checking it loads", admin=True,
        ok={"201": {"description": "Published", "content": {_JSON: {"schema": {"type": "object"}}}}},
        body={"application/xml": {"schema": {"type": "string"}}}, codes=(*_MODEL, "409", "503"))}
    paths[m + "/versions/{version}"]["delete"] = _op("Unpublish a version", admin=True,
                                                     codes=(*_MODEL, "409", "503"))
    paths[m + "/labels/{label}"]["put"] = _op(
        "Point a label at a version", admin=True, codes=(*_MODEL, "409", "503"),
        body={_JSON: {"schema": {"type": "object", "required": ["version"],
                                 "properties": {"version": {"type": ["integer", "string"]}}}}})
    for path, item in paths.items():
        item["parameters"] = _parameters(path, models)
    return paths


def openapi_document(*, models: Iterable[str] = ()) -> dict[str, Any]:
    """The document; ``models`` (the served names) become examples of the ``name`` parameter."""
    from .. import __version__

    paths = _model_paths(sorted(models))
    paths["/healthz"] = {"get": _op("Liveness", codes=())}
    paths["/readyz"] = {"get": _op("Readiness: 200 once the server has a model to serve and every "
                                   "--require'd model is AVAILABLE", codes=("503",))}
    text = {"text/plain": {"schema": {"type": "string"}}}
    paths["/metrics"] = {"get": _op("Prometheus metrics (summed over workers)", codes=(),
                                    ok={"200": {"description": "Prometheus text exposition", "content": text}})}
    paths["/openapi.json"] = {"get": _op("This document", codes=())}
    return {
        "openapi": "3.1.0",
        "info": {"title": "pmmlkit serve", "version": __version__},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                "PredictRequest": {
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "instances": {"type": "array", "items": {"type": "object", "additionalProperties": {
                            "type": ["string", "number", "boolean", "null"]}}},
                        "inputs": {"type": "object", "additionalProperties": {
                            "type": "array", "items": {"type": ["string", "number", "boolean", "null"]}}},
                        "errors": {"enum": ["raise", "per_record"]},
                        "signature_name": {"type": "string"}},
                    "oneOf": [{"required": ["instances"]}, {"required": ["inputs"]}]},
                "PredictResponse": {"type": "object", "properties": {
                    "predictions": {"type": "array", "items": {"type": "object"}},
                    "outputs": {"type": "object", "additionalProperties": {"type": "array"}},
                    "model_version": {"type": "string"}}},
            },
        },
    }
