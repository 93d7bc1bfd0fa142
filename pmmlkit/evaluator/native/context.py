"""Compile-time field typing and the run-time column environment of a native plan."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ...errors import InvalidPmmlError
from ...pmml.fields import to_float32
from ..base import Levels
from .supported import parse_number

NUMERIC_TYPES = ("double", "float", "integer", "boolean")
Column = np.ndarray


class Ctx:
    """What compilers share: field data types and the category codes of string fields."""

    def __init__(self) -> None:
        self.types: dict[str, str] = {}
        self.vocab: dict[str, dict[str, int]] = {}
        self.values: dict[str, tuple[str, ...]] = {}  # valid values of DataFields, in document order
        self.trees = 0  # trees the compiled descent walks per row, over every forest of the document
        self.sum_terms = 0  # terms the compiled running sums add per row (neural layers, support vector machines)
        self.twins: dict[int, tuple[object, Callable[..., Any]]] = {}  # id(core) -> (core, its record twin)
        # id(expr) -> (expr, its one source field, the field's value for a source value), recordplan.derive
        self.field_twins: dict[int, tuple[object, str, Callable[[Any], Any]]] = {}

    def is_numeric(self, field: str) -> bool:
        return self.types.get(field, "string") in NUMERIC_TYPES

    def encode(self, field: str, value: str) -> float:
        """A PMML value as the number the field is compared on: itself, or its category code."""
        data_type = self.types.get(field)
        if data_type == "boolean":
            text = value.strip().lower()
            return 1.0 if text in ("true", "1", "1.0") else 0.0 if text in ("false", "0", "0.0") else \
                self._number(field, value)
        if data_type == "float":  # JPMML compares float fields in 32 bits: 0.1 means float32(0.1)
            return to_float32(self._number(field, value))
        if self.is_numeric(field):
            return self._number(field, value)
        codes = self.vocab.setdefault(field, {})
        return float(codes.setdefault(value, len(codes)))


    @staticmethod
    def _number(field: str, value: str) -> float:
        try:
            return parse_number(value, "value", f"field {field!r}")
        except InvalidPmmlError as e:
            raise InvalidPmmlError(f"{e} (the field {field!r} is numeric, so every value compared "
                                   "with it must be a number)") from None


Expr = Callable[["Env"], Column]


class Env:
    """Columns by field name; derived fields are computed on first use, category codes cached.

    ``levels`` are the contract's factorisations of input columns (see base.py). Each is kept
    with the column it describes and only ever used for that very column, not for a treated
    copy of it further down.
    """

    def __init__(self, n: int, cols: dict[str, Column], ctx: Ctx, *,
                 derived: dict[str, Expr] | None = None, parent: Env | None = None,
                 levels: Levels | None = None):
        self.n = n
        self.cols = cols
        self.ctx = ctx
        self.derived = derived or {}
        self.parent = parent
        self._levels: dict[str, tuple[Column, Column, Column]] = (
            {name: (cols[name], slots, values) for name, (slots, values) in levels.items()} if levels
            else parent._levels if parent is not None else {})
        self._codes: dict[str, Column] = {}

    def levels_of(self, name: str, col: Column) -> tuple[Column, Column] | None:
        """(slots, values) with ``col == values[slots]``, when the contract factorised this column."""
        found = self._levels.get(name)
        return (found[1], found[2]) if found is not None and found[0] is col else None

    def get(self, name: str) -> Column:
        env: Env | None = self
        while env is not None:  # a loop, not a call per level: records pass 3 or 4 levels
            col = env.cols.get(name)
            if col is not None:
                return col
            expr = env.derived.get(name)
            if expr is not None:
                col = env.cols[name] = expr(env)
                return col
            env = env.parent
        raise KeyError(name)

    def all_derived(self) -> dict[str, Expr]:
        """Derived-field expressions visible here, the nearest definition winning."""
        chain = self.parent.all_derived() if self.parent is not None else {}
        return {**chain, **self.derived}

    def set_codes(self, name: str, codes: Column) -> None:
        """The category codes of ``name``, known to whoever computed the field (saves ``num`` the lookup)."""
        self._codes[name] = codes

    def num(self, name: str) -> Column:
        """The field as float64: numbers as they are, strings as category codes (-1 unseen, NaN missing)."""
        if self.ctx.is_numeric(name):
            return self.get(name)
        col = self._codes.get(name)
        if col is None:
            values = self.get(name)
            # Codes cached where the column lives (a derived field may have set them cheaply).
            owner = self._owner(name)
            col = owner._codes.get(name) if owner is not None else None
            if col is None:
                vocab = self.ctx.vocab.get(name, {})
                found = self.levels_of(name, values)
                col = category_codes(found[1], vocab)[found[0]] if found else category_codes(values, vocab)
            self._codes[name] = col
        return col

    def _owner(self, name: str) -> Env | None:
        env: Env | None = self
        while env is not None and name not in env.cols and name not in env.derived:
            env = env.parent
        return env


def category_codes(values: Column, vocab: dict[str, int]) -> Column:
    if values.dtype != object:
        values = np.array([None if v != v else _str(v) for v in values], dtype=object)
    if len(values) < 32:  # pandas costs ~10 µs per call; a dict lookup wins for records
        return np.array([np.nan if v is None else vocab.get(v, -1) for v in values], dtype=np.float64)
    # Each distinct value is looked up once; code -1 (missing) picks the trailing NaN.
    slots, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.array([vocab.get(u, -1) for u in uniques] + [np.nan], dtype=np.float64)[slots]


def _str(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))
