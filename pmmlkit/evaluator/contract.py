"""The input contract, shared by every backend: check, coerce, treat, report per row.

Before any backend sees a value, it is converted to its DataField's dataType
following PMML's rules, missing and invalid values are treated as the
MiningField says, and every value that breaks the contract becomes a per-row
error naming the row, the field, the value and what was expected. Backends
receive typed columns (see base.py) and never guess.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import (
    QUOTE_ITEMS,
    InputError,
    InvalidValueError,
    MissingFieldError,
    TypeConversionError,
    quote,
    quote_list,
)
from ..pmml.fields import NUMERIC_TYPES as NUMERIC
from ..pmml.fields import InputField, ModelSchema, to_float32
from .base import Levels
from .textcolumns import (
    Factorized,
    as_text,
    factorize_object_columns,
    factorize_objects,
    factorize_text,
    is_text,
    parse_decimals,
    plain_text,
)

# dataType="integer" is a Java int in JPMML-Evaluator (the reference): wider values are
# refused there, wrapped by PMML4S and kept by NumPy, so the contract refuses them for all.
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1
INT_RANGE = f"is outside the range of dataType integer [{INT_MIN}, {INT_MAX}] (a 32-bit int)"
_TRUE = {"true", "1", "1.0"}
_FALSE = {"false", "0", "0.0"}


def canonical_text(value: Any) -> str:
    """PMML's canonical text of a value: 1.0 and "1" both meet the category "1"."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return str(int(f)) if f.is_integer() and abs(f) < 1e16 else repr(f)
    return str(value)


def is_missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class FieldRule:
    """How one input field is checked and converted."""

    field: InputField

    @property
    def numeric(self) -> bool:
        return self.field.data_type in NUMERIC or self.field.data_type == "boolean"

    def _expected_type(self) -> str:
        t = self.field.data_type
        return {"boolean": "is not a boolean; expected true/false or 1/0",
                "integer": "is not an integer; expected type integer"}.get(t, f"is not a number; expected type {t}")

    def coerce(self, value: Any, row: int | None) -> Any:
        """One non-missing value to its typed form (float for numerics, str otherwise).

        A float field's value is rounded to 32 bits, as PMML and JPMML evaluate it.
        """
        t = self.field.data_type
        if t == "boolean":
            text = canonical_text(value).strip().lower()
            if text in _TRUE:
                return 1.0
            if text in _FALSE:
                return 0.0
            raise TypeConversionError(row, self.field.name, value, self._expected_type())
        if t in NUMERIC:
            return self._number(value, row)
        if t in ("date", "dateTime"):
            try:
                ts = pd.Timestamp(value)
            except (TypeError, ValueError):
                raise TypeConversionError(row, self.field.name, value, f"is not a {t}; expected ISO 8601") from None
            return ts.date().isoformat() if t == "date" else ts.isoformat()
        return canonical_text(value)

    def _number(self, value: Any, row: int | None) -> float:
        t = self.field.data_type
        if isinstance(value, (bool, np.bool_)):
            raise TypeConversionError(row, self.field.name, value, self._expected_type())
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise TypeConversionError(row, self.field.name, value, self._expected_type()) from None
        except OverflowError:  # an int beyond any float: out of every numeric type's range
            f = math.inf if value > 0 else -math.inf
        if math.isnan(f) or (t == "integer" and not f.is_integer() and not math.isinf(f)):
            raise TypeConversionError(row, self.field.name, value, self._expected_type())
        if t == "integer" and not INT_MIN <= (value if isinstance(value, int) else f) <= INT_MAX:
            raise TypeConversionError(row, self.field.name, value, INT_RANGE)
        return to_float32(f) if t == "float" else f

    def _is_valid(self, typed: Any) -> bool:
        # Values compare as values of the field's type: 1 meets an integer field's "1.0".
        f = self.field
        if f.values:
            return typed in f.valid_set
        if f.intervals and self.numeric:
            return any(i.contains(typed) for i in f.intervals)
        if f.invalid_values:
            return typed not in f.invalid_set
        return True

    def _invalid_reason(self) -> str:
        f = self.field
        # Bounded: the message is repeated for every bad row (responses, rejects files).
        if f.values:
            more = "; see the model's metadata for all" if len(f.values) > QUOTE_ITEMS else ""
            return f"is not one of {quote_list(f.values)}{more}"
        if f.intervals:
            more = f" or {len(f.intervals) - QUOTE_ITEMS} more" if len(f.intervals) > QUOTE_ITEMS else ""
            return "is outside " + " or ".join(str(i) for i in f.intervals[:QUOTE_ITEMS]) + more
        return "is declared invalid for this field"

    def _declared_missing(self, value: Any) -> bool:
        """Is a non-empty value one of the field's missing-value markers (as text or as a value)?"""
        f = self.field
        if not f.missing_values:
            return False
        if canonical_text(value) in f.missing_values:
            return True
        try:
            return self.coerce(value, None) in f.missing_set
        except InputError:
            return False

    def replacement(self, kind: str, value: Any = None, row: int | None = None) -> Any:
        """The MiningField's replacement of a missing (or invalid) ``value``, typed like the field.

        A replacement that is not of the field's type ("50.1" for an integer) fails the rows that
        need it, as in JPMML-Evaluator (NumberFormatException); the other rows score as usual.
        """
        f = self.field
        text = f.missing_value_replacement if kind == "missing" else f.invalid_value_replacement
        if text is None:
            return None
        if f.data_type in ("double", "float") and text.strip() == "NaN":
            return math.nan  # Java parses "NaN": JPMML scores the row as a missing value
        try:
            return self.coerce(text, None)  # a string field's "__unknown" (a keep bucket) is text
        except InputError:
            attr = "missingValueReplacement" if kind == "missing" else "invalidValueReplacement"
            state = "is missing" if kind == "missing" else "is invalid"
            raise TypeConversionError(
                row, f.name, value, f"{state}, and the model's {attr} {quote(text)} "
                f"{self._expected_type()}: this row cannot be scored (JPMML-Evaluator refuses it too); "
                f"send a valid value or fix {attr} in the PMML") from None

    def check(self, value: Any, row: int | None) -> Any:
        """One raw value to its typed, treated form; raises InputError."""
        f = self.field
        if is_missing(value) or self._declared_missing(value):
            return self._treat_missing(value, row)
        treatment = f.invalid_value_treatment
        try:
            typed = self.coerce(value, row)
        except TypeConversionError:
            # A value that is not of the field's type (2.5 or 2**31 for an integer) is an
            # invalid value, as in JPMML: asMissing/asValue treat it, the others refuse it.
            if treatment in ("asMissing", "asValue"):
                return self._treat_invalid(treatment, value, row)
            raise
        if self._is_valid(typed):
            return typed
        if treatment == "asIs":
            return typed
        if treatment in ("asMissing", "asValue"):
            return self._treat_invalid(treatment, value, row)
        raise InvalidValueError(row, f.name, value, self._invalid_reason())

    def _treat_invalid(self, treatment: str, value: Any, row: int | None) -> Any:
        if treatment == "asMissing":
            return self._treat_missing(None, row)
        return self.replacement("invalid", value, row)

    def _treat_missing(self, value: Any, row: int | None) -> Any:
        f = self.field
        if f.missing_value_treatment == "returnInvalid":
            raise MissingFieldError(row, f.name, value, f"is missing; the model requires a value of type {f.data_type}")
        replaced = self.replacement("missing", value, row)
        if replaced is not None:
            return replaced
        return math.nan if self.numeric else None


@dataclass(frozen=True)
class Prepared:
    """The outcome of checking a batch: typed columns of the good rows, errors of the bad."""

    columns: dict[str, np.ndarray]
    ok: np.ndarray                  # bool mask over the input rows
    errors: dict[int, str]          # position in the batch -> message
    levels: Levels                  # columns checked value by value, as (slots, values); see base.py

    def rows(self, start: int, stop: int) -> Prepared:
        """The batch's rows [start, stop) as a batch of their own: their good rows' columns and
        levels, their errors numbered from ``start``."""
        first = int(np.count_nonzero(self.ok[:start]))
        last = first + int(np.count_nonzero(self.ok[start:stop]))
        return Prepared({k: v[first:last] for k, v in self.columns.items()}, self.ok[start:stop],
                        {i - start: m for i, m in self.errors.items() if start <= i < stop},
                        {k: (slots[first:last], values) for k, (slots, values) in self.levels.items()})


class Contract:
    """The input contract of one model."""

    def __init__(self, schema: ModelSchema):
        self.schema = schema
        self.rules = tuple(FieldRule(f) for f in schema.inputs)
        self._plain = tuple(_plain_value(f) for f in schema.inputs)

    def check_record(self, record: dict[str, Any], *, row: int | None = None) -> dict[str, Any]:
        """Typed record for a backend; raises the first InputError."""
        out: dict[str, Any] = {}
        for rule, plain in zip(self.rules, self._plain):
            name = rule.field.name
            if name not in record:
                raise MissingFieldError(row, name, None, f"is absent; expected a field of type {rule.field.data_type} "
                                        "(send null for a missing value)")
            value = record[name]
            # A plain value (a number, a valid category) skips the rules: the record path's cost.
            kind, members, convert = plain
            out[name] = convert(value) if type(value) is kind and value in members else rule.check(value, row)
        return out

    def check_frame(self, df: pd.DataFrame, *, threads: int = 1) -> Prepared:
        """Check every row of a batch; bad rows are reported, not raised.

        With ``threads`` > 1 the text columns are factorised first, a column per thread (native
        threads that read the strings in place while this one keeps the GIL); the rest of the
        check, and every answer, is that of one thread.
        """
        self._require_columns(list(df.columns))
        done = self._factorize_text_columns(df, threads) if threads > 1 else {}

        def check(rule: FieldRule, errors: dict[int, str], levels: Levels) -> np.ndarray:
            name = rule.field.name
            return self._column(rule, df[name], df.index, errors, levels, done.get(name))
        return self._checked(check, len(df))

    def _factorize_text_columns(self, df: pd.DataFrame, threads: int) -> dict[str, Factorized]:
        """(codes, distinct values) of each text column of ``df`` that ``_column`` factorises in
        one compiled pass; columns it cannot take so are left out (``_column`` does its own)."""
        names = [rule.field.name for rule in self.rules
                 if df[rule.field.name].dtype == object and not _plain_number(rule.field)]
        found = factorize_object_columns([df[name].to_numpy() for name in names], threads)
        return {name: factorized for name, factorized in zip(names, found) if factorized is not None}

    def check_table(self, table: pa.Table, labels: np.ndarray) -> Prepared:
        """``check_frame`` for an Arrow table whose rows are numbered ``labels`` (the same answers).

        Text columns (all of a CSV's) are parsed and factorised by Arrow, per column; only values
        that are not plain decimal numbers, and each distinct category once, meet Python.
        Columns of other types take check_frame's path.
        """
        self._require_columns(table.column_names)

        def check(rule: FieldRule, errors: dict[int, str], levels: Levels) -> np.ndarray:
            col = table.column(rule.field.name)
            if is_text(col.type):
                return self._text_column(rule, col, labels, errors, levels)
            return self._column(rule, col.to_pandas(), labels, errors, levels)
        return self._checked(check, table.num_rows)

    def _checked(self, check: Any, n: int) -> Prepared:
        """Every rule's ``check(rule, errors, levels)`` in order; a row that breaks several rules
        keeps the first rule's message (checks only ``setdefault`` into ``errors``)."""
        errors: dict[int, str] = {}  # the first failure of each bad row, by position
        levels: Levels = {}
        typed = {rule.field.name: check(rule, errors, levels) for rule in self.rules}
        return _prepared(typed, n, errors, levels)

    def _require_columns(self, columns: list[Any]) -> None:
        absent = [r.field.name for r in self.rules if r.field.name not in columns]
        if absent:
            raise MissingFieldError(None, absent[0], None,
                                    f"is absent from the input columns {quote_list(columns)}; "
                                    f"the model needs {quote_list(self.schema.input_names)}")
        twice = [r.field.name for r in self.rules if columns.count(r.field.name) > 1]
        if twice:  # which of them would be the field's value?
            raise InvalidValueError(None, twice[0], None,
                                    f"names {columns.count(twice[0])} input columns; give the field one column")

    def _column(self, rule: FieldRule, col: pd.Series, labels: Any, errors: dict[int, str],
                levels: Levels, factorized: Factorized | None = None) -> np.ndarray:
        raw = col.to_numpy() if col.dtype == object and not _plain_number(rule.field) else None
        if factorized is None and raw is not None:
            factorized = factorize_objects(raw)
        if factorized is not None:  # str and missing values only, in one compiled pass
            return self._levels(rule, factorized, labels, errors, levels, raw=raw)
        text = as_text(col) if col.dtype == object else None
        if text is not None:  # strings (and missing values) only: Arrow parses them, 2-5x faster
            return self._text_column(rule, text, labels, errors, levels)
        if not _plain_number(rule.field) or pd.api.types.is_bool_dtype(col.dtype):
            return self._levels(rule, pd.factorize(col, use_na_sentinel=True), labels, errors, levels)
        # Numbers parse in C; only what does not parse as a number (missing values,
        # typos, non-integers for integer fields) goes through the per-value rules.
        numeric = pd.api.types.is_numeric_dtype(col.dtype)
        if numeric:
            nums = col.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            nums = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            # to_numeric reads True/False as 1/0; predict refuses a boolean for a number field,
            # so here it takes the per-value rules too rather than scoring as 1.0 / 0.0.
            nums[np.fromiter((isinstance(v, (bool, np.bool_)) for v in col), bool, len(col))] = np.nan
        return self._numbers(rule, nums, lambda slow: pd.factorize(col[slow], use_na_sentinel=True),
                             labels, errors, all_numbers=numeric)

    def _text_column(self, rule: FieldRule, col: pa.ChunkedArray, labels: np.ndarray, errors: dict[int, str],
                     levels: Levels) -> np.ndarray:
        text = plain_text(col)
        if not _plain_number(rule.field):
            return self._levels(rule, factorize_text(text), labels, errors, levels)
        return self._numbers(rule, parse_decimals(text), lambda slow: factorize_text(text.filter(pa.array(slow))),
                             labels, errors, all_numbers=False)

    def _levels(self, rule: FieldRule, factorized: tuple[np.ndarray, Any], labels: Any, errors: dict[int, str],
                levels: Levels, *, raw: np.ndarray | None = None) -> np.ndarray:
        """The typed column, ``values[slots]``; ``raw`` (the object column factorised) stands in for it
        when it holds the same values: every row's text is valid and typed as itself, none missing.
        Building ``values[slots]`` is a GIL-bound pass over every row (~0.3 ms per 100k rows and
        column), which threads cannot share. The column handed over is then the caller's array."""
        slots, values = self._by_value(rule, factorized, labels, errors)
        levels[rule.field.name] = (slots, values)
        uniques = factorized[1]
        if (raw is not None and raw.ndim == 1 and len(raw) == len(slots) and isinstance(uniques, list)
                and all(values[j + 1] is u for j, u in enumerate(uniques)) and not (slots == 0).any()):
            return raw  # equal to values[slots] row for row: each row's str equals its level's
        column: np.ndarray = values[slots]
        return column

    def _numbers(self, rule: FieldRule, nums: np.ndarray, factorize_slow: Any, labels: Any,
                 errors: dict[int, str], *, all_numbers: bool) -> np.ndarray:
        """A numeric field from values parsed in C (NaN where they did not parse).

        ``factorize_slow(mask)`` factorises the raw values of the rows in ``mask``, which go
        through the per-value rules; ``all_numbers`` says the raw column was numeric already.
        """
        typed = _typed_numbers(rule, nums, all_numbers=all_numbers)
        if typed is not None:
            return typed
        slow = np.isnan(nums)
        if rule.field.data_type == "integer":
            slow |= (nums != np.floor(nums)) | (nums < INT_MIN) | (nums > INT_MAX)
        elif rule.field.data_type == "float":
            with np.errstate(over="ignore"):  # beyond float32's range is +-inf, as in Java
                nums = nums.astype(np.float32).astype(np.float64)
        if not slow.any():
            return nums
        nums = nums.copy()
        if all_numbers and np.isnan(nums[slow]).all():
            # Only plain missing numbers: one treatment serves them all (unless a missing
            # value is an error, whose message must name each row: the path below).
            with contextlib.suppress(InputError):
                nums[slow] = rule.check(None, None)
                return nums
        slots, values = self._by_value(rule, factorize_slow(slow), labels[slow], errors, np.flatnonzero(slow))
        nums[slow] = values[slots]
        return nums

    def _by_value(self, rule: FieldRule, factorized: tuple[np.ndarray, Any], labels: Any, errors: dict[int, str],
                  positions: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Check each distinct value once: (slots, typed values), a row's value is values[slot].

        ``factorized`` is (codes, uniques), code -1 for a missing value; ``positions`` are the
        rows' positions in the whole batch, which key ``errors`` (None: the rows are the batch).
        """
        codes, uniques = factorized
        candidates = [None, *(uniques.tolist() if hasattr(uniques, "tolist") else uniques)]  # code -1 is slot 0
        results = np.empty(len(candidates), dtype=np.float64 if rule.numeric else object)
        failures: dict[int, InputError] = {}
        for j, v in enumerate(candidates):
            if j == 0 and not (codes < 0).any():
                results[0] = math.nan if rule.numeric else None
                continue
            try:
                results[j] = rule.check(v, None)
            except InputError as e:
                results[j] = math.nan if rule.numeric else None
                failures[j] = e
        slots = codes + 1
        if failures:
            for i in np.flatnonzero(np.isin(slots, list(failures))):
                at = int(positions[i]) if positions is not None else int(i)
                errors.setdefault(at, f"row {_row(labels[i])}: {failures[slots[i]]}")
        return slots, results


def _prepared(typed: dict[str, np.ndarray], n: int, errors: dict[int, str], levels: Levels) -> Prepared:
    ok = np.ones(n, dtype=bool)
    if not errors:
        return Prepared(typed, ok, errors, levels)
    ok[list(errors)] = False
    return Prepared({k: v[ok] for k, v in typed.items()}, ok, errors,
                    {k: (slots[ok], values) for k, (slots, values) in levels.items()})


class _AnyNumber:
    """Every float but NaN (which is a missing value)."""

    def __contains__(self, value: float) -> bool:
        return value == value


def _plain_value(f: InputField) -> tuple[type | None, Any, Any]:
    """(type, values, convert) such that FieldRule.check(v) is convert(v) for a v of that type in
    values: a float (not NaN) of a plain double or float field, a valid category of a string field."""
    if f.missing_values or f.invalid_values or f.intervals or f.values and f.data_type != "string":
        return None, (), None
    if f.data_type in ("double", "float"):
        return float, _AnyNumber(), to_float32 if f.data_type == "float" else _same
    if f.data_type == "string":
        return str, frozenset(v for v in f.valid_set if v) if f.values else _AnyText(), _same
    return None, (), None


def _same(value: Any) -> Any:
    return value


class _AnyText:
    def __contains__(self, value: str) -> bool:
        return value != ""


_KINDS = {"double": 0, "float": 1, "integer": 2}  # ckernels.numbers' kinds


def _typed_numbers(rule: FieldRule, nums: np.ndarray, *, all_numbers: bool) -> np.ndarray | None:
    """``Contract._numbers``' answer in one compiled pass (GIL released) when no value needs the
    per-value rules: every value is one the field takes, or a missing number that one treatment
    serves. None otherwise, or without the compiled kernels: then NumPy's passes decide."""
    from .native import compiled

    ckernels = compiled.kernels()
    if ckernels is None:
        return None
    fill, served = math.nan, all_numbers  # what replaces a missing number, if one value serves them all
    if served:
        try:
            fill = float(rule.check(None, None))
        except InputError:  # a missing value is an error: each row's message comes from the rules
            served = False
    out = np.empty(len(nums))
    missing, other = ckernels.numbers(np.ascontiguousarray(nums, dtype=np.float64), _KINDS[rule.field.data_type],
                                      fill, out)
    return None if other or (missing and not served) else out


def _plain_number(f: InputField) -> bool:
    return (f.data_type in NUMERIC and not f.values and not f.intervals and not f.invalid_values
            and not f.missing_values)


def _row(label: Any) -> Any:
    return int(label) if isinstance(label, (int, np.integer)) else label
