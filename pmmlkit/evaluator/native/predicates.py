"""Predicates evaluated over whole columns: float 1 (true), 0 (false), NaN (unknown)."""
from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np

from ...errors import UnsupportedElement
from ...pmml.fields import child, local
from .context import Ctx, Env, Expr

SUPPORTED = ("True", "False", "SimplePredicate", "SimpleSetPredicate", "CompoundPredicate")
ORDER_OPS = ("lessThan", "lessOrEqual", "greaterThan", "greaterOrEqual")
COMPARE = {"equal": np.equal, "notEqual": np.not_equal, "lessThan": np.less, "lessOrEqual": np.less_equal,
           "greaterThan": np.greater, "greaterOrEqual": np.greater_equal}


def predicate_element(node: Element) -> Element | None:
    return next((c for c in node if local(c.tag) in SUPPORTED or local(c.tag).endswith("Predicate")), None)


def set_values(el: Element) -> list[str]:
    arr = child(el, "Array")
    text = (arr.text or "") if arr is not None else ""
    import shlex
    return shlex.split(text) if '"' in text else text.split()


def compile_predicate(el: Element, ctx: Ctx, path: str) -> Expr:
    kind = local(el.tag)
    path = f"{path}/{kind}"
    if kind in ("True", "False"):
        value = 1.0 if kind == "True" else 0.0
        return lambda env: np.full(env.n, value)
    if kind == "SimplePredicate":
        field, op = el.get("field", ""), el.get("operator", "")
        if op in ("isMissing", "isNotMissing"):
            want = op == "isMissing"
            return lambda env: (np.isnan(env.num(field)) == want).astype(np.float64)
        if op not in COMPARE or (op in ORDER_OPS and not ctx.is_numeric(field)):
            raise UnsupportedElement(f"SimplePredicate operator={op!r} on field {field!r}", path, list(COMPARE))
        value, fn = ctx.encode(field, el.get("value", "")), COMPARE[op]

        def simple(env: Env) -> np.ndarray:
            x = env.num(field)
            return np.where(np.isnan(x), np.nan, fn(x, value).astype(np.float64))
        return simple
    if kind == "SimpleSetPredicate":
        field = el.get("field", "")
        codes = np.array([ctx.encode(field, v) for v in set_values(el)])
        inside = el.get("booleanOperator", "isIn") == "isIn"

        def in_set(env: Env) -> np.ndarray:
            x = env.num(field)
            return np.where(np.isnan(x), np.nan, (np.isin(x, codes) == inside).astype(np.float64))
        return in_set
    if kind == "CompoundPredicate":
        op = el.get("booleanOperator", "and")
        parts = [compile_predicate(c, ctx, path) for c in el if local(c.tag) != "Extension"]
        return lambda env: combine(op, [p(env) for p in parts])
    raise UnsupportedElement(kind, path, SUPPORTED)


# The same comparisons on Python floats (IEEE doubles, as NumPy's): a record's twin of compile_predicate.
_RECORD_COMPARE = {"equal": operator.eq, "notEqual": operator.ne, "lessThan": operator.lt,
                   "lessOrEqual": operator.le, "greaterThan": operator.gt, "greaterOrEqual": operator.ge}
RecordPredicate = Callable[[Mapping[str, Any]], float | None]  # 1.0, 0.0, NaN; None: not covered


def record_predicate(el: Element, ctx: Ctx) -> RecordPredicate | None:
    """compile_predicate's value for one record of typed values, for a simple or set test of a numeric
    field (a tree's test the descent cannot take as a threshold); None for any other predicate."""
    kind, field = local(el.tag), el.get("field", "")
    if kind not in ("SimplePredicate", "SimpleSetPredicate") or not ctx.is_numeric(field):
        return None
    if kind == "SimplePredicate":
        fn = _RECORD_COMPARE.get(el.get("operator", ""))
        if fn is None:
            return None
        value = ctx.encode(field, el.get("value", ""))
        test: Callable[[float], bool] = lambda x: bool(fn(x, value))  # noqa: E731 - one of two tests
    else:
        codes = [ctx.encode(field, v) for v in set_values(el)]
        inside = el.get("booleanOperator", "isIn") == "isIn"
        test = lambda x: any(x == c for c in codes) == inside  # noqa: E731 - np.isin's equality

    def run(fields: Mapping[str, Any]) -> float | None:
        x = fields.get(field)
        if type(x) is not float:
            return None
        return np.nan if x != x else float(test(x))
    return run


def combine(op: str, values: list[np.ndarray]) -> np.ndarray:
    stack = np.vstack(values)
    unknown = np.isnan(stack).any(axis=0)
    if op == "and":
        return np.where((stack == 0).any(axis=0), 0.0, np.where(unknown, np.nan, 1.0))
    if op == "or":
        return np.where((stack == 1).any(axis=0), 1.0, np.where(unknown, np.nan, 0.0))
    if op == "xor":
        return np.where(unknown, np.nan, np.nansum(stack, axis=0) % 2)
    if op == "surrogate":  # first part that is not unknown decides
        out = np.full(stack.shape[1], np.nan)
        for row in stack[::-1]:
            out = np.where(np.isnan(row), out, row)
        return out
    raise UnsupportedElement(f"CompoundPredicate booleanOperator={op!r}", "", ["and", "or", "xor", "surrogate"])
