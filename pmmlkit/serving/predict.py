"""Predict payloads: TF-Serving JSON (row and columnar), scored by an Evaluator.

Everything here is blocking or pure: app.py runs the scoring calls off the event loop.
One rule for every path (csv_stream.py too): a record is answered on its own terms. A
record without one of its fields is scored as that record alone would be
(``Evaluator.predict``: an absent input field is a MissingFieldError; ``null`` is a missing
value), whatever its neighbours hold; a value that is not a JSON scalar, and a CSV line
with the wrong number of fields, reject that record only.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EvaluationError, InputError, MissingFieldError, TypeConversionError, clip
from ..evaluator import Evaluator

ERROR_MODES = {"raise": "raise", "per_record": "column"}
SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(SCALARS)  # json.loads makes exactly these types
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
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as e:
        raise BadRequest(f"request body is not valid JSON: {clip(str(e), limit=200)}") from None
    except RecursionError:  # the C parser recurses once per level of nesting
        raise BadRequest("request body nests JSON arrays/objects too deeply to parse; a predict body "
                         "needs two levels (a list of records) and scalar values") from None
    if not isinstance(data, dict):
        raise BadRequest(f"request body is a JSON {_json_type(data)}; expected {expected}")
    return data


def parse_payload(body: bytes) -> Payload:
    """Decode and check a JSON predict body; BadRequest names what is wrong."""
    data = parse_json_object(body, expected='an object with "instances" (a list of records) '
                                            'or "inputs" (an object of columns)')
    unknown = sorted(set(data) - {"instances", "inputs", "errors", "signature_name"})
    if unknown:
        raise BadRequest(clip(f"unknown key(s) {unknown} in the request body; expected instances, inputs, errors",
                              limit=300))
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
        raise BadRequest(clip(f'"inputs" columns have different lengths: {lengths}', limit=300))
    return Payload(None, columns, ERROR_MODES[mode])


def score_payload(evaluator: Evaluator, payload: Payload) -> dict[str, Any]:
    """``{"predictions": [...]}`` for instances, ``{"outputs": {...}}`` for inputs."""
    if payload.columns is not None:
        return _score_columns(evaluator, payload.columns, payload.errors)
    return _score_rows(evaluator, payload.rows or [], payload.errors)


def count_rejected(result: dict[str, Any], error_key: str) -> int:
    """Records answered with an error in a per-record response."""
    if "predictions" in result:
        return sum(1 for p in result["predictions"] if error_key in p and len(p) == 1)
    return sum(1 for e in result["outputs"].get(error_key, []) if e)


def _score_rows(evaluator: Evaluator, rows: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    n, error_key, budget = len(rows), evaluator.error_column, Budget()
    answers: list[dict[str, Any] | None] = [None] * n
    for i, e in _non_scalars(enumerate(rows)).items():
        if mode == "raise":
            raise e
        answers[i] = {error_key: budget(str(e))}
    todo = [i for i in range(n) if answers[i] is None]
    batch, alone, keys = [], todo, []
    if n > 1:
        # A record lacking a key that others carry is scored alone, exactly as it would be if it
        # were the only one: a batch would fill the gap with NaN and impute it in silence.
        keys = list(dict.fromkeys(k for i in todo for k in rows[i]))
        batch = [i for i in todo if len(rows[i]) == len(keys)]
        alone = [i for i in todo if len(rows[i]) != len(keys)]
    if batch:
        index = pd.RangeIndex(n) if len(batch) == n else pd.Index(batch)
        frame = pd.DataFrame({k: [rows[i][k] for i in batch] for k in keys}, index=index)
        try:
            out = evaluator.predict_batch(frame, errors=mode)
        except MissingFieldError as e:
            if e.row is not None:
                raise
            alone, batch = todo, []  # a field every record lacks: each record gets its own answer
        else:
            _answer_batch(evaluator, out, batch, answers, budget)
    for i in alone:
        answers[i] = _answer_alone(evaluator, rows[i], i, mode, budget)
    return {"predictions": answers}


def _answer_batch(evaluator: Evaluator, out: pd.DataFrame, positions: list[int],
                  answers: list[dict[str, Any] | None], budget: Budget) -> None:
    names, error_key = list(evaluator.result_names), evaluator.error_column
    cols = {name: _json_column(out[name]) for name in names}
    errors = out[error_key].tolist() if error_key in out.columns else [None] * len(out)
    for j, i in enumerate(positions):
        failed = isinstance(errors[j], str)
        answers[i] = {error_key: budget(errors[j])} if failed else {name: cols[name][j] for name in names}


def _answer_alone(evaluator: Evaluator, record: dict[str, Any], row: int, mode: str,
                  budget: Budget) -> dict[str, Any]:
    try:
        return _json_record(evaluator.predict(record))
    except InputError as e:
        e = _at_row(e, row)
        if mode == "raise":
            raise e from None
        return {evaluator.error_column: budget(str(e))}
    except EvaluationError as e:
        if mode == "raise":
            raise EvaluationError(f"row {row}: {e}") from None
        return {evaluator.error_column: budget(f"row {row}: {e}")}


def _at_row(e: InputError, row: int) -> InputError:
    """The same error, naming the record's position in the request."""
    return e if e.row == row else type(e)(row, e.field, e.value, e.expected)


def _score_columns(evaluator: Evaluator, columns: dict[str, list[Any]], mode: str) -> dict[str, Any]:
    n = len(next(iter(columns.values()), []))
    bad = _non_scalars((i, {k: v[i] for k, v in columns.items()}) for i in _suspects(columns))
    if bad and mode == "raise":
        raise bad[min(bad)]
    frame = pd.DataFrame(columns, index=pd.RangeIndex(n)) if columns else pd.DataFrame(index=range(0))
    out = evaluator.predict_batch(frame.drop(index=list(bad)) if bad else frame, errors=mode)
    if mode == "column":
        out = spread(out, pd.RangeIndex(n), {i: str(e) for i, e in bad.items()}, evaluator.error_column,
                     Budget())
    return {"outputs": {name: _json_column(out[name]) for name in out.columns}}


def _suspects(columns: dict[str, list[Any]]) -> list[int]:
    """Positions holding a value that is not a JSON scalar (a list or an object)."""
    return sorted({i for values in columns.values() if not _SCALAR_TYPES.issuperset(map(type, values))
                   for i, v in enumerate(values) if not isinstance(v, SCALARS)})


def _non_scalars(records: Any) -> dict[int, InputError]:
    """A TypeConversionError for each record holding a list or object as a value, by position."""
    found: dict[int, InputError] = {}
    for i, record in records:
        if _SCALAR_TYPES.issuperset(map(type, record.values())):  # the common case, at C speed
            continue
        for key, value in record.items():
            if not isinstance(value, SCALARS):
                # InputError quotes the value bounded in size and depth, however it nests.
                found[i] = TypeConversionError(i, key, value, f"is a JSON {_json_type(value)}; expected a "
                                               "string, number, boolean or null")
                break
    return found


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
