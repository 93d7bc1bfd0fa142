"""The distinct predicates of a forest's tests, evaluated for a batch of rows: [predicates, rows] 1/0/NaN.

Every predicate is compiled by predicates.compile_predicate, the evaluator's own code, except
the plain comparisons of one field with a constant (a SimplePredicate that compile_predicate
turns into ``where(isnan(x), NaN, COMPARE[op](x, value))``): a forest has thousands of them
on a few fields, so those of one field and operator are computed as one [values, rows]
comparison, with the same COMPARE functions, the same encoded values (Ctx.encode) and the
same NaN rule. tests/evaluator/explain/test_trees_documents.py holds the two ways equal.
"""
from __future__ import annotations

from xml.etree.ElementTree import Element, tostring

import numpy as np

from ....pmml.fields import local
from ..context import Ctx, Env, Expr
from ..predicates import COMPARE, ORDER_OPS, compile_predicate


class Predicates:
    """Distinct (scope, predicate) pairs, each a row of ``evaluate``'s answer."""

    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        self.n = 0
        self._ids: dict[tuple[int, bytes], int] = {}
        self.compiled: list[tuple[int, int, Expr]] = []  # (row, scope, compiled predicate)
        # (scope, field, operator) -> (rows, encoded values): comparisons made together
        self.compared: dict[tuple[int, str, str], tuple[list[int], list[float]]] = {}

    def add(self, pred: Element, scope: int, path: str) -> int:
        """The row of ``pred`` read in scope ``scope`` (the same predicate twice: the same row)."""
        key = (scope, tostring(pred))
        found = self._ids.get(key)
        if found is not None:
            return found
        row = self._ids[key] = self.n
        self.n += 1
        field, op = pred.get("field", ""), pred.get("operator", "")
        if local(pred.tag) == "SimplePredicate" and op in COMPARE and \
                (op not in ORDER_OPS or self.ctx.is_numeric(field)):
            rows, values = self.compared.setdefault((scope, field, op), ([], []))
            rows.append(row)
            values.append(self.ctx.encode(field, pred.get("value", "")))
        else:
            self.compiled.append((row, scope, compile_predicate(pred, self.ctx, path)))
        return row

    def evaluate(self, envs: list[Env], n: int) -> np.ndarray:
        out = self._compiled(envs, n)
        for (scope, field, op), (rows, values) in self.compared.items():
            x = envs[scope].num(field)
            found = COMPARE[op](x[None, :], np.array(values)[:, None]).astype(np.float64)
            found[:, np.isnan(x)] = np.nan
            out[rows] = found
        return out

    def one_by_one(self, envs: list[Env], n: int) -> np.ndarray:
        """``evaluate`` with every predicate compiled by compile_predicate: the reference the tests hold it to."""
        out = self._compiled(envs, n)
        for (scope, field, op), (rows, values) in self.compared.items():
            for row, value in zip(rows, values):
                el = Element("SimplePredicate", field=field, operator=op, value=repr(value))
                out[row] = compile_predicate(el, _Raw(self.ctx), "")(envs[scope])
        return out


    def _compiled(self, envs: list[Env], n: int) -> np.ndarray:
        """[predicates, rows] with the rows of the compiled predicates filled in."""
        out = np.empty((self.n, n))
        for row, scope, expr in self.compiled:
            out[row] = expr(envs[scope])
        return out


class _Raw(Ctx):
    """A Ctx whose ``encode`` reads back an already encoded value (one_by_one's predicates carry those)."""

    def __init__(self, ctx: Ctx):
        super().__init__()
        self.types, self.vocab, self.values = ctx.types, ctx.vocab, ctx.values

    def encode(self, field: str, value: str) -> float:
        return float(value)
