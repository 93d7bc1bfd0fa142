"""Targets/Target: a model's result post-processed as PMML 4.4 and JPMML-Evaluator's TargetUtil do.

Regression: a missing prediction takes TargetValue/@defaultValue, then the value is clamped
to [min, max], multiplied by rescaleFactor, shifted by rescaleConstant and cast (castInteger);
last it takes the target field's data type (float: 32 bits). Classification: a row with no
prediction takes the TargetValue priorProbability distribution (normalised to sum 1).
JPMML-SkLearn writes gradient boosting this way: rescaleFactor is the learning rate and
rescaleConstant the initial score.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import overload
from xml.etree.ElementTree import Element

import numpy as np

from ...errors import InvalidPmmlError, RowEvaluationError, UnsupportedElement
from ...pmml.fields import child, children
from .result import ModelResult

Post = Callable[[ModelResult], ModelResult]
Number = float | np.float32  # np.float32 under x-mathContext="float"
_CASTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "round": lambda v: np.floor(v + 0.5),  # Java Math.round: half up, unlike NumPy
    "ceiling": np.ceil, "floor": np.floor}


def compile_targets(model: Element, target: str | None, data_type: str | None, path: str, *,
                    float_math: bool = False) -> Post | None:
    """The post-processing of a model's Targets (and its target's data type), or None."""
    function = model.get("functionName")
    targets = child(model, "Targets")
    found = children(targets, "Target") if targets is not None else []
    path = f"{path}/Targets/Target"
    if len(found) > 1:
        raise UnsupportedElement("more than one Target", path, ["one Target for the model's target field"])
    spec = found[0] if found else None
    if spec is not None and spec.get("field") not in (None, target):
        raise UnsupportedElement(f"Target field={spec.get('field')!r} (the model's target is {target!r})", path)
    if function == "regression":
        return _regression(spec, data_type, path, float_math)
    if spec is None:
        return None
    if function == "classification":
        return _classification(spec, path)
    raise UnsupportedElement(f"Targets in a model with functionName={function!r}", path, ["regression",
                                                                                         "classification"])


def _regression(spec: Element | None, data_type: str | None, path: str, float_math: bool) -> Post | None:
    to_float32 = data_type == "float"
    if spec is None:
        return _as_float32 if to_float32 else _as_integer if data_type == "integer" else None
    values = children(spec, "TargetValue")
    if any(v.get("value") is not None or v.get("priorProbability") is not None for v in values) \
            or len(values) > 1:
        raise UnsupportedElement("TargetValue value/priorProbability in a regression model", path,
                                 ["one TargetValue with defaultValue"])
    default: Number | None = _number(values[0], "defaultValue") if values else None
    low: Number | None = _number(spec, "min")
    high: Number | None = _number(spec, "max")
    factor: Number = _number(spec, "rescaleFactor", 1.0)
    constant: Number = _number(spec, "rescaleConstant", 0.0)
    cast = _CASTS.get(spec.get("castInteger", ""))
    if float_math:  # JPMML's float context: every step in 32 bits, constants too
        low, high, default = (None if c is None else np.float32(c) for c in (low, high, default))
        factor, constant = np.float32(factor), np.float32(constant)

    def post(r: ModelResult) -> ModelResult:
        assert r.value is not None  # the result of a regression model has values
        v = r.value.astype(np.float32) if float_math else r.value
        if default is not None:
            v = np.where(np.isnan(v), default, v)
        if low is not None or high is not None:
            v = np.clip(v, low, high)  # NaN stays NaN
        if factor != 1.0:
            v = v * factor
        if constant != 0.0:
            v = v + constant
        if cast is not None:
            v = cast(v)
        r.value = v.astype(np.float32).astype(np.float64) if to_float32 else v.astype(np.float64)
        return _as_integer(r) if data_type == "integer" else r
    return post


def _as_float32(r: ModelResult) -> ModelResult:
    assert r.value is not None  # the result of a regression model has values
    r.value = r.value.astype(np.float32).astype(np.float64)
    return r


def _as_integer(r: ModelResult) -> ModelResult:
    """An integer target takes only whole numbers: JPMML refuses the row otherwise (TypeCheckException)."""
    assert r.value is not None  # the result of a regression model has values
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(r.value) & (r.value != np.floor(r.value))
    if bad.any():
        raise RowEvaluationError(f"the prediction {float(r.value[bad][0])!r} is not a whole number, but the target "
                                 "field has dataType=\"integer\" (round it with Target castInteger)", rows=bad)
    return r


def _classification(spec: Element, path: str) -> Post | None:
    for attr in ("min", "max", "rescaleFactor", "rescaleConstant", "castInteger"):
        if spec.get(attr) is not None:
            raise UnsupportedElement(f"Target {attr} in a classification model", path, ["TargetValue"])
    values = children(spec, "TargetValue")
    if not values:
        return None
    if any(v.get("value") is None or v.get("priorProbability") is None or v.get("defaultValue") is not None
           for v in values):
        raise UnsupportedElement("TargetValue without value and priorProbability in a classification model",
                                 path, ["TargetValue value priorProbability"])
    priors = {v.get("value", ""): _number(v, "priorProbability", np.nan) for v in values}  # all given (above)
    total = sum(priors.values())
    if total == 0:
        raise InvalidPmmlError(f"the TargetValue priorProbability values at {path} sum to 0; "
                               "they must give a probability distribution")

    def post(r: ModelResult) -> ModelResult:
        none = r.winner() < 0
        if not none.any():
            return r
        labels = r.labels + tuple(lab for lab in priors if lab not in r.labels)
        probs = np.zeros((len(none), len(labels)))
        if r.probs is not None:
            probs[:, :len(r.labels)] = r.probs
        probs[none] = [priors.get(lab, 0.0) / total for lab in labels]
        return ModelResult(labels=labels, probs=probs, outputs=r.outputs, affinity=r.affinity)
    return post


@overload
def _number(el: Element, attr: str, default: float) -> float: ...
@overload
def _number(el: Element, attr: str, default: None = None) -> float | None: ...
def _number(el: Element, attr: str, default: float | None = None) -> float | None:
    text = el.get(attr)
    return default if text is None else float(text)  # checked by the strict walk (supported.py)
