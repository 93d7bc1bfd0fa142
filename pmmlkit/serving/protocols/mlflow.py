"""MLflow's scoring protocol (``mlflow models serve``): ``/invocations``, ``/ping``, ``/health``, ``/version``.

``/invocations`` scores one model: the one ``--mlflow-model NAME[:VERSION|@LABEL]`` names,
or the only model the server serves. Bodies are MLflow 2.x/3.x's: JSON with exactly one of
``dataframe_split``, ``dataframe_records``, ``instances`` or ``inputs`` (plus optional
``params``), ``text/csv``, or Parquet (``application/vnd.apache.parquet``). The answer is
``{"predictions": [{result field: value, ...}, ...]}``, one object per record, as MLflow
writes a DataFrame's predictions.

MLflow has no slot for a per-record error: a record that breaks the input contract fails
the request (400 naming the row, field and value), unless ``"params": {"errors":
"per_record"}`` asks for ``{"error": reason}`` in that record's place. Errors carry MLflow's
``error_code`` and ``message`` beside pmmlkit's ``error``, so MLflow clients read them too.
"""
from __future__ import annotations

import io
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from ... import __version__
from ...errors import ModelNotFoundError, quote
from ...repository.store import parse_ref
from ..core import ScoringCore
from ..csv_stream import CsvRecords
from ..http import HttpError, error_response, json_response, tag
from ..predict import BadRequest, dumps, parse_json_object
from . import Target

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
JSON, CSV, PARQUET = "application/json", "text/csv", "application/vnd.apache.parquet"
_CODES = {400: "BAD_REQUEST", 404: "RESOURCE_DOES_NOT_EXIST", 413: "BAD_REQUEST", 415: "BAD_REQUEST",
          503: "TEMPORARILY_UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_PARAMS = {"errors", "explain"}


def routes(core: ScoringCore) -> list[Route]:
    """The MLflow scoring routes over ``core``."""

    async def invocations(request: Request) -> Response:
        tag(endpoint="mlflow_invocations")
        try:
            t = invocation_target(core)
            records, columns, errors, explain = await _parse(request)
            scored = await core.score(t.name, **t.where, records=records, columns=columns, errors=errors,
                                      explain=explain)
        except ClientDisconnect:
            raise  # nobody to answer: the guard logs it
        except Exception as e:  # noqa: BLE001 - every failure answers in MLflow's error shape
            return mlflow_error(e, request)
        predictions = [r if r is not None else {scored.error_key: e} for r, e in zip(scored.results, scored.errors)]
        if scored.explanations is not None:  # "params": {"explain": true}
            key = scored.explanation_key
            predictions = [{**p, key: x} if x is not None else p for p, x in zip(predictions, scored.explanations)]
        return Response(dumps({"predictions": predictions}), media_type=JSON,
                        headers={"X-Model-Version": str(scored.version)})

    async def ping(request: Request) -> Response:
        tag(endpoint="mlflow_ping")
        try:
            t = invocation_target(core)
            core.pick(t.name, **t.where)  # a version that can answer /invocations now
        except Exception as e:  # noqa: BLE001 - every failure answers in MLflow's error shape
            if isinstance(e, ModelNotFoundError):
                e = HttpError(503, f"/invocations cannot answer yet: {e}")
            return mlflow_error(e, request)
        return json_response({"status": "ready", "model": t.name})  # MLflow's clients read the status only

    async def version(request: Request) -> Response:
        tag(endpoint="mlflow_version")
        return Response(__version__, media_type="text/plain")

    return [Route("/invocations", invocations, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
            Route("/health", ping, methods=["GET"]),
            Route("/version", version, methods=["GET"])]


def invocation_target(core: ScoringCore) -> Target:
    """The model ``/invocations`` scores: ``--mlflow-model``, else the only model served."""
    if core.config.mlflow_model:
        name, number, label = parse_ref(core.config.mlflow_model)
        return Target(name, number, label)
    served = core.manager.served()
    if len(served) != 1:
        raise ModelNotFoundError(f"/invocations scores one model and this server serves {len(served)}: "
                                 f"{served[:20]}; start it with --mlflow-model NAME[:VERSION|@LABEL]")
    return Target(served[0])


def mlflow_error(exc: Exception, request: Request) -> Response:
    """pmmlkit's error answer, with MLflow's ``error_code`` and ``message`` beside ``error``."""
    response = error_response(exc, request)
    message = parse_json_object(bytes(response.body))["error"]
    code = _CODES.get(response.status_code, "INTERNAL_ERROR")
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return json_response({"error": message, "error_code": code, "message": message}, response.status_code,
                         headers)


async def _parse(request: Request) -> tuple[list[dict[str, Any]] | None, dict[str, list[Any]] | None, str, bool]:
    """(records, columns, errors mode, explain) of an invocation body, by its content type."""
    kind, _, options = request.headers.get("content-type", "").partition(";")
    kind = kind.strip().lower()
    params = {k.strip().lower(): v.strip().strip('"') for k, _, v in (p.partition("=") for p in options.split(";"))
              if k.strip()}
    if set(params) - {"charset"}:
        # MLflow 1.x put the format here (format=pandas-split); 2.x and 3.x refuse it too.
        raise HttpError(415, f"content type parameter(s) {quote(sorted(set(params) - {'charset'}))} are not "
                             "supported; the format goes in the body (dataframe_split, dataframe_records, "
                             "instances or inputs), as in MLflow 2 and later")
    if params.get("charset", "utf-8").lower() != "utf-8":
        raise HttpError(415, f"charset {params['charset']!r:.50}: the scoring server only reads UTF-8")
    body = await request.body()
    if kind == JSON:
        return _parse_json(body)
    if kind == CSV:
        return None, _csv_columns(body), "raise", False
    if kind == PARQUET:
        return None, _parquet_columns(body), "raise", False
    raise HttpError(415, f"content type {quote(kind or 'none')} is not supported by /invocations; send "
                         f"{JSON} (dataframe_split, dataframe_records, instances or inputs), {CSV} or {PARQUET}")


def _parse_json(body: bytes) -> tuple[list[dict[str, Any]] | None, dict[str, list[Any]] | None, str, bool]:
    data = parse_json_object(body, expected=f"an object with exactly one of {list(FORMATS)}")
    given = [k for k in FORMATS if k in data]
    unknown = sorted(set(data) - {*FORMATS, "params"})
    if len(given) != 1 or unknown:
        raise BadRequest(f"the body must be a JSON object with exactly one of {list(FORMATS)} (and optional "
                         f"\"params\"); it has {quote(sorted(data))}")
    params = {} if data.get("params") is None else data["params"]  # MLflow's clients send null for none
    if not isinstance(params, dict) or set(params) - _PARAMS:
        raise BadRequest(f'"params" {params!r:.200} is not supported; the parameters are '
                         '{"errors": "raise" | "per_record", "explain": true | false}')
    errors, explain = params.get("errors", "raise"), params.get("explain", False)
    if errors not in ("raise", "per_record"):
        raise BadRequest(f'"params": {{"errors": {errors!r:.100}}}: expected "raise" or "per_record"')
    if not isinstance(explain, bool):
        raise BadRequest(f'"params": {{"explain": {explain!r:.100}}}: expected true or false')
    key, value = given[0], data[given[0]]
    if key == "dataframe_split":
        return None, _split_columns(value), errors, explain
    if key == "inputs" and isinstance(value, dict):
        return None, _columns(value, key), errors, explain
    return _records(value, key), None, errors, explain


def _split_columns(split: Any) -> dict[str, list[Any]]:
    """``{"columns": [...], "data": [[...], ...]}`` (pandas' split orient) as columns."""
    if not isinstance(split, dict) or not isinstance(split.get("columns"), list) \
            or not isinstance(split.get("data"), list):
        raise BadRequest('"dataframe_split" must be {"columns": [names], "data": [[values], ...]} '
                         '(pandas orient="split")')
    names, rows = split["columns"], split["data"]
    if not all(isinstance(c, str) for c in names) or len(set(names)) != len(names):
        raise BadRequest(f'"dataframe_split" columns {names!r:.300} must be distinct field names')
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(names):
            raise BadRequest(f'"dataframe_split" data[{i}] must be a list of {len(names)} values, one per column')
    if "index" in split and (not isinstance(split["index"], list) or len(split["index"]) != len(rows)):
        raise BadRequest(f'"dataframe_split" index must be a list of {len(rows)} labels, one per row')
    return {c: [row[j] for row in rows] for j, c in enumerate(names)}


def _columns(columns: dict[str, Any], key: str) -> dict[str, list[Any]]:
    if not all(isinstance(v, list) for v in columns.values()):
        raise BadRequest(f'"{key}" as an object must map each field to a list of values')
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise BadRequest(f'"{key}" columns have different lengths: {lengths!r:.300}')
    return columns


def _records(records: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(records, list):
        raise BadRequest(f'"{key}" must be a list of records (objects of field -> value)')
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise BadRequest(f'"{key}"[{i}] is not an object of field -> value; pmmlkit models take named fields')
    return records


def _csv_columns(body: bytes) -> dict[str, list[Any]]:
    """A CSV body (header line, then records) as text columns; a malformed line fails the request."""
    end = body.find(b"\n")
    header, rest = (body, b"") if end < 0 else (body[:end + 1], body[end + 1:])
    frame, rejected, _ = CsvRecords(header).parse(rest)
    if rejected:
        raise BadRequest(rejected[min(rejected)])
    return {c: frame[c].tolist() for c in frame.columns}


def _parquet_columns(body: bytes) -> dict[str, list[Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(body))
    except (pa.ArrowException, OSError) as e:
        raise BadRequest(f"the body is not a readable Parquet file: {str(e):.200}") from None
    names = table.column_names
    if len(set(names)) != len(names):
        raise BadRequest(f"the Parquet file names a column more than once: {names[:50]}")
    for column in table.schema:
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not any(test(kind) for test in (pa.types.is_null, pa.types.is_boolean, pa.types.is_integer,
                                           pa.types.is_floating, pa.types.is_string, pa.types.is_large_string)):
            raise BadRequest(f"Parquet column {column.name!r:.100} has type {kind}; send numbers, booleans "
                             "or strings (a date as ISO text)")
    return table.to_pydict()
