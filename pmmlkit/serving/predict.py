"""Request bodies in, response bodies out: JSON parsing and writing, TF-Serving predict payloads.

Scoring itself is the core's (core.py, through ``Evaluator.predict_records``). One rule for
every path (csv_stream.py too): a record is answered on its own terms. A record without one
of its fields is scored as that record alone would be (an absent input field is a
MissingFieldError; ``null`` is a missing value), whatever its neighbours hold; a value that
is not a JSON scalar, and a CSV line with the wrong number of fields, reject that record only.

JSON goes through orjson (several times faster than the standard library both ways). A body
orjson refuses (NaN tokens, nesting past its limit, bad UTF-8) is read by the standard library,
which says what is wrong or reads NaN as a missing value, as before. One difference: an integer
literal beyond 64 bits is read as a (double) number, so an error quotes it as ``1e+20``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from ..errors import clip
from ..evaluator.records import json_type

ERROR_MODES = {"raise": "raise", "per_record": "column"}
MESSAGE_CHARS = 1000            # the longest per-record message, whatever the model's vocabulary
MESSAGES_BUDGET = 64 * 1024     # per response: past this much error text, each message is cut to...
SHORT_CHARS = 200               # ...this, so a response stays a small multiple of its request


class BadRequest(Exception):
    """The request body does not have the shape the endpoint expects (HTTP 400)."""


@dataclass(frozen=True)
class Payload:
    """A checked predict body: ``instances`` (rows) or ``inputs`` (columns)."""

    rows: list[dict[str, Any]] | None
    columns: dict[str, list[Any]] | None
    errors: str  # "raise" or "column"
    explain: bool = False  # "explain": true: each record's explanation too

    @property
    def size(self) -> int:
        if self.rows is not None:
            return len(self.rows)
        return len(next(iter(self.columns.values()), [])) if self.columns else 0


class Budget:
    """Bounds the error text of one response: full messages first, then short ones."""

    def __init__(self) -> None:
        self.spent = 0

    def __call__(self, message: str) -> str:
        message = clip(str(message), limit=MESSAGE_CHARS if self.spent < MESSAGES_BUDGET else SHORT_CHARS)
        self.spent += len(message)
        return message


def parse_json_object(body: bytes, *, expected: str = "an object") -> dict[str, Any]:
    data = _loads(body)
    if not isinstance(data, dict):
        raise BadRequest(f"request body is a JSON {json_type(data)}; expected {expected}")
    return data


def _loads(body: bytes) -> Any:
    """The parsed body: orjson, or the standard library where orjson reads otherwise or refuses."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass  # NaN tokens, nesting past orjson's limit, bad UTF-8...: the reference parser says
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as e:
        raise BadRequest(f"request body is not valid JSON: {clip(str(e), limit=200)}") from None
    except RecursionError:  # the C parser recurses once per level of nesting
        raise BadRequest("request body nests JSON arrays/objects too deeply to parse; a predict body "
                         "needs two levels (a list of records) and scalar values") from None


def parse_payload(body: bytes) -> Payload:
    """Decode and check a JSON predict body; BadRequest names what is wrong."""
    data = parse_json_object(body, expected='an object with "instances" (a list of records) '
                                            'or "inputs" (an object of columns)')
    unknown = sorted(set(data) - {"instances", "inputs", "errors", "signature_name", "explain"})
    if unknown:
        raise BadRequest(clip(f"unknown key(s) {unknown} in the request body; expected instances, inputs, errors, "
                              "explain", limit=300))
    explain = data.get("explain", False)
    if not isinstance(explain, bool):
        raise BadRequest(f'"explain": {clip(repr(explain), limit=100)}; expected true or false')
    mode = data.get("errors", "raise")
    if not isinstance(mode, str) or mode not in ERROR_MODES:
        raise BadRequest(f'"errors": {clip(repr(mode), limit=100)} is not supported; expected "raise" or "per_record"')
    if not isinstance(data.get("signature_name", ""), str):
        raise BadRequest('"signature_name" must be a string')
    if ("instances" in data) == ("inputs" in data):
        raise BadRequest('the request body needs exactly one of "instances" or "inputs"')
    if "instances" in data:
        rows = data["instances"]
        if not isinstance(rows, list):
            raise BadRequest(f'"instances" is a {json_type(rows)}; expected a list of objects')
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise BadRequest(f"instances[{i}] is a {json_type(row)}; expected an object of field -> value")
        return Payload(rows, None, ERROR_MODES[mode], explain)
    columns = data["inputs"]
    if not isinstance(columns, dict) or not all(isinstance(v, list) for v in columns.values()):
        raise BadRequest('"inputs" must be an object of field -> list of values')
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise BadRequest(clip(f'"inputs" columns have different lengths: {lengths}', limit=300))
    return Payload(None, columns, ERROR_MODES[mode], explain)


def spread(out: pd.DataFrame, rows: pd.Index, rejected: dict[int, str], error_column: str,
           budget: Budget) -> pd.DataFrame:
    """Results of the scored rows spread over ``rows``; a rejected row carries its reason.

    Every message in the error column goes through ``budget``, so the answer stays bounded.
    """
    full = out.reindex(rows) if rejected else out
    if error_column not in full.columns:
        full[error_column] = pd.Series(None, index=full.index, dtype=object)
    messages = full[error_column].to_numpy(dtype=object).copy()
    if rejected:
        messages[full.index.get_indexer(list(rejected))] = list(rejected.values())
    for i in np.flatnonzero(pd.notna(messages)):
        messages[i] = budget(messages[i])
    full[error_column] = messages
    return full


def dumps(obj: Any) -> bytes:
    """JSON bytes; NaN and infinity become null (JSON has neither), NumPy scalars their values."""
    return orjson.dumps(obj, default=json_value, option=orjson.OPT_SERIALIZE_NUMPY)


def json_value(v: Any) -> Any:
    """One value as JSON has it: None for missing, NaN and infinity; NumPy scalars as Python's."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (str, int, float, bool)):
        return v
    raise TypeError(f"{type(v).__name__} is not JSON serializable")
