"""The files a trained version is published with: report.html, profile.json, report.json, plots.

Spark gives what only it knows (the training rows, feature importances); the charts come from
the exported PMML scored by pmmlkit's evaluator on a holdout sample (insight.holdout).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..extras import has_extra, missing_extra

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)

PROFILE_ROWS = 100_000  # training rows profiled (a sample beyond that: deciles barely move)
HOLDOUT_ROWS = 20_000   # holdout rows scored for the charts


def version_files(pmml: bytes, *, title: str, train: DataFrame, holdout: DataFrame | None, label: str | None,
                  metrics: Mapping[str, float], rows: Mapping[str, int],
                  model: PipelineModel | None = None) -> dict[str, bytes]:
    """report.html, profile.json, report.json and plots/*.svg for the version of ``pmml``."""
    from ..evaluator import Evaluator
    from ..insight.holdout import holdout_answers, task_of
    from ..insight.model_report import report_files
    from ..insight.profile import input_columns, profile_frame
    from ..insight.store import PROFILE

    if not has_extra("report"):  # the profile still goes with the version: drift needs it
        log.warning("no training report for %s: %s", title, missing_extra("report", what="the training report"))
    with Evaluator.from_bytes(pmml, backend="native", verify=False) as ev:
        inputs = [f for f in ev.schema.inputs if f.name in train.columns]
        profile = profile_frame(_sample(train, [f.name for f in inputs], PROFILE_ROWS), input_columns(inputs))
        if not has_extra("report"):
            return {PROFILE: profile.to_json().encode("utf-8")}
        answers = None
        if holdout is not None and label is not None:
            names = [f.name for f in inputs] + ([label] if label in holdout.columns else [])
            answers = holdout_answers(ev, _sample(holdout, names, HOLDOUT_ROWS), label)
        return report_files(title, task=task_of(ev) or ev.schema.function_name, metrics=metrics, rows=rows,
                            inputs=[f.as_dict() for f in ev.schema.inputs], holdout=answers, profile=profile,
                            importances=importances(model, [f.name for f in inputs]) if model else None)


def _sample(df: DataFrame, columns: list[str], limit: int) -> Any:
    return df.select(*columns).limit(limit).toPandas()


def importances(model: PipelineModel, inputs: list[str]) -> dict[str, float] | None:
    """Per input field: a tree ensemble's featureImportances, summed over the field's vector slots.

    A slot belongs to the input its assembler column was made from (pipeline.py names them
    ``<input>__imp``, ``<input>__ohe``...; a user's pipeline may assemble inputs directly).
    Linear models: |coefficient|
    summed the same way (the features are not standardised by pmmlkit's pipelines, so this is
    a rough ranking; the report says which it shows).
    """
    last: Any = model.stages[-1] if model.stages else None
    weights = getattr(last, "featureImportances", None)
    if weights is None:
        coefficients = getattr(last, "coefficients", None)
        weights = None if coefficients is None else abs(coefficients.toArray())
    else:
        weights = weights.toArray()
    names = _slot_names(model, last, len(weights) if weights is not None else 0)
    if weights is None or names is None:
        return None
    out = {name: 0.0 for name in inputs}
    for slot, weight in zip(names, weights):
        owner = slot if slot in out else slot.rsplit("__", 1)[0]
        if owner in out:
            out[owner] += float(weight)
    return out if any(out.values()) else None


def _slot_names(model: PipelineModel, last: Any, size: int) -> list[str] | None:
    """The names of the features vector's slots, from the assembler's inputs and their sizes."""
    from pyspark.ml.feature import OneHotEncoderModel, VectorAssembler

    assembler = next((s for s in model.stages if isinstance(s, VectorAssembler)), None)
    if assembler is None:
        return None
    encoders = [s for s in model.stages if isinstance(s, OneHotEncoderModel)]
    widths: dict[str, int] = {}
    for enc in encoders:
        drop = 1 if enc.getDropLast() else 0
        for col, n in zip(enc.getOutputCols(), enc.categorySizes):
            widths[col] = n - drop
    names: list[str] = []
    for col in assembler.getInputCols():
        names += [col] * widths.get(col, 1)
    return names if len(names) == size else None
