"""PMML built-in functions for Apply, vectorised, with JPMML-Evaluator's missing-value rules.

Columns are float64 (numbers; booleans as 1/0; NaN = missing) or object (strings; None =
missing). JPMML-Evaluator 1.7 treats a missing argument in one of three ways, copied here:
arithmetic (+ - * / modulo) answers missing; the aggregates (min, max, sum, avg, product)
and concat skip it; every other function fails the row (MissingArgumentException). A NaN
result fails the row too ("returned invalid value") unless the Apply says
invalidValueTreatment="asMissing". Row failures raise RowEvaluationError; the backend then
scores the batch row by row so that only the failing rows carry an error.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np
import pandas as pd

from ...errors import RowEvaluationError, UnsupportedElement
from ...pmml.fields import local
from . import dates, normal, text
from .context import Ctx, Env, Expr
from .expressions import EXPRESSIONS, UserFunction, compile_expression, data_type_of, full, is_missing, typed_constant

Fn = Callable[..., np.ndarray]
Mapped = Callable[[np.ndarray | None, np.ndarray, int], np.ndarray]  # mapMissingTo: (kept rows' out, keep, n)
PROPAGATE, SKIP, STRICT, OWN = "propagate", "skip", "strict", "own"


@dataclass(frozen=True)
class Builtin:
    """One function: its NumPy body, how it treats missing arguments, its arity and result type."""

    fn: Fn
    missing: str = STRICT          # PROPAGATE | SKIP | STRICT | OWN (the body handles missing itself)
    arity: tuple[int, int] = (1, 1)
    result: str = "double"         # "double", "integer", "boolean", "string", or "common" (of the arguments)
    strings: bool = False          # arguments stay as they are (strings), not converted to numbers


def _stack(xs: tuple[np.ndarray, ...]) -> np.ndarray:
    return np.vstack([np.asarray(x, dtype=np.float64) for x in xs])


def _aggregate(reduce: Fn) -> Fn:
    def run(*xs: np.ndarray) -> np.ndarray:
        stack = _stack(xs)
        with warnings.catch_warnings():  # a column of missing values only: handled below
            warnings.simplefilter("ignore", RuntimeWarning)
            out = reduce(stack, axis=0)
        return np.where(np.isnan(stack).all(axis=0), np.nan, out)  # every argument missing: missing
    return run


def _cmp(op: Callable[[Any, Any], Any]) -> Fn:
    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.dtype == object or b.dtype == object:  # strings compare as strings, as JPMML does
            return np.array([op(x, y) for x, y in zip(a.tolist(), b.tolist())], dtype=np.float64)
        return op(a, b).astype(np.float64)
    return run


def _java_round(x: np.ndarray) -> np.ndarray:  # Math.round: half up, unlike NumPy's half to even
    return np.floor(x + 0.5)


def _is_in(x: np.ndarray, *members: np.ndarray) -> np.ndarray:
    # JPMML: a missing value is in no set (isIn false, isNotIn true), never an error.
    pool = list({m[0] for m in members if len(m) and not is_missing(m[:1])[0]})
    if x.dtype != object:
        pool = [float(v) for v in pool]
    return pd.Series(x, dtype=object).isin(pool).to_numpy(dtype=np.float64)


FUNCTIONS: dict[str, Builtin] = {
    "+": Builtin(np.add, PROPAGATE, (2, 2), "common"),
    "-": Builtin(np.subtract, PROPAGATE, (2, 2), "common"),
    "*": Builtin(np.multiply, PROPAGATE, (2, 2), "common"),
    "/": Builtin(np.divide, PROPAGATE, (2, 2), "common"),
    "modulo": Builtin(lambda a, b: a - np.floor(a / b) * b, PROPAGATE, (2, 2), "common"),
    "min": Builtin(_aggregate(np.nanmin), SKIP, (1, 1 << 30), "common"),
    "max": Builtin(_aggregate(np.nanmax), SKIP, (1, 1 << 30), "common"),
    "sum": Builtin(_aggregate(np.nansum), SKIP, (1, 1 << 30), "common"),
    "avg": Builtin(_aggregate(np.nanmean), SKIP, (1, 1 << 30), "double"),
    "product": Builtin(_aggregate(np.nanprod), SKIP, (1, 1 << 30), "common"),
    "log10": Builtin(np.log10), "ln": Builtin(np.log), "sqrt": Builtin(np.sqrt), "exp": Builtin(np.exp),
    "ln1p": Builtin(np.log1p), "expm1": Builtin(np.expm1), "abs": Builtin(np.abs, result="common"),
    "pow": Builtin(np.power, arity=(2, 2), result="common"),
    "hypot": Builtin(np.hypot, arity=(2, 2)), "x-atan2": Builtin(np.arctan2, arity=(2, 2)),
    "threshold": Builtin(lambda x, t: (x > t).astype(np.float64), arity=(2, 2), result="common"),
    "floor": Builtin(np.floor, result="integer"), "ceil": Builtin(np.ceil, result="integer"),
    "round": Builtin(_java_round, result="integer"), "rint": Builtin(np.rint, result="common"),
    "sin": Builtin(np.sin), "cos": Builtin(np.cos), "tan": Builtin(np.tan), "asin": Builtin(np.arcsin),
    "acos": Builtin(np.arccos), "atan": Builtin(np.arctan), "sinh": Builtin(np.sinh),
    "cosh": Builtin(np.cosh), "tanh": Builtin(np.tanh), "erf": Builtin(normal.erf),
    "stdNormalCDF": Builtin(normal.cdf), "stdNormalPDF": Builtin(normal.pdf), "stdNormalIDF": Builtin(normal.idf),
    "normalCDF": Builtin(normal.cdf, arity=(3, 3)), "normalPDF": Builtin(normal.pdf, arity=(3, 3)),
    "normalIDF": Builtin(normal.idf, arity=(3, 3)),
    "equal": Builtin(_cmp(lambda a, b: a == b), arity=(2, 2), result="boolean", strings=True),
    "notEqual": Builtin(_cmp(lambda a, b: a != b), arity=(2, 2), result="boolean", strings=True),
    "lessThan": Builtin(_cmp(lambda a, b: a < b), arity=(2, 2), result="boolean", strings=True),
    "lessOrEqual": Builtin(_cmp(lambda a, b: a <= b), arity=(2, 2), result="boolean", strings=True),
    "greaterThan": Builtin(_cmp(lambda a, b: a > b), arity=(2, 2), result="boolean", strings=True),
    "greaterOrEqual": Builtin(_cmp(lambda a, b: a >= b), arity=(2, 2), result="boolean", strings=True),
    "and": Builtin(lambda *xs: _stack(xs).min(axis=0), arity=(2, 1 << 30), result="boolean"),
    "or": Builtin(lambda *xs: _stack(xs).max(axis=0), arity=(2, 1 << 30), result="boolean"),
    "not": Builtin(lambda x: 1.0 - x, result="boolean"),
    "isMissing": Builtin(lambda x: is_missing(x).astype(np.float64), OWN, result="boolean", strings=True),
    "isNotMissing": Builtin(lambda x: (~is_missing(x)).astype(np.float64), OWN, result="boolean", strings=True),
    # The input contract has already made every invalid value missing or replaced it.
    "isValid": Builtin(lambda x: (~is_missing(x)).astype(np.float64), OWN, result="boolean", strings=True),
    "isNotValid": Builtin(lambda x: is_missing(x).astype(np.float64), OWN, result="boolean", strings=True),
    "isIn": Builtin(_is_in, OWN, (2, 1 << 30), "boolean", strings=True),
    "isNotIn": Builtin(lambda *a: 1.0 - _is_in(*a), OWN, (2, 1 << 30), "boolean", strings=True),
    "if": Builtin(np.where, OWN, (2, 3), "then", strings=True),  # compiled by _lazy_if, not this body
}


def _prepared(*_: np.ndarray) -> np.ndarray:  # pragma: no cover - the body comes from text.prepare
    raise AssertionError("string function bodies are built by text.prepare")


FUNCTIONS.update({name: Builtin(_prepared, missing, arity, result, strings=True)
                  for name, (arity, result, missing) in text.STRING_FUNCTIONS_SPECS.items()})
FUNCTIONS.update({name: Builtin(body, STRICT, (arity, arity), "integer", strings=True)
                  for name, (body, arity) in dates.BODIES.items()})
# The date or dateTime types each date function reads as its first argument (JPMML's asLocalDate...).
_DATE_ARGUMENT = {"dateDaysSinceYear": ("date", "dateTime"), "dateSecondsSinceYear": ("dateTime",),
                  "dateSecondsSinceMidnight": ("dateTime",)}
_INTEGER_EXACT = {"+", "-", "*", "/", "modulo"}  # Java int arithmetic when both arguments are integers


def result_type(el: Element, ctx: Ctx) -> str:
    """The data type JPMML gives an Apply's result (integer division, float rounding depend on it)."""
    fname = el.get("function", "")
    user = ctx_functions(ctx).get(fname)
    if user is not None:
        return user.data_type
    spec = FUNCTIONS.get(fname)
    args = _args(el)
    if spec is None:
        return "double"
    if spec.result == "then":
        return data_type_of(args[1], ctx) if len(args) > 1 else "double"
    if spec.result == "common":
        return _common([data_type_of(a, ctx) for a in args])
    return spec.result


def _common(types: list[str]) -> str:
    kinds = set(types) - {"boolean"}
    if kinds and kinds <= {"integer"}:
        return "integer"
    if kinds and kinds <= {"integer", "float"}:
        return "float"
    return "double"


def _args(el: Element) -> list[Element]:
    return [c for c in el if local(c.tag) != "Extension"]


def ctx_functions(ctx: Ctx) -> dict[str, UserFunction]:
    """The document's DefineFunctions, compiled once (see expressions.define_functions)."""
    return getattr(ctx, "functions", {})


def _apply(el: Element, ctx: Ctx, path: str) -> Expr:
    fname = el.get("function", "")
    args_el = _args(el)
    user = ctx_functions(ctx).get(fname)
    if user is not None:
        fn = user.bind([data_type_of(c, ctx) for c in args_el], path)
        return _user_call(fn, [compile_expression(c, ctx, path) for c in args_el], el)
    spec = FUNCTIONS.get(fname)
    if spec is None:
        raise UnsupportedElement(f"Apply function={fname!r}", path, sorted(FUNCTIONS))
    lo, hi = spec.arity
    if not lo <= len(args_el) <= hi:
        raise UnsupportedElement(f"Apply function={fname!r} with {len(args_el)} arguments", path,
                                 [f"{lo} to {hi} arguments" if hi < 1 << 30 else f"{lo} or more arguments"])
    arg_types = [data_type_of(c, ctx) for c in args_el]
    if fname in _DATE_ARGUMENT and arg_types[0] not in _DATE_ARGUMENT[fname]:
        raise UnsupportedElement(f"Apply function={fname!r} on a {arg_types[0]} value", path,
                                 [f"a {t} field" for t in _DATE_ARGUMENT[fname]])
    args = [compile_expression(c, ctx, path) for c in args_el]
    if fname == "if":
        return _lazy_if(args, el)
    body = text.prepare(fname, args_el, arg_types, path) if fname in text.STRING_FUNCTIONS_SPECS else spec.fn
    return _call(fname, spec, body, args, arg_types, result_type(el, ctx), el)


def _call(fname: str, spec: Builtin, body: Fn, args: list[Expr], arg_types: list[str], out_type: str,
          el: Element) -> Expr:
    integer = fname in _INTEGER_EXACT and out_type == "integer"
    texts = fname in text.STRING_FUNCTIONS_SPECS
    mapped = _map_missing(el)

    def run(env: Env) -> np.ndarray:
        values = [a(env) for a in args]
        missing = np.any([is_missing(v) for v in values], axis=0)
        if mapped is not None and missing.any():  # JPMML: the function is not applied at all
            return _map_rows(mapped, env, ~missing, run)
        if texts:
            values = [text.as_text(v, t) if text.wants_text(fname, i) else v
                      for i, (v, t) in enumerate(zip(values, arg_types))]
        elif not spec.strings:
            values = [as_number(v, fname, i) for i, v in enumerate(values)]
        if spec.missing == STRICT:
            check_present(fname, values)
        if integer:
            return _integer_arithmetic(fname, *values)
        with np.errstate(all="ignore"):
            out = body(*values)
        if out.dtype == object:
            return out
        if spec.missing == PROPAGATE and missing.any():
            out = np.where(missing, np.nan, out)
        invalid = np.isnan(out) & ~missing if spec.missing in (PROPAGATE, SKIP) else np.isnan(out)
        if invalid.any():
            out = _invalid(fname, out, invalid, el)
        if out_type == "float":
            out = out.astype(np.float32).astype(np.float64)
        if spec.result == "integer":
            check_int_range(fname, out)
        return out
    return _with_default(run, el)


def _user_call(fn: Callable[[int, list[np.ndarray]], np.ndarray], args: list[Expr], el: Element) -> Expr:
    """A DefineFunction call; mapMissingTo answers for rows with a missing argument, as for a built-in."""
    mapped = _map_missing(el)

    def run(env: Env) -> np.ndarray:
        values = [a(env) for a in args]
        if mapped is not None:
            missing = np.any([is_missing(v) for v in values], axis=0)
            if missing.any():
                return _map_rows(mapped, env, ~missing, run)
        return fn(env.n, values)
    return _with_default(run, el)


def _map_missing(el: Element) -> Mapped | None:
    value = el.get("mapMissingTo")
    if value is None:
        return None
    fill = typed_constant(value, None)

    def mapped(out: np.ndarray | None, keep: np.ndarray, n: int) -> np.ndarray:
        res = full(n, fill)
        if out is not None:
            if out.dtype == object or isinstance(fill, str):
                res = res.astype(object)
            res[keep] = out
        return res
    return mapped


def _map_rows(mapped: Mapped, env: Env, keep: np.ndarray, run: Expr) -> np.ndarray:
    """mapMissingTo where a row's argument is missing; ``run`` computes the ``keep`` rows only."""
    return mapped(_call_rows(env, keep, run) if keep.any() else None, keep, env.n)


def _invalid(fname: str, out: np.ndarray, invalid: np.ndarray, el: Element) -> np.ndarray:
    if el.get("invalidValueTreatment") != "asMissing":
        raise RowEvaluationError(f"function {fname!r} returned an invalid value (NaN), which JPMML-Evaluator "
                                 "refuses too; set invalidValueTreatment=\"asMissing\" on the Apply to get "
                                 "a missing value instead")
    return out  # already NaN: missing


def _with_default(expr: Expr, el: Element) -> Expr:
    """defaultValue: the value where the function answered missing (not where it failed)."""
    default = typed_constant(el.get("defaultValue"), None)
    if default is None:
        return expr

    def run(env: Env) -> np.ndarray:
        out = expr(env)
        miss = is_missing(out)
        if miss.any():
            out = out.astype(object) if isinstance(default, str) or out.dtype == object else out.copy()
            out[miss] = default
        return out
    return run


def _lazy_if(args: list[Expr], el: Element) -> Expr:
    """if(cond, then[, else]): JPMML evaluates only the branch taken, so only its failures count."""
    mapped = _map_missing(el)

    def run(env: Env) -> np.ndarray:
        cond = as_number(args[0](env), "if", 0)
        miss = np.isnan(cond)
        if miss.any():
            if mapped is not None:
                return _map_rows(mapped, env, ~miss, run)
            check_present("if", [cond])
        take = cond == 1
        then = _branch(env, args[1], take)
        other = _branch(env, args[2], ~take) if len(args) > 2 else None
        if other is None:
            other = full(env.n, None if then is not None and then.dtype == object else np.nan)
        if then is None:
            then = full(env.n, None if other.dtype == object else np.nan)
        if then.dtype == object or other.dtype == object:
            then, other = then.astype(object), other.astype(object)
        out = np.where(take, then, other)
        if mapped is not None:  # a missing branch value also maps
            bad = is_missing(out)
            if bad.any():
                return mapped(out[~bad], ~bad, env.n)
        return out
    return _with_default(run, el)


def _branch(env: Env, arg: Expr, rows: np.ndarray) -> np.ndarray | None:
    if not rows.any():
        return None
    if rows.all():
        return arg(env)
    try:
        return arg(env)
    except RowEvaluationError:  # a failure on a row of the other branch does not count
        return _call_rows(env, rows, arg, spread=True)


def _call_rows(env: Env, rows: np.ndarray, expr: Expr, *, spread: bool = False) -> np.ndarray:
    """``expr`` on the given rows only (an Env over those rows); spread back to all rows on request."""
    sub = subset_env(env, rows)
    out = expr(sub)
    if not spread:
        return out
    res = full(env.n, None if out.dtype == object else np.nan)
    if out.dtype == object:
        res = res.astype(object)
    res[rows] = out
    return res


def subset_env(env: Env, rows: np.ndarray) -> Env:
    """The same fields over a subset of rows: columns computed so far are cut, the rest recomputed."""
    chain: list[Env] = []
    e: Env | None = env
    while e is not None:
        chain.append(e)
        e = e.parent
    cols: dict[str, np.ndarray] = {}
    for e in reversed(chain):  # farthest first, so the nearest definition wins
        for k in e.derived:
            cols.pop(k, None)
        cols.update({k: v[rows] for k, v in e.cols.items()})
    derived = {k: v for k, v in env.all_derived().items() if k not in cols}
    return Env(int(rows.sum()), cols, env.ctx, derived=derived)


def _integer_arithmetic(fname: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Java int arithmetic: division truncates toward zero, modulo is floorMod, /0 fails the row."""
    missing = np.isnan(a) | np.isnan(b)
    zero = (b == 0) & ~missing
    if fname in ("/", "modulo") and zero.any():
        raise RowEvaluationError(f"function {fname!r} divided the integer {a[zero][0]:.0f} by zero, "
                                 "which JPMML-Evaluator refuses too", rows=zero)
    with np.errstate(all="ignore"):
        if fname == "/":
            out = np.trunc(a / b)
        elif fname == "modulo":
            out = np.mod(a, b)
        else:
            out = {"+": np.add, "-": np.subtract, "*": np.multiply}[fname](a, b)
    return np.where(missing, np.nan, out)


def as_number(col: np.ndarray, fname: str, position: int) -> np.ndarray:
    if col.dtype != object:
        return col
    out = pd.to_numeric(pd.Series(col, dtype=object), errors="coerce").to_numpy(np.float64)
    bad = np.isnan(out) & ~is_missing(col)
    if bad.any():
        raise RowEvaluationError(f"function {fname!r} needs a number at argument {position + 1}, "
                                 f"got {col[bad][0]!r}", rows=bad)
    return out


def check_present(fname: str, values: list[np.ndarray]) -> None:
    missing = [is_missing(v) for v in values]
    for i, m in enumerate(missing):
        if m.any():  # the rows: those missing any argument (the backend scores them one by one)
            rows = np.logical_or.reduce(missing) if all(np.shape(x) == np.shape(m) for x in missing) else None
            raise RowEvaluationError(f"function {fname!r} cannot take a missing value at argument {i + 1} "
                                     "(JPMML-Evaluator refuses it too); give the field a value or a "
                                     "missingValueReplacement", rows=rows)


def check_int_range(fname: str, out: np.ndarray) -> None:
    big = np.abs(out) > 2147483647
    if big.any():
        raise RowEvaluationError(f"function {fname!r} gave {out[big][0]:.17g}, beyond the 32-bit integer "
                                 "range (JPMML-Evaluator fails such rows with 'Integer overflow')", rows=big)


EXPRESSIONS["Apply"] = _apply
