"""A model's answers on labelled rows, from the PMML itself: what the report's charts are drawn from.

The exported document is scored by the native evaluator, the very thing that will serve it,
so the report shows the served model's behaviour (labels as PMML writes them), not Spark's.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..evaluator.contract import canonical_text
from .model_report import Holdout


def task_of(evaluator: Any) -> str | None:
    """classification | regression from the model's functionName (None for the others)."""
    fn = evaluator.schema.function_name
    return fn if fn in ("classification", "regression") else None


def holdout_answers(evaluator: Any, rows: pd.DataFrame, label: str) -> Holdout | None:
    """Score ``rows`` (inputs + ``label``) and pair the answers with the true labels.

    Rows the model rejects, and rows without a label, are left out of the charts.
    """
    task = task_of(evaluator)
    targets = evaluator.schema.targets
    if task is None or not targets or label not in rows.columns or rows.empty:
        return None
    inputs = rows[[c for c in evaluator.schema.input_names if c in rows.columns]]
    out = evaluator.predict_batch(inputs, errors="column")
    keep = out[evaluator.error_column].isna().to_numpy() & rows[label].notna().to_numpy()
    predicted = out[evaluator.result_name(targets[0].name)].to_numpy()[keep]  # predicted_<target>
    actual = rows[label].to_numpy()[keep]
    if task == "regression":
        return Holdout(actual.astype(np.float64), predicted.astype(np.float64))
    probabilities = {o.value: out[o.name].to_numpy(dtype=np.float64)[keep]
                     for o in evaluator.schema.outputs if o.feature == "probability" and o.value is not None}
    return Holdout(np.array([canonical_text(v) for v in actual]), np.array([canonical_text(v) for v in predicted]),
                   probabilities or None)
