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
                                 "its results or the reason it was rejected in the error column. Results are "
                                 "named predicted_<target>, then the model's output fields (see /metadata)",
                  "content": {_JSON: {"schema": {"$ref": "#/components/schemas/PredictResponse"}},
                              "text/csv": {"schema": {"type": "string"}}}}}
    return _op("Score records: instances -> predictions, inputs -> outputs; text/csv streams CSV back",
               ok=ok, body={_JSON: {"schema": {"$ref": "#/components/schemas/PredictRequest"}},
                            "text/csv": {"schema": {"type": "string"}}},
               codes=(*_MODEL, "503", "504"))


_EXAMPLES = {"type": "object", "required": ["examples"], "additionalProperties": False, "properties": {
    "examples": {"type": "array", "items": {"type": "object", "additionalProperties": {
        "type": ["string", "number", "boolean", "null"]}}},
    "context": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
    "signature_name": {"type": "string"}}}


def _examples(kind: str) -> dict[str, Any]:
    """TF Serving's :classify / :regress: examples (+ context) -> result."""
    shape = ("[[class, score], ...] per example (the probability outputs; score null when the model has none)"
             if kind == "classify" else "the predicted value per example")
    ok = {"200": {"description": f'{{"result": ..., "model_version": "N"}}: {shape}',
                  "headers": {"X-Model-Version": {"schema": {"type": "string"}}},
                  "content": {_JSON: {"schema": {"type": "object", "required": ["result"]}}}}}
    return _op(f"TF Serving {kind}: every example (merged over context) scored; signature_name is ignored",
               ok=ok, body={_JSON: {"schema": _EXAMPLES}}, codes=(*_MODEL, "503", "504"))


def _model_paths(models: list[str]) -> dict[str, Any]:
    m = "/v1/models/{name}"
    paths: dict[str, Any] = {}
    for prefix in (m, m + "/versions/{version}", m + "/labels/{label}"):
        paths[prefix] = {"get": _op("Version status (TF Serving model_version_status)", codes=(*_MODEL, "503"))}
        paths[prefix + "/metadata"] = {"get": _op("Input, target and output fields, and the manifest",
                                                  codes=(*_MODEL, "503"))}
        paths[prefix + ":predict"] = {"post": _predict()}
        paths[prefix + ":classify"] = {"post": _examples("classify")}
        paths[prefix + ":regress"] = {"post": _examples("regress")}
        paths[prefix + "/report"] = {"get": _op(
            "The training report published with the version (one self-contained HTML page)",
            ok={"200": {"description": "report.html", "content": {"text/html": {"schema": {"type": "string"}}}}},
            codes=(*_MODEL, "503"))}
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


_SCALAR = {"type": ["string", "number", "boolean", "null"]}
_V2_TENSOR = {"type": "object", "required": ["name", "shape", "datatype"], "additionalProperties": False,
              "properties": {"name": {"type": "string"},
                             "shape": {"type": "array", "minItems": 1, "maxItems": 2,
                                       "items": {"type": "integer", "minimum": 0}},
                             "datatype": {"enum": ["BOOL", "BYTES", "INT8", "INT16", "INT32", "INT64", "UINT8",
                                                   "UINT16", "UINT32", "UINT64", "FP16", "FP32", "FP64"]},
                             "parameters": {"type": "object"},
                             "data": {"type": "array", "items": {"anyOf": [_SCALAR, {"type": "array"}]}}}}
_V2_INFER = {"type": "object", "required": ["inputs"], "additionalProperties": False, "properties": {
    "id": {"type": "string"}, "parameters": {"type": "object"},
    "inputs": {"type": "array", "minItems": 1, "items": _V2_TENSOR},
    "outputs": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "parameters": {"type": "object"}}}}}}
_MLFLOW_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_MLFLOW_REQUEST = {
    "type": "object", "additionalProperties": False,
    "properties": {"dataframe_split": {"type": "object", "required": ["columns", "data"], "properties": {
                       "columns": {"type": "array", "items": {"type": "string"}},
                       "data": {"type": "array", "items": {"type": "array"}}, "index": {"type": "array"}}},
                   "dataframe_records": {"type": "array", "items": {"type": "object"}},
                   "instances": {"type": "array", "items": {"type": "object"}},
                   "inputs": {"oneOf": [{"type": "array", "items": {"type": "object"}},
                                        {"type": "object", "additionalProperties": {"type": "array"}}]},
                   "params": {"type": ["object", "null"], "additionalProperties": False,
                              "properties": {"errors": {"enum": ["raise", "per_record"]},
                                             "explain": {"type": "boolean"}}}},
    "oneOf": [{"required": [f]} for f in _MLFLOW_FORMATS]}


def _v2_paths(models: list[str]) -> dict[str, Any]:
    """KServe / Open Inference Protocol v2 (protocols/v2.py)."""
    name = {"type": "string", "pattern": NAME_PATTERN, **({"examples": models} if models else {})}
    version = _param("version", {"type": "string", "pattern": NAME_PATTERN}, "a version number, or a label")
    binary = {"application/octet-stream": {"schema": {"type": "string"}}}
    infer = _op("Score tensors: one input per model field, one output per result field (v2 infer)",
                ok={"200": {"description": "inference response; binary outputs (Triton's binary_tensor_data) "
                                           "follow the JSON header when asked for",
                            "content": {_JSON: {"schema": {"type": "object"}}, **binary}}},
                body={_JSON: {"schema": _V2_INFER}, **binary}, codes=(*_MODEL, "415", "503", "504"))
    paths: dict[str, Any] = {
        "/v2": {"get": _op("Server metadata: name, version, extensions", codes=())},
        "/v2/health/live": {"get": _op("Server liveness", codes=())},
        "/v2/health/ready": {"get": _op("Server readiness (as /readyz)", codes=("503",))}}
    for base in ("/v2/models/{name}", "/v2/models/{name}/versions/{version}"):
        params = [_param("name", name, "model name"), *([version] if "{version}" in base else [])]
        paths[base] = {"get": _op("Model metadata: inputs and outputs with v2 datatypes", codes=(*_MODEL, "503")),
                       "parameters": params}
        paths[base + "/ready"] = {"get": _op("Model readiness", codes=(*_MODEL, "503")), "parameters": params}
        paths[base + "/infer"] = {"post": infer, "parameters": params}
    return paths


def _mlflow_paths() -> dict[str, Any]:
    """MLflow's scoring protocol (protocols/mlflow.py)."""
    body = {_JSON: {"schema": _MLFLOW_REQUEST}, "text/csv": {"schema": {"type": "string"}},
            "application/vnd.apache.parquet": {"schema": {"type": "string"}}}
    ok = {"200": {"description": '{"predictions": [...]}, one object per record',
                  "content": {_JSON: {"schema": {"type": "object", "required": ["predictions"]}}}}}
    ping = _op("Ready to answer /invocations", codes=("503",))
    return {"/invocations": {"post": _op("Score a DataFrame (MLflow's scoring protocol); errors also carry "
                                         "MLflow's error_code and message", ok=ok, body=body,
                                         codes=("400", "404", "415", "503", "504"))},
            "/ping": {"get": ping}, "/health": {"get": ping},
            "/version": {"get": _op("pmmlkit's version, as text", codes=(), ok={"200": {
                "description": "version", "content": {"text/plain": {"schema": {"type": "string"}}}}})}}


_DESCRIPTION = (
    "Every scoring answer names the version that answered: the X-Model-Version header and "
    "\"model_version\" in the body. Server options that shape scoring (pmmlkit serve --help): "
    "--max-batch-size N and --batch-timeout-micros T batch concurrent requests for one version "
    "(each answered exactly as alone; 0 = no batching); --canary MODEL@LABEL=P% sends P% of a "
    "model's unpinned requests (no version or label in the path) to that label; --shadow MODEL@LABEL "
    "also scores every request on that label and exports the divergence in /metrics "
    "(pmmlkit_serving_shadow_*), answering with the primary's results only.")


def openapi_document(*, models: Iterable[str] = ()) -> dict[str, Any]:
    """The document; ``models`` (the served names) become examples of the ``name`` parameter."""
    from .. import __version__

    paths = _model_paths(sorted(models))
    paths.update(_v2_paths(sorted(models)))
    paths.update(_mlflow_paths())
    paths["/healthz"] = {"get": _op("Liveness", codes=())}
    paths["/readyz"] = {"get": _op("Readiness: 200 once the server has a model to serve and every "
                                   "--require'd model is AVAILABLE", codes=("503",))}
    text = {"text/plain": {"schema": {"type": "string"}}}
    paths["/metrics"] = {"get": _op("Prometheus metrics (summed over workers)", codes=(),
                                    ok={"200": {"description": "Prometheus text exposition", "content": text}})}
    paths["/openapi.json"] = {"get": _op("This document", codes=())}
    return {
        "openapi": "3.1.0",
        "info": {"title": "pmmlkit serve", "version": __version__, "description": _DESCRIPTION},
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
                        "explain": {"type": "boolean"},
                        "signature_name": {"type": "string"}},
                    "oneOf": [{"required": ["instances"]}, {"required": ["inputs"]}]},
                "PredictResponse": {"type": "object", "properties": {
                    "predictions": {"type": "array", "items": {"type": "object"}},
                    "outputs": {"type": "object", "additionalProperties": {"type": "array"}},
                    "model_version": {"type": "string"}}},
            },
        },
    }
