"""The record plan: one record scored on Python scalars, with the batch path's very arithmetic.

``Evaluator.predict`` pays per call what a batch pays once per chunk: Env layers, 1-row arrays
and ModelResults, ~280 Python calls. So a compiled model may have a *twin*: a function that
scores one record of typed values (as the contract hands them over) with the same operations
in the same order (Python floats are IEEE doubles as NumPy's are; exp is NumPy's own, never
math.exp, which differs in the last bit), or through the batch's own per-chunk function on a
1-row array. A twin answers None for what it does not cover (a missing number, a score where
exp could overflow, a derived field of several inputs...), and the record then takes the array
path: the plan is only ever faster, never different. tests/evaluator/test_record_exact.py (and
the Spark documents' test in tests/conformance) hold it to the batch.

A derived field of one input (JPMML-SparkML's category handling: if, isMissing, equal, isIn)
is a pure function of that input's value: the batch path remembers it per distinct value
(compile.by_distinct_values) and the plan reads that memory; the first record with a value
takes the array path, which fills it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np

from ...pmml.fields import children
from .context import NUMERIC_TYPES, Ctx
from .result import ModelResult
from .treatments import Treat, Treatment

Record = Mapping[str, Any]  # field name -> typed value: float, str or None


@dataclass
class Scored:
    """What a twin computed for one record: ModelResult's fields as Python values."""

    value: float | None = None
    labels: tuple[str, ...] = ()
    probs: list[float] | None = None  # never NaN: a twin declines such a record instead
    outputs: dict[str, Any] = field(default_factory=dict)
    index: int | None = None  # the predicted label, when not the likeliest (a tree's node score)

    def winner(self) -> int:
        """The predicted label: ``index``, else the first largest probability, as argmax picks it."""
        if self.index is not None:
            return self.index
        assert self.probs is not None  # a classification twin gives probabilities
        best = 0
        for k, p in enumerate(self.probs):
            if p > self.probs[best]:
                best = k
        return best

    def predicted(self, data_type: str | None) -> Any:
        """As ModelResult.predicted gives its one row."""
        if self.value is not None:
            return self.value
        label = self.labels[self.winner()]
        return float(label) if data_type in NUMERIC_TYPES else label


Twin = Callable[[Record], Scored | None]
Output = Callable[[Scored], Any]
Derive = Callable[[Record], Record | None]  # the record with its derived fields' values added
UNKNOWN = object()  # a derived field's value the batch path has not computed yet (no twin takes it)


def add(ctx: Ctx, core: object, twin: Twin | None) -> None:
    """Give ``core`` its twin (None: records take the array path)."""
    if twin is not None:
        ctx.twins[id(core)] = (core, twin)  # the core is kept alive with its id


def twin_of(ctx: Ctx, core: object) -> Twin | None:
    found = ctx.twins.get(id(core))
    return found[1] if found is not None else None


def add_field(ctx: Ctx, expr: object, source: str, lookup: Callable[[Any], Any]) -> None:
    """Give a derived field's ``expr``, which reads only ``source``, its value by source value (or UNKNOWN)."""
    ctx.field_twins[id(expr)] = (expr, source, lookup)  # the expr is kept alive with its id


def derive(ctx: Ctx, derived: Mapping[str, object]) -> Derive | None:
    """The ``derived`` fields (name -> expr, in document order) computed for one record, from the
    memory of the batch path; None when one of them reads several fields (no such memory)."""
    plan = []
    for name, expr in derived.items():
        found = ctx.field_twins.get(id(expr))
        if found is None:
            return None
        plan.append((name, found[1], found[2]))

    def run(fields: Record) -> Record | None:
        out = dict(fields)
        for name, source, lookup in plan:
            if source not in out:  # a field of an enclosing scope the record does not carry
                return None
            # UNKNOWN when not computed yet: a field the model may not read (the batch path
            # evaluates a branch of ``if`` only where it is taken). A twin that reads it declines,
            # as every twin declines a value that is not a float, a str or None.
            out[name] = lookup(out[source])
        return out
    return run


def model_twin(ctx: Ctx, core: object, treatments: list[tuple[str, Treatment]], derived: Mapping[str, object],
               output: Element | None, post: Callable[[ModelResult], ModelResult] | None,
               target_type: str | None, function: str | None) -> Twin | None:
    """compile_model's run for one record: MiningSchema treatments, local fields, the element's twin,
    Targets, outputs."""
    inner = twin_of(ctx, core)
    outputs = _outputs(ctx, output, target_type)
    treats = [(name, t) for name, t in treatments if isinstance(t, Treat) and t.outliers == "asIs"]
    local = derive(ctx, derived) if derived else None
    if inner is None or (derived and local is None) or outputs is None or len(treats) != len(treatments):
        return None
    fills = [(name, t.numeric, t.fill) for name, t in treats if t.fill is not None]
    regression = function == "regression"

    def run(fields: Record) -> Scored | None:
        filled = _filled(fields, fills) if fills else fields
        if filled is not None and local is not None:
            filled = local(filled)
        scored = inner(filled) if filled is not None else None
        if scored is None or (regression and scored.value is None):
            return None
        if post is not None and regression:  # the batch's own Targets code, on one row
            value = post(ModelResult(value=np.array([scored.value]))).value
            assert value is not None  # a regression result keeps its values
            scored.value = float(value[0])
        # (A classification Target only fills rows without a prediction; a twin never has one.)
        for name, fn in outputs:
            value = scored.outputs[name] = fn(scored)
            if value is UNKNOWN:
                return None
        return scored
    return run


def _filled(fields: Record, fills: list[tuple[str, bool, Any]]) -> dict[str, Any] | None:
    """The record with missingValueReplacement applied, as compile._treatment does for one row."""
    out = dict(fields)
    for name, numeric, fill in fills:
        v = out.get(name)
        if numeric:
            if type(v) is not float:
                return None
            if v != v:
                out[name] = fill
        elif v is None:
            out[name] = fill
        elif type(v) is not str:
            return None
    return out


def _outputs(ctx: Ctx, output: Element | None, target_type: str | None) -> list[tuple[str, Output]] | None:
    """Twins of compile._output_field for predictedValue and probability outputs, and for an expression
    of one earlier output (its value remembered by the batch path); None for any other."""
    out: list[tuple[str, Output]] = []
    for of in children(output, "OutputField") if output is not None else []:
        feature, dtype, value = of.get("feature", "predictedValue"), of.get("dataType"), of.get("value")
        if dtype == "float" or of.get("rank") is not None:
            return None
        found = ctx.field_twins.get(id(of))
        if feature == "predictedValue":
            out.append((of.get("name", ""), _predicted(target_type, dtype in NUMERIC_TYPES)))
        elif feature == "probability":
            out.append((of.get("name", ""), _probability(value)))
        elif found is not None and found[1] in {name for name, _ in out}:
            out.append((of.get("name", ""), _of_output(found[1], found[2])))
        else:
            return None
    return out


def _of_output(source: str, lookup: Callable[[Any], Any]) -> Output:
    def transformed(s: Scored) -> Any:
        return lookup(s.outputs[source])
    return transformed


def _predicted(target_type: str | None, numeric: bool) -> Output:
    def predicted(s: Scored) -> Any:
        v = s.predicted(target_type)
        if numeric and (v is None or isinstance(v, str)):
            return np.nan if v is None else float(v)
        return v
    return predicted


def _probability(value: str | None) -> Output:
    def probability(s: Scored) -> Any:
        if s.probs is None:
            return np.nan
        if value is None:
            return s.probs[s.winner()]
        return s.probs[s.labels.index(value)] if value in s.labels else 0.0
    return probability
