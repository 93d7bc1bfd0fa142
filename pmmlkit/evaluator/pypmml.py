"""PMML4S (the engine behind pypmml) in the shared JVM."""
from __future__ import annotations

import json
from typing import Any

from ..errors import BackendRefusal
from ..pmml.fields import local
from ..pmml.loader import PmmlDocument
from .base import Results
from .jvm import JvmBackend

LONG_MIN = -(2 ** 63)


# Elements on which PMML4S can run for minutes on a single row (it recompiles the regular
# expressions of TextIndexNormalization for every row and term): a call would hold a thread of
# the shared JVM long after any timeout, so such documents are refused before loading.
HANGS_ON = ("TextIndexNormalization",)


class PypmmlBackend(JvmBackend):
    name = "pypmml"

    def __init__(self, doc: PmmlDocument):
        found = next((local(el.tag) for el in doc.root.iter()
                      if isinstance(el.tag, str) and local(el.tag) in HANGS_ON), None)
        if found is not None:
            raise BackendRefusal(
                f"{doc.source}: backend 'pypmml' refuses documents with <{found}>: PMML4S can run for "
                "minutes on one row of them; use backend='native' or 'jpmml'")
        super().__init__(doc)

    def _load(self, gw: Any, jvm: Any) -> Any:
        model = jvm.org.pmml4s.model.Model.fromBytes(self.doc.raw)
        # Model chains (GBT classifiers) report probabilities only as supplementary output.
        model.setSupplementOutput(True)
        return model

    def _evaluate_slice(self, cols: dict[str, list[Any]], n_rows: int) -> tuple[Results, list[str | None] | None]:
        names = list(cols)
        # One record per row, a missing value left out rather than sent as null: PMML4S reads a
        # null integer as Long.MIN_VALUE and a null boolean as false, and answers with them.
        records = [{n: v for n, v in zip(names, row) if v is not None} for row in zip(*cols.values())] \
            if names else [{} for _ in range(n_rows)]
        answer = json.loads(self._model.run(lambda gw, model: model.predict(json.dumps(records))))
        results: Results = {}
        integers = {f.name for f in (*self.schema.targets, *self.schema.outputs) if f.data_type == "integer"}
        for name in self.schema.result_names:
            sources = self._sources(name)
            values = [_first(row, sources) for row in answer]
            # PMML4S answers Long.MIN_VALUE for an integer it could not predict (a row with a
            # missing input): that is "no prediction", never a number (integers are 32-bit).
            results[name] = [None if v == LONG_MIN else v for v in values] if name in integers else values
        return results, None

    def _sources(self, name: str) -> list[str]:
        """Columns of PMML4S's answer that may carry ``name``.

        PMML4S leaves the target out when the document has an Output element: it is
        then "predicted_<target>", or only the predictedValue output field that
        stands for it.
        """
        sources = [name, f"predicted_{name}"]
        if any(t.name == name for t in self.schema.targets):
            sources += [o.name for o in self.schema.outputs
                        if o.feature == "predictedValue" and o.target_field in (None, name)]
        return sources


def _first(row: dict[str, Any], keys: list[str]) -> Any:
    """The first of ``keys`` that PMML4S answered for this row, or None."""
    return next((row[k] for k in keys if k in row), None)
