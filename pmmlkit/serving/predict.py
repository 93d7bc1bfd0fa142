"""Predict payloads: TF-Serving JSON (row and columnar) and streamed CSV, scored by an Evaluator.

Everything here is blocking or pure: app.py runs the scoring calls off the event loop.
"""
from __future__ import annotations

import io
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..evaluator import ERROR_COLUMN, Evaluator

ERROR_MODES = {"raise": "raise", "per_record": "column"}


class BadRequest(Exception):
    """The request body does not have the shape the endpoint expects (HTTP 400)."""


@dataclass(frozen=True)
class Payload:
    """A checked predict body: ``instances`` (rows) or ``inputs`` (columns)."""

    rows: list[dict[str, Any]] | None
    columns: dict[str, list[Any]] | None
    errors: str  # "raise" or "column"


def parse_json_object(body: bytes, *, expected: str = "an object") -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as e:
        raise BadRequest(f"request body is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"request body is a JSON {_json_type(data)}; expected {expected}")
    return data


def parse_payload(body: bytes) -> Payload:
    """Decode and check a JSON predict body; BadRequest names what is wrong."""
    data = parse_json_object(body, expected='an object with "instances" (a list of records) '
                                            'or "inputs" (an object of columns)')
    unknown = sorted(set(data) - {"instances", "inputs", "errors", "signature_name"})
    if unknown:
        raise BadRequest(f"unknown key(s) {unknown} in the request body; expected instances, inputs, errors")
    mode = data.get("errors", "raise")
    if mode not in ERROR_MODES:
        raise BadRequest(f'"errors": {mode!r} is not supported; expected "raise" or "per_record"')
    if ("instances" in data) == ("inputs" in data):
        raise BadRequest('the request body needs exactly one of "instances" or "inputs"')
    if "instances" in data:
        rows = data["instances"]
        if not isinstance(rows, list):
            raise BadRequest(f'"instances" is a {_json_type(rows)}; expected a list of objects')
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise BadRequest(f"instances[{i}] is a {_json_type(row)}; expected an object of field -> value")
        return Payload(rows, None, ERROR_MODES[mode])
    columns = data["inputs"]
    if not isinstance(columns, dict) or not all(isinstance(v, list) for v in columns.values()):
        raise BadRequest('"inputs" must be an object of field -> list of values')
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise BadRequest(f'"inputs" columns have different lengths: {lengths}')
    return Payload(None, columns, ERROR_MODES[mode])


def score_payload(evaluator: Evaluator, payload: Payload) -> dict[str, Any]:
    """``{"predictions": [...]}`` for instances, ``{"outputs": {...}}`` for inputs."""
    if payload.columns is not None:
        frame = pd.DataFrame(payload.columns) if payload.columns else pd.DataFrame(index=range(0))
        out = evaluator.predict_batch(frame, errors=payload.errors)
        return {"outputs": {name: _json_column(out[name]) for name in out.columns}}
    rows = payload.rows or []
    if len(rows) == 1 and payload.errors == "raise":
        try:  # the fast path of single-record traffic
            return {"predictions": [_json_record(evaluator.predict(rows[0]))]}
        except InputError as e:
            raise type(e)(0, e.field, e.value, e.expected) from None
    if not rows:
        return {"predictions": []}
    out = evaluator.predict_batch(pd.DataFrame.from_records(rows), errors=payload.errors)
    names = list(evaluator.result_names)
    cols = {name: _json_column(out[name]) for name in names}
    errors = out[ERROR_COLUMN].tolist() if ERROR_COLUMN in out.columns else [None] * len(out)
    return {"predictions": [{"error": errors[i]} if errors[i] else {n: cols[n][i] for n in names}
                            for i in range(len(out))]}


def count_rejected(result: dict[str, Any]) -> int:
    """Records answered with an error in a per-record response."""
    if "predictions" in result:
        return sum(1 for p in result["predictions"] if "error" in p and len(p) == 1)
    return sum(1 for e in result["outputs"].get(ERROR_COLUMN, []) if e)


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, allow_nan=False, separators=(",", ":"), default=_json_scalar).encode()


def _json_record(record: dict[str, Any]) -> dict[str, Any]:
    return {k: _json_scalar(v) for k, v in record.items()}


def _json_column(col: pd.Series) -> list[Any]:
    return [_json_scalar(v) for v in col.astype(object).tolist()]


def _json_scalar(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _json_type(v: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(v), "number")


# --- CSV in, CSV out, chunk by chunk -----------------------------------------

Score = Callable[[pd.DataFrame], Awaitable[pd.DataFrame]]


async def stream_csv(chunks: AsyncIterator[bytes], score: Score, *, chunk_bytes: int) -> AsyncIterator[bytes]:
    """Score CSV bytes as they arrive; yield result CSV (results + ``error``) per chunk."""
    buf = b""
    header: bytes | None = None
    offset, first = 0, True
    async for chunk in chunks:
        buf += chunk
        if header is None:
            end = buf.find(b"\n")
            if end < 0:
                continue
            header, buf = buf[:end + 1], buf[end + 1:]
        if len(buf) >= chunk_bytes:
            complete, buf = _split_records(buf)
            if complete:
                frame = _read_csv(header, complete, offset)
                yield _write_csv(await score(frame), header=first)
                offset, first = offset + len(frame), False
    if header is None:
        header, buf = buf + b"\n", b""
        if not header.strip():
            raise BadRequest("the CSV body is empty; expected a header line and records")
    frame = _read_csv(header, buf, offset)
    if len(frame) or first:
        yield _write_csv(await score(frame), header=first)


def _split_records(buf: bytes) -> tuple[bytes, bytes]:
    """Cut after the last newline that ends a record (not one inside a quoted field)."""
    end = len(buf)
    while (end := buf.rfind(b"\n", 0, end)) >= 0:
        if buf.count(b'"', 0, end) % 2 == 0:
            return buf[:end + 1], buf[end + 1:]
    return b"", buf


def _read_csv(header: bytes, records: bytes, offset: int) -> pd.DataFrame:
    try:
        # Everything as text: the input contract converts with the model's types and
        # names the row and field of a bad value. Empty cells are missing values.
        frame = pd.read_csv(io.BytesIO(header + records), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as e:
        raise BadRequest(f"CSV records after row {offset} cannot be parsed: {e}") from None
    frame.index = pd.RangeIndex(offset, offset + len(frame))
    return frame


def _write_csv(out: pd.DataFrame, *, header: bool) -> bytes:
    return out.to_csv(index=False, header=header, lineterminator="\n").encode()
