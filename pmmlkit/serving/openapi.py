"""The OpenAPI document served at /openapi.json, written by hand to match app.py's routes."""
from __future__ import annotations

from typing import Any

_ERROR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_JSON = "application/json"


def _op(summary: str, *, ok: str = "OK", body: dict[str, Any] | None = None, admin: bool = False,
        codes: tuple[str, ...] = ("400", "404")) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {"200": {"description": ok},
                                                            **{c: _ERROR for c in codes}}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    if admin:
        op["security"] = [{"bearer": []}]
        op["responses"].update({"401": _ERROR, "403": _ERROR})
    return op


def _predict() -> dict[str, Any]:
    return _op("Score records: instances -> predictions, inputs -> outputs; text/csv streams CSV back",
               body={_JSON: {"schema": {"$ref": "#/components/schemas/PredictRequest"}},
                     "text/csv": {"schema": {"type": "string"}}},
               codes=("400", "404", "413", "504"))


def openapi_document() -> dict[str, Any]:
    from .. import __version__

    m = "/v1/models/{name}"
    paths: dict[str, Any] = {}
    for prefix in (m, m + "/versions/{version}", m + "/labels/{label}"):
        paths[prefix] = {"get": _op("Version status (TF Serving model_version_status)")}
        paths[prefix + "/metadata"] = {"get": _op("Input, target and output fields, and the manifest")}
        paths[prefix + ":predict"] = {"post": _predict()}
    paths[m + "/versions"] = {"put": _op("Publish a new version (body: PMML bytes), after checking it loads",
                                         body={"application/xml": {"schema": {"type": "string"}}}, admin=True,
                                         codes=("400", "413"))}
    paths[m + "/versions/{version}"]["delete"] = _op("Unpublish a version", admin=True, codes=("404", "409"))
    paths[m + "/labels/{label}"]["put"] = _op(
        "Point a label at a version", admin=True, codes=("400", "404"),
        body={_JSON: {"schema": {"type": "object", "properties": {"version": {"type": "integer"}}}}})
    paths["/healthz"] = {"get": _op("Liveness", codes=())}
    paths["/readyz"] = {"get": _op("Readiness: 200 once every served model has an AVAILABLE version",
                                   codes=("503",))}
    paths["/metrics"] = {"get": _op("Prometheus metrics of this worker process", codes=())}
    return {
        "openapi": "3.1.0",
        "info": {"title": "pmmlkit serve", "version": __version__},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                "PredictRequest": {"type": "object", "properties": {
                    "instances": {"type": "array", "items": {"type": "object"}},
                    "inputs": {"type": "object", "additionalProperties": {"type": "array"}},
                    "errors": {"enum": ["raise", "per_record"]}}},
            },
        },
    }
