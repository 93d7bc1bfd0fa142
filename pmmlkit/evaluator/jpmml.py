"""JPMML-Evaluator, the reference implementation, in the shared JVM."""
from __future__ import annotations

from typing import Any

import pandas as pd

from .base import Backend, Columns, Results
from .jvm import JvmModel, python_columns


class JpmmlBackend(Backend):
    name = "jpmml"

    def __init__(self, doc):
        super().__init__(doc)
        self._model = JvmModel(self._load)
        self._model.run(lambda gw, ev: None)

    def _load(self, gw: Any, jvm: Any) -> Any:
        from jpmml_evaluator import make_evaluator
        from jpmml_evaluator.py4j import Py4JBackend

        # make_evaluator turns Java exceptions into jpmml_evaluator.JavaError; GATEWAY.call
        # only sees Py4J errors, so convert here to keep one error type.
        try:
            return make_evaluator(self.doc.raw, backend=Py4JBackend(gw))
        except Exception as e:  # noqa: BLE001 - re-raised as our JavaError
            raise _java_error(e) from None

    def evaluate(self, columns: Columns, n_rows: int) -> tuple[Results, list[str | None] | None]:
        frame = pd.DataFrame(python_columns(columns, self.schema), index=range(n_rows), dtype=object)
        # One crossing for the whole chunk: evaluateAll pickles the columns across.
        out = self._model.run(lambda gw, ev: ev.evaluateAll(frame, error_col="errors"))
        errors = out["errors"].tolist() if "errors" in out.columns else None
        results: Results = {name: out[name].tolist() if name in out.columns else [None] * n_rows
                            for name in self.schema.result_names}
        return results, errors


def _java_error(e: Exception):
    from ..errors import JavaError

    if hasattr(e, "className"):
        return JavaError(str(e.className), str(e.message))
    return e
