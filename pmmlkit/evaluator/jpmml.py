"""JPMML-Evaluator, the reference implementation, in the shared JVM."""
from __future__ import annotations

from typing import Any

import pandas as pd

from .base import Results
from .jvm import JvmBackend


class JpmmlBackend(JvmBackend):
    name = "jpmml"

    def _load(self, gw: Any, jvm: Any) -> Any:
        from jpmml_evaluator import make_evaluator
        from jpmml_evaluator.py4j import Py4JBackend

        # make_evaluator turns Java exceptions into jpmml_evaluator.JavaError; GATEWAY.call
        # only sees Py4J errors, so convert here to keep one error type.
        try:
            return make_evaluator(self.doc.raw, backend=Py4JBackend(gw))
        except Exception as e:  # noqa: BLE001 - re-raised as our JavaError
            raise _java_error(e) from None

    def _evaluate_slice(self, cols: dict[str, list[Any]], n_rows: int) -> tuple[Results, list[str | None] | None]:
        frame = pd.DataFrame(cols, index=range(n_rows), dtype=object)
        # One crossing per slice: evaluateAll pickles the columns across.
        out = self._model.run(lambda gw, ev: ev.evaluateAll(frame, error_col="errors"))
        errors = out["errors"].tolist() if "errors" in out.columns else None
        results: Results = {name: out[name].tolist() if name in out.columns else [None] * n_rows
                            for name in self.schema.result_names}
        return results, errors


def _java_error(e: Exception) -> Exception:
    """jpmml_evaluator's JavaError (className, message) as pmmlkit's JavaError; anything else as is."""
    from ..errors import JavaError

    if hasattr(e, "className"):
        return JavaError(str(e.className), str(getattr(e, "message", e)))
    return e
