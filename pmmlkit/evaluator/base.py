"""The small interface every evaluator backend implements.

The contract (contract.py) has already checked and typed the inputs when a
backend is called, so a backend only scores. Input columns arrive as NumPy
arrays, one per input field, holding only rows that passed the contract:

- double, float, integer: float64, NaN for missing; a float field's values are already
  rounded to 32 bits (as PMML and JPMML evaluate them), an integer field's are whole numbers
  within Java's int range [-2**31, 2**31 - 1];
- boolean: float64 1.0 / 0.0, NaN for missing;
- string (and anything else): object array of ``str`` or ``None``.

A backend returns a dict keyed by the schema's ``result_names`` (PMML names: targets
first, then the final output fields) of array-likes, one value per row, ``None`` or
NaN where the model produced no value; plus an optional list of per-row error
strings (``None`` where the row scored). The facade types and orders them, and
publishes them under their user-facing names (names.py: ``predicted_<target>``).

With a batch the contract may also hand over ``levels``: for a column it checked
value by value, ``(slots, values)`` such that ``column == values[slots]``, slot 0
holding the missing value. A backend may use them to work once per distinct value
instead of once per row; ignoring them is always correct.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ..pmml.loader import PmmlDocument

Columns = dict[str, np.ndarray]
Levels = dict[str, tuple[np.ndarray, np.ndarray]]
Results = dict[str, Sequence[Any] | np.ndarray]  # array-likes, one value per row


class Scored(NamedTuple):
    """A batch's answer, row for row: typed result arrays by published name, and the failures."""

    columns: dict[str, Any]  # NumPy arrays, or pandas arrays for nullable types
    messages: np.ndarray     # object: a failed row's error message, None where the row scored
    failed: np.ndarray       # bool: the rows that have a message


class Backend(ABC):
    name: ClassVar[str]

    def __init__(self, doc: PmmlDocument):
        self.doc = doc
        self.schema = doc.schema

    @abstractmethod
    def evaluate(self, columns: Columns, n_rows: int,
                 levels: Levels | None = None) -> tuple[Results, list[str | None] | None]:
        """Score typed input columns; return result columns and per-row errors (or None)."""

    def evaluate_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """Score one typed record (values as in the columns, scalars). Override for speed."""
        cols = {k: np.array([v], dtype=object if isinstance(v, str) or v is None else np.float64)
                for k, v in record.items()}
        results, errors = self.evaluate(cols, 1)
        if errors and errors[0]:
            from ..errors import PmmlkitError
            raise PmmlkitError(errors[0])
        return {k: v[0] for k, v in results.items()}

    def close(self) -> None:  # noqa: B027 - optional hook: a backend holding nothing has nothing to release
        """Release what the backend holds (JVM objects, memory maps)."""
