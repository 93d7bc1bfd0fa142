"""Exact interventional TreeSHAP of TreeModels and tree ensembles (MiningModel).

The model is read as ``constant + sum of w_t * tree_t(x)`` (tree_ensemble.py), every tree
flattened into root-to-terminal paths whose tests are the evaluator's own compiled
predicates (tree_paths.py), and the Shapley values of the input fields computed exactly
over the background rows (tree_shap.py). ``base`` is the mean raw score of the background
rows that have one; ``base + sum(contributions) == raw`` on every row up to rounding.
A row where some mix of it with a background row gets no prediction (a missing value under
missingValueStrategy="nullPrediction") has no contributions: NaN.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import ExplanationError
from ....pmml.fields import child, local
from ..compile import derived_fields, mining_treatments
from ..context import Env, Expr
from .base import Explanation
from .inputs import Sources, input_names, need_background
from .tree_ensemble import Ensemble, ensemble_of
from .tree_paths import PathSet, PathTable, leaf_reader, scope_sources
from .tree_shap import Background, raw_scores
from .tree_tests import Predicates

if TYPE_CHECKING:
    from ..backend import NativeBackend

CHUNK_ROWS = 512  # rows explained at once: [tests, rows] results and [paths, rows] patterns stay ~10s of MB
Level = tuple[list[tuple[str, Callable[[np.ndarray], np.ndarray]]], dict[str, Expr]]  # treatments, local fields


@dataclass
class _Prepared:
    """What a document's explanations need, built once per backend."""

    ensemble: Ensemble
    table: PathTable
    preds: Predicates
    scopes: list[tuple[Level, ...]]  # per scope: the levels (models that change fields) from the top down
    players: tuple[str, ...]
    # The last background folded: (its columns, rows, tables, mean raw score). An Evaluator hands
    # the same columns on every call, so a record's explanation does not fold them again.
    last: tuple[dict[str, np.ndarray], int, Background, float] | None = None

    def codes(self, backend: NativeBackend, columns: dict[str, np.ndarray], n: int) -> np.ndarray:
        """[paths, rows] the path patterns of rows, their tests evaluated by the compiled predicates."""
        return self.table.codes(self.preds.evaluate(self.envs(backend, columns, n), n))

    def envs(self, backend: NativeBackend, columns: dict[str, np.ndarray], n: int) -> list[Env]:
        """Per scope, the Env its trees read the rows' fields from."""
        top = Env(n, dict(columns), backend._ctx, derived=backend._derived)
        return [_scoped(top, levels) for levels in self.scopes]

    def folded(self, backend: NativeBackend, background: dict[str, np.ndarray], n: int) -> tuple[Background, float]:
        """The background's share tables and mean raw score (without the ensemble's constant)."""
        last = self.last
        if last is not None and last[0] is background and last[1] == n:
            return last[2], last[3]
        codes = self.codes(backend, background, n)
        raw = raw_scores(self.table, codes)
        scored = np.isfinite(raw)
        if not scored.any():
            raise ExplanationError(f"none of the {n} background rows gets a prediction from the model (missing "
                                   "values the trees send to no prediction?): give rows it can score")
        folded = Background(self.table, codes[:, scored], len(self.players))
        self.last = (background, n, folded, float(raw[scored].mean()))
        return folded, self.last[3]


def _scoped(env: Env, levels: tuple[Level, ...]) -> Env:
    """The Env a tree reads, as compile.compile_model builds it level by level: treatments, local fields."""
    for treatments, local_fields in levels:
        cols = {f: treat(env.get(f)) for f, treat in treatments}
        env = Env(env.n, cols, env.ctx, derived=local_fields, parent=env)
    return env


_PREPARED: weakref.WeakKeyDictionary[NativeBackend, _Prepared] = weakref.WeakKeyDictionary()


def _prepared(backend: NativeBackend) -> _Prepared:
    found = _PREPARED.get(backend)
    if found is None:
        found = _PREPARED[backend] = _prepare(backend)
    return found


def _prepare(backend: NativeBackend) -> _Prepared:
    ensemble = ensemble_of(backend)
    players = input_names(backend)
    paths = PathSet(backend._ctx, players)
    levels: dict[int, Level | None] = {}
    scope_ids: dict[tuple[int, ...], int] = {}
    scopes: list[tuple[Level, ...]] = []
    sources: list[Sources] = []
    for term in ensemble.form.terms:
        acting = [m for m in term.scopes if _level(backend, m, levels) is not None]
        key = tuple(id(m) for m in acting)
        if key not in scope_ids:
            scope_ids[key] = len(scopes)
            scopes.append(tuple(levels[id(m)] for m in acting))  # type: ignore[misc]
            sources.append(scope_sources(lambda: Sources(backend), (term.scopes[0], *acting)))
        scope = scope_ids[key]
        paths.add_tree(term, scope, sources[scope], leaf_reader(term, ensemble.is_positive))
    return _Prepared(ensemble, paths.table(), paths.preds, scopes, players)


def _level(backend: NativeBackend, model: Element, seen: dict[int, Level | None]) -> Level | None:
    """A model's MiningSchema treatments and LocalTransformations, or None when it has neither."""
    if id(model) not in seen:
        where = f"{local(model.tag)}/LocalTransformations"
        treatments = mining_treatments(model, backend._ctx)
        local_fields = derived_fields(child(model, "LocalTransformations"), backend._ctx, where)
        seen[id(model)] = (treatments, local_fields) if treatments or local_fields else None
    return seen[id(model)]


def explain_trees(backend: NativeBackend, columns: dict[str, np.ndarray], n_rows: int,
                  background: dict[str, np.ndarray] | None, n_background: int) -> Explanation:
    """Exact interventional TreeSHAP of ``n_rows`` rows over the background rows (typed input columns)."""
    need_background(background, n_background, "tree model")
    assert background is not None
    prepared = _prepared(backend)
    table, constant = prepared.table, prepared.ensemble.form.constant
    folded, mean = prepared.folded(backend, background, n_background)
    shares = np.empty((len(prepared.players), n_rows))
    raw = np.empty(n_rows)
    for start in range(0, n_rows, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n_rows)
        codes = prepared.codes(backend, {k: v[start:stop] for k, v in columns.items()}, stop - start)
        shares[:, start:stop] = folded.shares(codes)
        raw[start:stop] = raw_scores(table, codes) + constant
    base = np.full(n_rows, mean + constant)
    return Explanation(prepared.ensemble.of, base, raw,
                       {name: shares[i] for i, name in enumerate(prepared.players)})
