"""PMML built-in functions for Apply, vectorized; booleans are float 1/0 with NaN for missing."""
from __future__ import annotations

from typing import Callable
from xml.etree.ElementTree import Element

import numpy as np
import pandas as pd

from ...errors import UnsupportedElement
from .context import Ctx, Env, Expr
from .expressions import EXPRESSIONS, _with_missing, compile_expression, is_missing, typed_constant

Fn = Callable[..., np.ndarray]

def _cmp(op: Callable) -> Fn:
    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        miss = is_missing(a) | is_missing(b)
        with np.errstate(invalid="ignore"):
            out = np.array(op(a, b), dtype=np.float64)
        out[miss] = np.nan
        return out
    return run

def _logic(op: str) -> Fn:
    def run(*xs: np.ndarray) -> np.ndarray:
        stack = np.vstack(xs)
        if op == "and":  # three-valued: any false -> false, else any missing -> missing
            out = np.where((stack == 0).any(axis=0), 0.0, np.where(np.isnan(stack).any(axis=0), np.nan, 1.0))
        else:
            out = np.where((stack == 1).any(axis=0), 1.0, np.where(np.isnan(stack).any(axis=0), np.nan, 0.0))
        return out
    return run

def _if(cond: np.ndarray, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    if b is None:
        b = np.full(len(cond), np.nan) if a.dtype != object else np.full(len(cond), None, dtype=object)
    out = np.where(cond == 1, a, b)
    if out.dtype == object:
        out[np.isnan(cond)] = None
    else:
        out[np.isnan(cond)] = np.nan
    return out

def _threshold(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x) | np.isnan(t), np.nan, (x > t).astype(np.float64))

def _round(x: np.ndarray) -> np.ndarray:  # PMML/Java round half up, unlike NumPy's half to even
    return np.floor(x + 0.5)

FUNCTIONS: dict[str, Fn] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
    "min": lambda *xs: np.min(np.vstack(xs), axis=0), "max": lambda *xs: np.max(np.vstack(xs), axis=0),
    "sum": lambda *xs: np.sum(np.vstack(xs), axis=0), "avg": lambda *xs: np.mean(np.vstack(xs), axis=0),
    "product": lambda *xs: np.prod(np.vstack(xs), axis=0),
    "log10": np.log10, "ln": np.log, "sqrt": np.sqrt, "abs": np.abs, "exp": np.exp, "pow": np.power,
    "floor": np.floor, "ceil": np.ceil, "round": _round, "threshold": _threshold,
    "ln1p": np.log1p, "expm1": np.expm1, "sin": np.sin, "cos": np.cos, "tan": np.tan, "atan": np.arctan,
    "equal": _cmp(lambda a, b: a == b), "notEqual": _cmp(lambda a, b: a != b),
    "lessThan": _cmp(lambda a, b: a < b), "lessOrEqual": _cmp(lambda a, b: a <= b),
    "greaterThan": _cmp(lambda a, b: a > b), "greaterOrEqual": _cmp(lambda a, b: a >= b),
    "and": _logic("and"), "or": _logic("or"),
    "not": lambda x: np.where(np.isnan(x), np.nan, 1.0 - x),
    "isMissing": lambda x: is_missing(x).astype(np.float64),
    "isNotMissing": lambda x: (~is_missing(x)).astype(np.float64),
    "if": _if,
}
_SET = ("isIn", "isNotIn")

def _apply(el: Element, ctx: Ctx, path: str) -> Expr:
    fname = el.get("function", "")
    args = [compile_expression(c, ctx, path) for c in el if c.tag.rsplit("}", 1)[-1] != "Extension"]
    if fname in _SET:
        return _with_missing(_set_apply(fname, args), el)
    fn = FUNCTIONS.get(fname)
    if fn is None:
        raise UnsupportedElement(f"Apply function={fname!r}", path, sorted(FUNCTIONS) + list(_SET))
    default = typed_constant(el.get("defaultValue"), el.get("dataType"))
    is_value_fn = fname in ("isMissing", "isNotMissing")

    def run(env: Env) -> np.ndarray:
        values = [a(env) for a in args]
        if not is_value_fn and fname != "if" and fname not in ("equal", "notEqual"):
            values = [v.astype(np.float64) for v in values]
        with np.errstate(all="ignore"):
            out = fn(*values)
        if default is not None and out.dtype != object:
            out = np.where(np.isnan(out) & ~np.any([is_missing(v) for v in values], axis=0), default, out)
        return out
    return _with_missing(run, el)

def _set_apply(fname: str, args: list[Expr]) -> Expr:
    def run(env: Env) -> np.ndarray:
        x, *members = [a(env) for a in args]
        pool = list({m[0] for m in members if len(m)})
        out = (pd.Series(x, dtype=object).isin(pool).to_numpy(dtype=np.float64) if len(x) >= 32
               else np.array([v in pool for v in x], dtype=np.float64))
        out = out if fname == "isIn" else 1.0 - out
        out[is_missing(x)] = np.nan
        return out
    return run

EXPRESSIONS["Apply"] = _apply
