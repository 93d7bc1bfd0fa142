"""TF Serving's REST API: status, metadata, ``:predict`` (JSON rows, columns, or CSV), ``:classify``, ``:regress``.

Paths name a model as ``/v1/models/{name}``, ``.../versions/{version}`` or
``.../labels/{label}``; every answer carries the version that answered
(``X-Model-Version``, and ``"model_version"`` in scoring bodies).
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pandas as pd
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import clip
from ...evaluator.records import first_non_scalar
from ...pmml.fields import Field, OutputField
from ..core import Scored, ScoringCore
from ..csv_stream import CsvShape, csv_abort_line, stream_csv
from ..http import DuplexStreamingResponse, json_response
from ..models import LoadedVersion
from ..predict import BadRequest, parse_json_object, parse_payload
from . import NAME, Target, model_routes, target

BASE = "/v1/models/" + NAME


def _version_header(number: int) -> dict[str, str]:
    return {"X-Model-Version": str(number)}


def routes(core: ScoringCore) -> list[Route]:
    """The TF Serving routes over ``core``."""

    async def status(request: Request) -> Response:
        t = target(request, "status")
        statuses = core.status(t.name, **t.where)
        return json_response({"model_version_status": [s.as_dict(n) for n, s in sorted(statuses.items(),
                                                                                     reverse=True)]})

    async def metadata(request: Request) -> Response:
        t = target(request, "metadata")
        meta = core.metadata(t.name, **t.where)
        body = {"model_spec": {"name": meta.name, "version": str(meta.version)},
                "metadata": {"model_type": meta.model_type, "function_name": meta.function_name,
                             "backend": meta.backend,
                             "inputs": [f.as_dict() for f in meta.inputs],
                             "targets": [f.as_dict() for f in meta.targets],
                             "outputs": [f.as_dict() for f in meta.outputs],
                             "manifest": meta.manifest}}
        return json_response(body, headers=_version_header(meta.version))

    async def predict(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip().lower() == "text/csv":
            return await predict_csv(request)
        t = target(request, "predict")
        core.served(t.name, label=t.label)  # 404 before the body is read
        body, version = await predict_json(core, t, await request.body())
        return json_response(body, headers=_version_header(version))

    async def classify(request: Request) -> Response:
        return await examples(request, "classify")

    async def regress(request: Request) -> Response:
        return await examples(request, "regress")

    async def examples(request: Request, kind: str) -> Response:
        t = target(request, kind)
        core.served(t.name, label=t.label)  # 404 before the body is read
        records = parse_examples(await request.body(), kind=kind)
        scored = await core.score(t.name, **t.where, records=records, errors="raise")
        body = {"result": _classes(scored) if kind == "classify" else _values(scored),
                "model_version": str(scored.version)}
        return json_response(body, headers=_version_header(scored.version))

    async def predict_csv(request: Request) -> Response:
        t = target(request, "predict_csv")
        stack = contextlib.ExitStack()
        loaded: LoadedVersion = stack.enter_context(core.hold(t.name, **t.where, route=True))
        try:
            async def score(frame: pd.DataFrame) -> pd.DataFrame:
                core.count(loaded, records=len(frame))
                return await core.blocking(lambda: loaded.evaluator.predict_batch(frame, errors="column"))

            shape = CsvShape(tuple(loaded.evaluator.result_names), loaded.evaluator.error_column)
            chunks = stream_csv(request.stream(), score, shape=shape, chunk_bytes=core.config.csv_chunk_bytes)
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

        return DuplexStreamingResponse(body(), media_type="text/csv", headers=_version_header(loaded.number))

    return [*model_routes(BASE, ":predict", predict, ["POST"]),
            *model_routes(BASE, ":classify", classify, ["POST"]),
            *model_routes(BASE, ":regress", regress, ["POST"]),
            *model_routes(BASE, "", status, ["GET"]),
            *model_routes(BASE, "/metadata", metadata, ["GET"])]


async def predict_json(core: ScoringCore, t: Target, raw: bytes) -> tuple[dict[str, Any], int]:
    """:predict on a JSON body, for a served ``t``: (the answer's body, the version that answered).

    The route above and the server's fast path (fastpath.py) both answer with it.
    """
    payload = parse_payload(raw)
    mode = "raise" if payload.errors == "raise" else "per_record"
    scored = await core.score(t.name, **t.where, records=payload.rows, columns=payload.columns, errors=mode,
                              explain=payload.explain)
    body = (_predictions(scored) if payload.rows is not None
            else _outputs(scored, with_errors=mode == "per_record"))
    body["model_version"] = str(scored.version)
    return body, scored.version


def parse_examples(body: bytes, *, kind: str) -> list[dict[str, Any]]:
    """TF's classify/regress body: ``examples`` (records) and optional ``context`` shared by all."""
    data = parse_json_object(body, expected='an object with "examples" (a list of records)')
    unknown = sorted(set(data) - {"examples", "context", "signature_name"})
    if unknown:
        raise BadRequest(clip(f"unknown key(s) {unknown} in the {kind} body; expected examples, context, "
                              "signature_name", limit=300))
    if not isinstance(data.get("signature_name", ""), str):
        raise BadRequest('"signature_name" must be a string')
    examples, context = data.get("examples"), data.get("context", {})
    if not isinstance(examples, list) or not all(isinstance(e, dict) for e in examples):
        raise BadRequest(f'"examples" must be a list of objects (field -> value) for :{kind}')
    if not isinstance(context, dict):
        raise BadRequest('"context" must be an object of field -> value, shared by every example')
    bad = first_non_scalar(None, context.items())
    if bad is not None:  # shared by every example: the request is wrong, not one example
        raise BadRequest(f'"context": {bad}')
    return [{**context, **e} for e in examples] if context else examples


def _target(scored: Scored, kind: str) -> Field:
    targets = [f for f in scored.fields if not isinstance(f, OutputField)]
    wanted = "continuous" if kind == "regress" else "categorical"
    if not targets or (targets[0].op_type == "continuous") != (wanted == "continuous"):
        other = ":classify" if kind == "regress" else ":regress"
        raise BadRequest(f"model {scored.model} version {scored.version} has no {wanted} target to {kind}; "
                         f"use {other} or :predict")
    return targets[0]


def _scored_all(scored: Scored) -> list[dict[str, Any]]:
    """The results of a call made with errors="raise": every record has them."""
    return [r for r in scored.results if r is not None]


def _classes(scored: Scored) -> list[list[list[Any]]]:
    """Per example, [class, score] pairs: the probability outputs, or the predicted class alone."""
    label = _target(scored, "classify").name
    probabilities = [(f.name, f.value) for f in scored.fields
                     if isinstance(f, OutputField) and f.feature == "probability" and f.value is not None
                     and f.target_field in (None, label)]
    if not probabilities:  # no scores in the document: the class, with no score
        return [[[r[label], None]] for r in _scored_all(scored)]
    return [[[value, r[name]] for name, value in probabilities] for r in _scored_all(scored)]


def _values(scored: Scored) -> list[Any]:
    """Per example, the predicted value."""
    name = _target(scored, "regress").name
    return [r[name] for r in _scored_all(scored)]


def _predictions(scored: Scored) -> dict[str, Any]:
    """Row answers: each record's results, or ``{error_key: reason}``."""
    predictions = [r if r is not None else {scored.error_key: e} for r, e in zip(scored.results, scored.errors)]
    if scored.explanations is not None:  # "explain": true: beside the results of each scored record
        key = scored.explanation_key
        predictions = [{**p, key: x} if x is not None else p for p, x in zip(predictions, scored.explanations)]
    return {"predictions": predictions}


def _outputs(scored: Scored, *, with_errors: bool) -> dict[str, Any]:
    """Columnar answers: one list per result field (None where a record failed), then the errors."""
    cols: dict[str, list[Any]] = {n: [r[n] if r is not None else None for r in scored.results]
                                  for n in scored.names}
    if scored.explanations is not None:
        cols[scored.explanation_key] = scored.explanations
    if with_errors:
        cols[scored.error_key] = list(scored.errors)
    return {"outputs": cols}

