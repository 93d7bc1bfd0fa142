"""PMML4S (the engine behind pypmml) in the shared JVM."""
from __future__ import annotations

import json
from typing import Any

from .base import Results
from .jvm import JvmBackend


class PypmmlBackend(JvmBackend):
    name = "pypmml"

    def _load(self, gw: Any, jvm: Any) -> Any:
        model = jvm.org.pmml4s.model.Model.fromBytes(self.doc.raw)
        # Model chains (GBT classifiers) report probabilities only as supplementary output.
        model.setSupplementOutput(True)
        return model

    def _evaluate_slice(self, cols: dict[str, list], n_rows: int) -> tuple[Results, list[str | None] | None]:
        names = list(cols)
        payload = json.dumps({"columns": names, "data": [list(r) for r in zip(*(cols[n] for n in names))]
                              if names else [[] for _ in range(n_rows)]})
        answer = json.loads(self._model.run(lambda gw, model: model.predict(payload)))
        got = answer["columns"]
        data = answer["data"]
        results: Results = {}
        for name in self.schema.result_names:
            j = next((got.index(c) for c in self._sources(name) if c in got), None)
            results[name] = [row[j] if j is not None else None for row in data]
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
