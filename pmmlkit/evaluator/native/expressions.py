"""Derived-field expressions compiled to functions of an Env: FieldRef, Apply, NormContinuous..."""
from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import numpy as np
import pandas as pd

from ...errors import UnsupportedElement
from ...pmml.fields import child, children, is_number, local
from .context import NUMERIC_TYPES, Ctx, Env, Expr

Compiler = Callable[[Element, Ctx, str], Expr]
EXPRESSIONS: dict[str, Compiler] = {}


def compile_expression(el: Element, ctx: Ctx, path: str) -> Expr:
    name = local(el.tag)
    compiler = EXPRESSIONS.get(name)
    if compiler is None:
        raise UnsupportedElement(name, f"{path}/{name}", sorted(EXPRESSIONS))
    return compiler(el, ctx, f"{path}/{name}")


def expression_of(parent: Element, ctx: Ctx, path: str) -> Expr:
    """The one expression element inside a DerivedField / OutputField."""
    for c in parent:
        if local(c.tag) not in ("Extension", "Value", "Interval", "Decisions", "ParameterField"):
            return compile_expression(c, ctx, path)
    raise UnsupportedElement("(no expression)", path, sorted(EXPRESSIONS))


def typed_constant(text: str | None, data_type: str | None) -> float | str | None:
    if text is None:
        return None
    if data_type == "boolean":  # booleans are 1/0 columns; PMML writes them true/false (or 1/0)
        flag = text.strip().lower()
        if flag in ("true", "false"):
            return 1.0 if flag == "true" else 0.0
    if data_type in NUMERIC_TYPES or (data_type is None and is_number(text)):
        return float(text)
    return text


def full(n: int, value: float | str | None) -> np.ndarray:
    if value is None or isinstance(value, str):
        out = np.empty(n, dtype=object)
        out[:] = value
        return out
    return np.full(n, float(value))


def is_missing(col: np.ndarray) -> np.ndarray:
    if col.dtype == object:
        return pd.isna(col)  # None or NaN, in C
    return np.isnan(col)


def _with_missing(expr: Expr, el: Element, fields: list[str] | None = None) -> Expr:
    """mapMissingTo: the value an expression takes where an input field is missing (JPMML: not applied).

    Only a missing *input* maps; a missing result from a present input (no bin, no table row, an
    outlier made missing) stays missing. ``fields`` are the inputs; None means the result itself.
    """
    fill = el.get("mapMissingTo")
    if fill is None:
        return expr
    value = typed_constant(fill, el.get("dataType"))

    def run(env: Env) -> np.ndarray:
        col = expr(env)
        miss = is_missing(col) if fields is None else np.any([is_missing(env.get(f)) for f in fields], axis=0)
        if miss.any():
            col = col.astype(object) if isinstance(value, str) else col.copy()
            col[miss] = value
        return col
    return run


def _constant(el: Element, ctx: Ctx, path: str) -> Expr:
    dtype = el.get("dataType")
    # <Constant dataType="string"></Constant> is the empty string, not a missing value (as in JPMML).
    text = ("" if dtype == "string" else None) if el.text is None else \
        (el.text if dtype == "string" else el.text.strip())
    value = typed_constant(text, dtype)
    if el.get("missing") == "true":
        value = None if el.get("dataType") not in NUMERIC_TYPES else np.nan
    return lambda env: full(env.n, value)


def _field_ref(el: Element, ctx: Ctx, path: str) -> Expr:
    name = el.get("field", "")
    return _with_missing(lambda env: env.get(name), el)


def _norm_discrete(el: Element, ctx: Ctx, path: str) -> Expr:
    name, code = el.get("field", ""), ctx.encode(el.get("field", ""), el.get("value", ""))

    def run(env: Env) -> np.ndarray:
        x = env.num(name)
        return np.where(np.isnan(x), np.nan, (x == code).astype(np.float64))
    return _with_missing(run, el, [name])


def _norm_continuous(el: Element, ctx: Ctx, path: str) -> Expr:
    name, outliers = el.get("field", ""), el.get("outliers", "asIs")
    pts = [(float(p.get("orig", "0")), float(p.get("norm", "0"))) for p in children(el, "LinearNorm")]
    orig, norm = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])

    def run(env: Env) -> np.ndarray:
        x = env.num(name)
        y = np.interp(x, orig, norm)  # clamps outside the range: asExtremeValues
        if outliers == "asIs":  # extrapolate with the first / last segment's slope
            lo, hi = x < orig[0], x > orig[-1]
            s0 = (norm[1] - norm[0]) / (orig[1] - orig[0])
            s1 = (norm[-1] - norm[-2]) / (orig[-1] - orig[-2])
            y = np.where(lo, norm[0] + (x - orig[0]) * s0, np.where(hi, norm[-1] + (x - orig[-1]) * s1, y))
        elif outliers == "asMissingValues":
            y = np.where((x < orig[0]) | (x > orig[-1]), np.nan, y)
        return np.where(np.isnan(x), np.nan, y)
    return _with_missing(run, el, [name])


def _discretize(el: Element, ctx: Ctx, path: str) -> Expr:
    name, dtype = el.get("field", ""), el.get("dataType")
    bins = []
    for b in children(el, "DiscretizeBin"):
        i = child(b, "Interval")
        lo = float(i.get("leftMargin", "-inf")) if i is not None else -np.inf
        hi = float(i.get("rightMargin", "inf")) if i is not None else np.inf
        closure = i.get("closure", "closedClosed") if i is not None else "closedClosed"
        bins.append((lo, hi, closure, typed_constant(b.get("binValue"), dtype)))
    default = typed_constant(el.get("defaultValue"), dtype)
    numeric = all(not isinstance(b[3], str) for b in bins) and not isinstance(default, str)

    def run(env: Env) -> np.ndarray:
        x = env.get(name)
        out = full(env.n, np.nan if numeric and default is None else default)
        todo = ~np.isnan(x)
        for lo, hi, closure, value in bins:
            inside = ((x > lo) if closure.startswith("open") else (x >= lo)) & \
                     ((x < hi) if closure.endswith("Open") else (x <= hi)) & todo
            out[inside] = value
            todo &= ~inside
        out[np.isnan(x)] = np.nan if numeric else None  # a missing input is missing, not the default
        return out
    return _with_missing(run, el, [name])


def _map_values(el: Element, ctx: Ctx, path: str) -> Expr:
    pairs = [(p.get("field", ""), p.get("column", "").split(":", 1)[-1]) for p in children(el, "FieldColumnPair")]
    out_col, dtype = el.get("outputColumn", "").split(":", 1)[-1], el.get("dataType")
    table = child(el, "InlineTable")
    if table is None:
        raise UnsupportedElement("TableLocator", f"{path}/TableLocator", ["InlineTable"])
    mapping: dict[tuple[float, ...], object] = {}
    for row in children(table, "row"):
        cells = {local(c.tag): (c.text or "") for c in row}
        if all(col in cells for _, col in pairs) and out_col in cells:
            key = tuple(ctx.encode(f, cells[col]) for f, col in pairs)
            mapping.setdefault(key, typed_constant(cells[out_col], dtype))
    default = typed_constant(el.get("defaultValue"), dtype)
    numeric = dtype in NUMERIC_TYPES

    def run(env: Env) -> np.ndarray:
        xs = [env.num(f) for f, _ in pairs]
        keys = np.column_stack(xs) if len(xs) > 1 else xs[0][:, None]
        out = full(env.n, np.nan if numeric and default is None else default)
        miss = np.isnan(keys).any(axis=1)
        if env.n < 32:  # a record or a few: plain dict lookups beat any array machinery
            looked = np.array([mapping.get(tuple(k), default) for k in keys.tolist()],
                              dtype=np.float64 if numeric else object)
            out[~miss] = looked[~miss]
            out[miss] = np.nan if numeric else None
            return out
        if keys.shape[1] == 1:  # hash-based: far cheaper than np.unique's sort on big batches
            inv, first = pd.factorize(keys[:, 0], use_na_sentinel=False)
            uniq = first[:, None]
        else:
            uniq, inv = np.unique(keys, axis=0, return_inverse=True)
        values = [mapping.get(tuple(u), default) for u in uniq]
        looked = np.array(values, dtype=np.float64 if numeric else object)[inv.reshape(-1)]
        out[~miss] = looked[~miss]
        out[miss] = np.nan if numeric else None
        return out
    return _with_missing(run, el, [f for f, _ in pairs])


_INTEGER = re.compile(r"[+-]?\d+")


def constant_type(el: Element) -> str:
    """A Constant's data type: declared, else inferred from its text as JPMML does (integer, double, string)."""
    declared = el.get("dataType")
    if declared is not None:
        return declared
    text = (el.text or "").strip()
    return "integer" if _INTEGER.fullmatch(text) else "double" if is_number(text) else "string"


def data_type_of(el: Element, ctx: Ctx) -> str:
    """The data type of an expression's value, where JPMML's arithmetic depends on it."""
    name = local(el.tag)
    if name == "Constant":
        return constant_type(el)
    if name == "FieldRef":
        return ctx.types.get(el.get("field", ""), "string")
    if name in ("NormContinuous", "NormDiscrete"):
        return "double"
    if name in ("Discretize", "MapValues"):
        return el.get("dataType", "string")
    if name == "TextIndex":
        return "double" if el.get("localTermWeights") == "logarithmic" else "integer"
    if name == "Apply":
        from .functions import result_type
        return result_type(el, ctx)
    return "double"


def cast(col: np.ndarray, to: str | None, have: str) -> np.ndarray:
    """A value refined to a declared data type (ParameterField, DefineFunction), as JPMML refines it."""
    from .functions import as_number
    from .text import as_text
    if to is None or to == have:
        return col
    if to == "string":
        return as_text(col, have)
    col = as_number(col, "(a user function)", 0)
    return col.astype(np.float32).astype(np.float64) if to == "float" else col


@dataclass
class UserFunction:
    """A DefineFunction: its parameters (name, data type) and body, compiled on first call."""

    name: str
    data_type: str
    params: list[tuple[str, str | None]]
    element: Element
    ctx: Ctx
    path: str
    body: Expr | None = None

    def compiled(self) -> Expr:
        if self.body is None:
            inner = copy.copy(self.ctx)  # the body sees only its parameters, typed as declared
            inner.types = {**self.ctx.types, **{p: t or "string" for p, t in self.params}}
            self.body = _placeholder  # a function calling itself is refused, not recursed into
            self.body = expression_of(self.element, inner, self.path)
        elif self.body is _placeholder:
            raise UnsupportedElement(f"DefineFunction {self.name!r} calling itself", self.path)
        return self.body

    def bind(self, arg_types: list[str], path: str) -> Callable[[int, list[np.ndarray]], np.ndarray]:
        """The function for one call site: argument values in, result column out."""
        if len(arg_types) != len(self.params):
            raise UnsupportedElement(f"Apply function={self.name!r} with {len(arg_types)} arguments", path,
                                     [f"{len(self.params)} arguments, as its DefineFunction declares"])
        body, ctx, out_type = self.compiled(), self.ctx, self.data_type

        def run(n: int, values: list[np.ndarray]) -> np.ndarray:
            cols = {p: cast(v, t, at) for (p, t), v, at in zip(self.params, values, arg_types)}
            out = body(Env(n, cols, ctx))
            return out if out.dtype == object or out_type != "float" else out.astype(np.float32).astype(np.float64)
        return run


def _placeholder(env: Env) -> np.ndarray:  # pragma: no cover - never called
    raise AssertionError


def define_functions(td: Element | None, ctx: Ctx, path: str) -> None:
    """Register the TransformationDictionary's DefineFunctions on ``ctx`` (compiled when first called)."""
    functions = {}
    for df in children(td, "DefineFunction") if td is not None else []:
        name = df.get("name", "")
        params = [(p.get("name", ""), p.get("dataType")) for p in children(df, "ParameterField")]
        functions[name] = UserFunction(name, df.get("dataType", "double"), params, df, ctx,
                                       f"{path}/DefineFunction[@name={name!r}]")
    ctx.functions = functions  # type: ignore[attr-defined]


EXPRESSIONS.update({"Constant": _constant, "FieldRef": _field_ref, "NormDiscrete": _norm_discrete,
                    "NormContinuous": _norm_continuous, "Discretize": _discretize, "MapValues": _map_values})

from . import functions as _functions  # noqa: E402,F401  (registers the Apply functions)
from . import text as _text  # noqa: E402,F401  (registers TextIndex)
