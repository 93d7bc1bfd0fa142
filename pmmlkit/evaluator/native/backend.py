"""NativeBackend: the document compiled once into NumPy array programs, then scored many times."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ...pmml.loader import PmmlDocument
from ..base import Backend, Columns, Levels, Results
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
        env = Env(n_rows, dict(columns), self._ctx, derived=self._derived, levels=levels)
        result = self._plan(env)
        out: Results = {}
        for name, data_type in self._targets:
            out[name] = result.predicted(data_type)
        for name in self._names:
            if name not in out:
                out[name] = result.outputs[name]
        return out, None

    def evaluate_record(self, record: dict[str, Any]) -> dict[str, Any]:
        cols = {}
        for k, v in record.items():
            if v is None or isinstance(v, str):
                col = np.empty(1, dtype=object)
                col[0] = v
            else:
                col = np.array([v], dtype=np.float64)
            cols[k] = col
        results, _ = self.evaluate(cols, 1)
        return {k: _scalar(v[0]) for k, v in results.items()}


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
