"""NativeBackend: the document compiled once into NumPy array programs, then scored many times."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ...pmml.loader import PmmlDocument
from ..base import Backend, Columns, Levels, Results
from ...errors import RowEvaluationError
from .compile import compile_document
from .context import Env


class NativeBackend(Backend):
    name: ClassVar[str] = "native"

    def __init__(self, doc: PmmlDocument):
        super().__init__(doc)
        self._ctx, self._derived, self._plan = compile_document(doc.root)
        self._targets = [(t.name, t.data_type) for t in self.schema.targets]
        self._names = self.schema.result_names

    def evaluate(self, columns: Columns, n_rows: int,
                 levels: Levels | None = None) -> tuple[Results, list[str | None] | None]:
        try:
            return self._evaluate(columns, n_rows, levels), None
        except RowEvaluationError:  # rare: score row by row so that only the failing rows get an error
            return by_rows(self._evaluate, columns, n_rows, [t for t, _ in self._targets] + list(self._names))

    def _evaluate(self, columns: Columns, n_rows: int, levels: Levels | None = None) -> Results:
        env = Env(n_rows, dict(columns), self._ctx, derived=self._derived, levels=levels)
        result = self._plan(env)
        out: Results = {}
        for name, data_type in self._targets:
            out[name] = result.predicted(data_type)
        for name in self._names:
            if name not in out:
                out[name] = result.outputs[name]
        return out

    def evaluate_record(self, record: dict[str, Any]) -> dict[str, Any]:
        cols = {}
        for k, v in record.items():
            if v is None or isinstance(v, str):
                col = np.empty(1, dtype=object)
                col[0] = v
            else:
                col = np.array([v], dtype=np.float64)
            cols[k] = col
        results = self._evaluate(cols, 1)
        return {k: _scalar(v[0]) for k, v in results.items()}


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def by_rows(evaluate: Any, columns: Columns, n_rows: int,
            names: list[str]) -> tuple[Results, list[str | None]]:
    """Score each row alone; a row that fails gets its message and missing results."""
    errors: list[str | None] = [None] * n_rows
    rows: list[Results | None] = []
    for i in range(n_rows):
        try:
            rows.append(evaluate({k: v[i:i + 1] for k, v in columns.items()}, 1))
        except RowEvaluationError as e:
            rows.append(None)
            errors[i] = str(e)
    out: Results = {}
    for name in dict.fromkeys(names):
        cells = [_scalar(r[name][0]) if r is not None else None for r in rows]
        numeric = all(c is None or isinstance(c, (float, np.floating)) for c in cells)
        out[name] = (np.array([np.nan if c is None else c for c in cells], dtype=np.float64) if numeric
                     else np.array(cells, dtype=object))
    return out, errors
