"""KServe's Open Inference Protocol v2 (REST): health, metadata and ``/infer``, over the scoring core.

A model's inputs are one tensor per PMML input field and its outputs one tensor per result
field, named as in every output of pmmlkit: ``predicted_<target>``, then the output fields
under their PMML names (evaluator/names.py). ``/versions/{v}`` takes a
version number, or a label (``/versions/stable``): the answer's ``model_version`` is the
number that answered. v2 has no slot for a per-record error: a record that breaks the
input contract fails the request (400, ``{"error": "row 3: field 'x1': ..."}``), unless
the request says ``"parameters": {"errors": "per_record"}``; then failed records get
``null`` in every output and their reason in an extra BYTES output named ``error``
(``""`` for records that were scored).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import __version__
from ...errors import quote
from ..core import Scored, ScoringCore
from ..http import HttpError, json_response, tag
from ..predict import BadRequest, dumps, parse_json_object
from . import NAME, Target
from .v2_tensors import Body, datatype_of, decode_inputs, metadata_tensor, output_tensor

BASE = "/v2/models/" + NAME
VERSIONED = BASE + "/versions/{version:pmmlkit_name}"
EXTENSIONS = ["binary_tensor_data"]
PLATFORM = "pmml"
HEADER_LENGTH = "Inference-Header-Content-Length"
_REQUEST_PARAMETERS = {"binary_data_output", "errors"}
_OUTPUT_PARAMETERS = {"binary_data"}


def v2_target(request: Request, endpoint: str) -> Target:
    """The model the path names; a version that is not a number is a label."""
    tag(endpoint=endpoint)
    params = request.path_params
    version = params.get("version")
    if version is None or version.isdigit():
        return Target(params["name"], None if version is None else int(version))
    return Target(params["name"], label=version)


def routes(core: ScoringCore) -> list[Route]:
    """The v2 routes over ``core``."""

    async def server_metadata(request: Request) -> Response:
        tag(endpoint="v2_server")
        return json_response({"name": "pmmlkit", "version": __version__, "extensions": EXTENSIONS})

    async def live(request: Request) -> Response:
        tag(endpoint="v2_live")
        return json_response({"live": True})

    async def ready(request: Request) -> Response:
        tag(endpoint="v2_ready")
        state = core.manager.readiness()
        if state.ready:
            return json_response({"ready": True})
        return json_response({"error": f"not ready: {state.reason}", "ready": False}, 503)

    async def model_ready(request: Request) -> Response:
        t = v2_target(request, "v2_model_ready")
        statuses = core.status(t.name, **t.where)  # 400 / 404 for what this server does not serve
        if any(s.state == "AVAILABLE" for s in statuses.values()):
            return json_response({"name": t.name, "ready": True})
        why = "; ".join(f"version {n}: {s.state}{' (' + s.error + ')' if s.error else ''}"
                        for n, s in sorted(statuses.items())) or "no version loaded yet"
        return json_response({"error": f"model {t.name!r} is not ready: {why}", "name": t.name,
                              "ready": False}, 503)

    async def model_metadata(request: Request) -> Response:
        t = v2_target(request, "v2_metadata")
        meta = core.metadata(t.name, **t.where)
        snapshot = core.manager.snapshot(meta.name)
        body = {"name": meta.name, "versions": [str(n) for n in sorted(snapshot.available)],
                "platform": PLATFORM,
                "inputs": [metadata_tensor(f) for f in meta.inputs],
                "outputs": [metadata_tensor(f) for f in meta.results],
                "parameters": {"version": str(meta.version), "labels": dict(sorted(snapshot.labels.items())),
                               "model_type": meta.model_type, "function_name": meta.function_name,
                               "backend": meta.backend}}
        return json_response(body, headers={"X-Model-Version": str(meta.version)})

    async def infer(request: Request) -> Response:
        t = v2_target(request, "v2_infer")
        core.served(t.name, label=t.label)  # 404 before the body is read
        if request.headers.get("content-encoding", "identity").strip().lower() != "identity":
            raise HttpError(415, f"Content-Encoding {request.headers['content-encoding']!r:.50} is not supported; "
                                 "send the request uncompressed")
        body = Body.split(await request.body(), request.headers.get(HEADER_LENGTH))
        data = parse_json_object(body.header, expected='an inference request {"inputs": [...]}')
        req = InferRequest.parse(data)
        columns = decode_inputs(data.get("inputs"), body.binary)
        scored = await core.score(t.name, **t.where, columns=columns, outputs=req.outputs,
                                  errors=req.errors)
        return _answer(scored, req)

    return [Route("/v2", server_metadata, methods=["GET"]),
            Route("/v2/health/live", live, methods=["GET"]),
            Route("/v2/health/ready", ready, methods=["GET"]),
            *[Route(base + suffix, endpoint, methods=[method])
              for base in (BASE, VERSIONED)
              for suffix, endpoint, method in (("", model_metadata, "GET"), ("/ready", model_ready, "GET"),
                                               ("/infer", infer, "POST"))]]


@dataclass(frozen=True)
class InferRequest:
    """The parts of an inference request besides its inputs: id, outputs, parameters."""

    id: str | None
    outputs: list[str] | None                # None: every result field
    errors: str                              # "raise" or "per_record"
    binary_output: bool = False              # parameters.binary_data_output: the default for outputs
    binary: dict[str, bool] = field(default_factory=dict)  # per requested output

    @classmethod
    def parse(cls, data: dict[str, Any]) -> InferRequest:
        unknown = sorted(set(data) - {"id", "parameters", "inputs", "outputs"})
        if unknown:
            raise BadRequest(f"unknown key(s) {quote(unknown)} in the inference request; expected id, "
                             "parameters, inputs, outputs")
        rid = data.get("id")
        if rid is not None and not isinstance(rid, str):
            raise BadRequest('"id" must be a string')
        params = _parameters(data.get("parameters", {}), "the request", _REQUEST_PARAMETERS)
        errors = params.get("errors", "raise")
        if errors not in ("raise", "per_record"):
            raise BadRequest(f'parameters.errors is {quote(errors)}; expected "raise" or "per_record"')
        default = _flag(params, "binary_data_output", False, "the request")
        if "outputs" not in data:
            return cls(rid, None, errors, default)
        wanted = data["outputs"]
        if not isinstance(wanted, list) or not all(isinstance(o, dict) and isinstance(o.get("name"), str)
                                                   for o in wanted):
            raise BadRequest('"outputs" must be a list of {"name": ...} objects')
        binary = {}
        for o in wanted:
            where = f"output {quote(o['name'])}"
            params = _parameters(o.get("parameters", {}), where, _OUTPUT_PARAMETERS)
            binary[o["name"]] = _flag(params, "binary_data", default, where)
        return cls(rid, [o["name"] for o in wanted], errors, default, binary)

    def binary_for(self, name: str) -> bool:
        return self.binary.get(name, self.binary_output)


def _flag(params: dict[str, Any], key: str, default: bool, where: str) -> bool:
    value = params.get(key, default)
    if not isinstance(value, bool):
        raise BadRequest(f"parameters.{key} of {where} must be true or false")
    return value


def _parameters(params: Any, where: str, supported: set[str]) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise BadRequest(f'"parameters" of {where} must be an object')
    unknown = sorted(set(params) - supported)
    if unknown:
        raise BadRequest(f"unsupported parameter(s) {quote(unknown)} in {where}; supported: {sorted(supported)}")
    return params


def _answer(scored: Scored, req: InferRequest) -> Response:
    body: dict[str, Any] = {"model_name": scored.model, "model_version": str(scored.version)}
    if req.id is not None:
        body["id"] = req.id
    outputs, chunks = [], []
    columns = {n: [r[n] if r is not None else None for r in scored.results] for n in scored.names}
    types = {f.name: datatype_of(f) for f in scored.fields}  # the fields of the version that answered
    if req.errors == "per_record":
        columns[scored.error_key] = [e or "" for e in scored.errors]
        types = {**types, scored.error_key: "BYTES"}
    for name, values in columns.items():
        tensor, raw = output_tensor(name, types[name], values, binary=req.binary_for(name))
        outputs.append(tensor)
        chunks.append(raw)
    body["outputs"] = outputs
    headers = {"X-Model-Version": str(scored.version)}
    header = dumps(body)
    if not any("parameters" in t for t in outputs):
        return Response(header, media_type="application/json", headers=headers)
    headers[HEADER_LENGTH] = str(len(header))
    return Response(header + b"".join(chunks), media_type="application/octet-stream", headers=headers)
