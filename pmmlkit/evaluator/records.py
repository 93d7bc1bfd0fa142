"""The record path: parsed JSON records (or columns) scored without building a DataFrame.

A server's request holds a few records of JSON scalars. Building a pandas frame for them
costs more than scoring them natively, so this path goes straight from the parsed values
to the backend's typed columns, with the same input contract (contract.FieldRule) and the
same answers as ``Evaluator.predict_batch(errors="column")``:

* a value that is not a JSON scalar (a list, an object) fails its record;
* a record without one of the model's input fields gets the error it would get alone
  (``Evaluator.predict``: an absent field is a MissingFieldError; ``None`` is a missing value);
* every other value goes through its field's rule; a record's error is its first failing
  field in the model's order, named with the record's row number;
* the records that pass are scored as one batch (one record: the backend's record path),
  and a row the backend cannot score carries the backend's reason.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import EvaluationError, InputError, TypeConversionError, clip
from .contract import INT_MAX, INT_MIN, FieldRule, _plain_number, canonical_text

if TYPE_CHECKING:
    from . import Evaluator

SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(SCALARS)  # a JSON parser makes exactly these types
_PLAIN = frozenset((int, float, type(None)))


@dataclass(frozen=True)
class Answers:
    """Per record, in order: its results (result field -> JSON value) or why it failed."""

    results: list[dict[str, Any] | None]
    errors: list[str | None]
    #: with ``explain=True``: per record its explanation (``Evaluator.predict``'s), None where it failed
    explanations: list[dict[str, Any] | None] | None = None


def json_type(v: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(v), "number")


def non_scalar(row: Any, key: str, value: Any) -> TypeConversionError:
    """The error of a record holding a list or object as a value."""
    # InputError quotes the value bounded in size and depth, however it nests.
    return TypeConversionError(row, key, value, f"is a JSON {json_type(value)}; expected a string, number, "
                                                "boolean or null")


def first_non_scalar(row: Any, items: Any) -> TypeConversionError | None:
    """The error for the first (key, value) of ``items`` that is not a JSON scalar, if any."""
    for key, value in items:
        if type(value) not in _SCALAR_TYPES:
            return non_scalar(row, key, value)
    return None


def score_records(ev: Evaluator, records: Sequence[dict[str, Any]], *, rows: Sequence[Any] | None = None,
                  outputs: Sequence[str] | None = None, explain: bool = False) -> Answers:
    """Score ``records``; ``rows`` are the row numbers errors name (default 0, 1, ...)."""
    n = len(records)
    rows = range(n) if rows is None else rows
    names = ev.schema.input_names
    needed = frozenset(names)
    errors: list[str | None] = [None] * n
    for i, record in enumerate(records):
        if not _SCALAR_TYPES.issuperset(map(type, record.values())):  # the common case, at C speed
            errors[i] = str(first_non_scalar(rows[i], record.items()))
        elif not record.keys() >= needed:
            errors[i] = _alone_error(ev, record, rows[i])
    raw = {name: [r.get(name) for r in records] for name in names}
    return _score(ev, raw, errors, rows, outputs, explain)


def score_columns(ev: Evaluator, columns: dict[str, list[Any]], *, rows: Sequence[Any] | None = None,
                  outputs: Sequence[str] | None = None, explain: bool = False) -> Answers:
    """Score equal-length ``columns`` (field -> values); an absent input column fails the call."""
    if any(name not in columns for name in ev.schema.input_names):
        import pandas as pd  # only to raise the batch path's own error, word for word

        ev.contract.check_frame(pd.DataFrame(columns=list(columns)))
    n = len(next(iter(columns.values()), []))
    rows = range(n) if rows is None else rows
    errors: list[str | None] = [None] * n
    for values in columns.values():
        if not _SCALAR_TYPES.issuperset(map(type, values)):
            for i in range(n):
                if errors[i] is None and type(values[i]) not in _SCALAR_TYPES:
                    errors[i] = str(first_non_scalar(rows[i], ((k, v[i]) for k, v in columns.items())))
    return _score(ev, {name: columns[name] for name in ev.schema.input_names}, errors, rows, outputs, explain)


def _alone_error(ev: Evaluator, record: dict[str, Any], row: Any) -> str:
    """The first contract error of a record lacking a field, as ``Evaluator.predict`` raises it."""
    try:
        ev.contract.check_record(record, row=row)
    except InputError as e:
        return str(e)
    raise AssertionError("a record without an input field passed the contract")  # pragma: no cover


def _score(ev: Evaluator, raw: dict[str, list[Any]], errors: list[str | None], rows: Sequence[Any],
           outputs: Sequence[str] | None, explain: bool = False) -> Answers:
    live = [i for i, e in enumerate(errors) if e is None]
    typed: dict[str, np.ndarray] = {}
    for rule in ev.contract.rules:
        values = raw[rule.field.name]
        if len(live) != len(values):
            values = [values[i] for i in live]
        typed[rule.field.name] = _typed_column(rule, values, live, errors, rows)
    ok = [j for j, i in enumerate(live) if errors[i] is None]
    if len(ok) != len(live):
        typed = {k: v[ok] for k, v in typed.items()}
    scored = [live[j] for j in ok]
    names = tuple(ev.result_names if outputs is None else outputs)
    results: list[dict[str, Any] | None] = [None] * len(errors)
    if scored:
        columns, failed = _evaluate(ev, typed, len(scored), names)
        for j, i in enumerate(scored):
            if failed is not None and (why := failed[j]):
                errors[i] = f"row {rows[i]}: {clip(why)}"  # backends echo values too
            else:
                results[i] = {name: columns[name][j] for name in names}
    if explain:
        from .explaining import explain_answers

        return Answers(results, errors, explain_answers(ev, typed, scored, errors))
    return Answers(results, errors)


def _typed_column(rule: FieldRule, values: list[Any], live: list[int], errors: list[str | None],
                  rows: Sequence[Any]) -> np.ndarray:
    """One field's values typed by its rule; a failing value sets its record's (first) error."""
    field = rule.field
    if _plain_number(field) and _PLAIN.issuperset(map(type, values)):
        # Numbers convert in C (None becomes NaN); only what is not a plain value of the type
        # (a missing value, a non-integer for an integer field...) goes through the rule.
        try:
            nums = np.array(values, dtype=np.float64)
        except OverflowError:  # an int beyond any float: the rule says what that is
            nums = None
        if nums is not None:
            slow = np.isnan(nums)
            if field.data_type == "integer":
                slow |= (nums != np.floor(nums)) | (nums < INT_MIN) | (nums > INT_MAX)
            elif field.data_type == "float":
                with np.errstate(over="ignore"):  # beyond float32's range is +-inf, as in Java
                    nums = nums.astype(np.float32).astype(np.float64)
            if slow.any():
                where = np.flatnonzero(slow).tolist()
                nums[where] = _by_value(rule, [values[j] for j in where], [live[j] for j in where], errors, rows)
            return nums
    return np.array(_by_value(rule, values, live, errors, rows), dtype=np.float64 if rule.numeric else object)


class _Failed:
    """A value the rule refused, with the error."""

    __slots__ = ("error",)

    def __init__(self, error: InputError):
        self.error = error


def _by_value(rule: FieldRule, values: list[Any], live: list[int], errors: list[str | None],
              rows: Sequence[Any]) -> list[Any]:
    """``values`` through ``rule``, each distinct value once; a failure becomes its record's error."""
    memo: dict[tuple[type, Any], Any] = {}  # 1, 1.0 and True are equal keys: the type keeps them apart
    out: list[Any] = []
    failed = False
    for v in values:
        key = (type(v), v)
        try:
            typed = memo[key]
        except KeyError:
            try:
                typed = rule.check(v, None)
            except InputError as e:
                typed, failed = _Failed(e), True
            memo[key] = typed
        out.append(typed)
    if failed:
        missing = math.nan if rule.numeric else None
        for j, typed in enumerate(out):
            if type(typed) is _Failed:
                i = live[j]
                if errors[i] is None:
                    errors[i] = f"row {rows[i]}: {typed.error}"
                out[j] = missing
    return out


def _evaluate(ev: Evaluator, typed: dict[str, np.ndarray], n: int,
              names: tuple[str, ...]) -> tuple[dict[str, list[Any]], list[str | None] | None]:
    """Backend results as JSON-ready lists per published result name, and the per-row backend errors."""
    fields = ev.result_fields  # the backend answers in PMML names
    if n == 1:  # the backend's record path: what Evaluator.predict answers a lone record
        record = {k: (v[0].item() if isinstance(v[0], np.generic) else v[0]) for k, v in typed.items()}
        try:
            out = ev._bounded(ev.backend.evaluate_record, record)
        except EvaluationError as e:
            return {}, [str(e)]
        return {name: [_json_value(out.get(fields[name].name), fields[name].data_type)] for name in names}, None
    results, failed = ev._bounded(ev.backend.evaluate, typed, n, None)
    return {name: _json_column(results[fields[name].name], fields[name].data_type) for name in names}, failed


def _json_column(values: Any, data_type: str) -> list[Any]:
    if data_type in ("double", "float", "integer"):
        try:
            nums = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            return [_json_value(v, data_type) for v in values]
        if data_type == "integer":
            return [int(v) if math.isfinite(v) else None for v in nums.tolist()]
        return [v if math.isfinite(v) else None for v in nums.tolist()]
    return [_json_value(v, data_type) for v in values]


def _json_value(value: Any, data_type: str) -> Any:
    """One result as its field's type in JSON: None for missing (and for NaN or infinity)."""
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if data_type in ("double", "float"):
        f = float(value)
        return f if math.isfinite(f) else None
    if data_type == "integer":
        return int(float(value))
    if data_type == "boolean":
        return value.strip().lower() in ("true", "1") if isinstance(value, str) else bool(value)
    if value is not None and type(value).__name__ == "NAType":
        return None
    return canonical_text(value)
