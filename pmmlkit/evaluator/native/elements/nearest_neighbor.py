"""NearestNeighborModel (k-NN, as JPMML-SkLearn writes it): distances to every training instance, k nearest.

Everything follows JPMML-Evaluator 1.7: per-field terms summed field after field, scaled by the
share of missing inputs, then the inverse power; instances ordered by distance with ties kept in
table order (a stable sort); votes tied first on the training frequency, then on the smaller value.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import cast
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import InvalidPmmlError, RowEvaluationError, UnsupportedElement
from ....pmml.fields import child, children, local
from ..compile import Core, register, target_of
from ..context import NUMERIC_TYPES, Ctx, Env
from ..kernels import running_sum
from ..result import ModelResult

# measure -> (power of each |x - y| term, inverse power of the sum; None: none)
MEASURES = {"euclidean": (2.0, 2.0), "squaredEuclidean": (2.0, None), "cityBlock": (1.0, None),
            "chebychev": (1.0, None), "minkowski": (None, None)}
CELLS = 2_000_000  # rows x instances computed at once: bounds the memory of a large batch


def _measure(model: Element, path: str) -> tuple[str, float, float | None]:
    cm = child(model, "ComparisonMeasure")
    el = next((c for c in cm if local(c.tag) != "Extension"), None) if cm is not None else None
    name = local(el.tag) if el is not None else ""
    kind = cm.get("kind") if cm is not None else None
    if name not in MEASURES or kind != "distance":
        raise UnsupportedElement(f"ComparisonMeasure {name or '(none)'!r} kind={kind!r}", f"{path}/ComparisonMeasure",
                                 sorted(MEASURES))
    if name == "minkowski" and el is not None:  # el is there whenever name is
        p = float(el.get("p-parameter", "nan"))
        if not p > 0:
            raise InvalidPmmlError(f"minkowski p-parameter={el.get('p-parameter')!r} at {path}/ComparisonMeasure: "
                                   "write a positive number")
        return name, p, p
    power, inverse = MEASURES[name]
    return name, cast(float, power), inverse  # None only for minkowski, returned above


def _table(model: Element, path: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """InstanceFields (field -> column) and the InlineTable rows (column -> text; no cell: missing)."""
    ti = child(model, "TrainingInstances")
    fields = child(ti, "InstanceFields") if ti is not None else None
    table = child(ti, "InlineTable") if ti is not None else None
    if fields is None or table is None:
        raise UnsupportedElement("TrainingInstances without InstanceFields and an InlineTable",
                                 f"{path}/TrainingInstances", ["InstanceFields", "InlineTable"])
    columns = {f.get("field", ""): f.get("column", f.get("field", "")).split(":", 1)[-1]
               for f in children(fields, "InstanceField")}
    rows = [{local(c.tag): (c.text or "").strip() for c in row if isinstance(c.tag, str)} for row in table
            if isinstance(row.tag, str) and local(row.tag) == "row"]
    return columns, rows


def _column(rows: list[dict[str, str]], column: str | None) -> list[str | None]:
    return [row.get(column) if column is not None else None for row in rows]


def _numbers(cells: Sequence[str | None], data_type: str, where: str) -> np.ndarray:
    try:
        out = np.array([float(c) if c not in (None, "") else np.nan for c in cells])
    except ValueError as e:
        raise InvalidPmmlError(f"{where}: a training instance holds a value that is not a number ({e}); "
                               "fix the InlineTable") from None
    return out.astype(np.float32).astype(np.float64) if data_type == "float" else out


def _check_treatments(model: Element, columns: dict[str, str], path: str) -> None:
    """JPMML prepares the table's cells like input values: a treatment would change the instances too."""
    ms = child(model, "MiningSchema")
    for mf in children(ms, "MiningField") if ms is not None else []:
        if mf.get("name") in columns and (mf.get("outliers", "asIs") != "asIs"
                                          or mf.get("missingValueReplacement") is not None):
            raise UnsupportedElement(f"MiningField {mf.get('name')!r} with outliers or missingValueReplacement in "
                                     "a NearestNeighborModel", f"{path}/MiningSchema",
                                     ["MiningFields without value treatments"])


class Instances:
    """The training instances as arrays: input coordinates, target values, entity ids."""

    def __init__(self, model: Element, ctx: Ctx, path: str):
        columns, rows = _table(model, path)
        _check_treatments(model, columns, path)
        self.size = len(rows)
        knn = child(model, "KNNInputs")
        inputs = children(knn, "KNNInput") if knn is not None else []
        if not inputs:
            raise UnsupportedElement("NearestNeighborModel without KNNInputs", path, ["KNNInputs/KNNInput"])
        self.fields, weights, coords = [], [], []
        for i, k in enumerate(inputs):
            name, where = k.get("field", ""), f"{path}/KNNInputs/KNNInput[{i + 1}]"
            if name not in columns or ctx.types.get(name) not in NUMERIC_TYPES:
                raise UnsupportedElement(f"KNNInput field={name!r} (a {ctx.types.get(name)} field"
                                         f"{'' if name in columns else ' without an InstanceField'})", where,
                                         ["a numeric field with an InstanceField column"])
            self.fields.append(name)
            weights.append(float(k.get("fieldWeight", "1")))
            coords.append(_numbers(_column(rows, columns[name]), ctx.types[name], where))
        self.weights = np.array(weights)
        self.coords = np.array(coords).reshape(len(inputs), self.size)  # [inputs, instances]
        id_var = model.get("instanceIdVariable")
        if id_var is not None and id_var not in columns:
            raise InvalidPmmlError(f"instanceIdVariable={id_var!r} at {path} names no InstanceField; "
                                   "add its InstanceField or drop the attribute")
        ids = _column(rows, columns[id_var]) if id_var is not None else [str(i + 1) for i in range(self.size)]
        if None in ids or len(set(ids)) != len(ids):
            raise UnsupportedElement("instanceIdVariable with missing or repeated ids", path,
                                     ["one distinct id per training instance"])
        self.ids = np.array(ids + [None], dtype=object)  # index -1: no instance
        target = target_of(model)
        cells = _column(rows, columns.get(target or "")) if target in columns else [None] * self.size
        if None in cells or "" in cells:
            raise UnsupportedElement("TrainingInstances rows without a target value", f"{path}/TrainingInstances",
                                     [f"a {target!r} value in every row"])
        self.target = [c for c in cells if c is not None]  # every cell: None is refused above


def _distances(inst: Instances, X: np.ndarray, measure: str, power: float, inverse: float | None) -> np.ndarray:
    """[rows, instances] distances, term after term as JPMML sums them; NaN where no input is present."""
    present = ~np.isnan(X)
    count = present.sum(axis=1)
    if (count == 0).any():
        raise RowEvaluationError(f"every KNNInput ({', '.join(inst.fields)}) is missing, so no distance to "
                                 "the training instances is defined", rows=count == 0)
    adjustment = len(inst.fields) / count.astype(np.float64)  # JPMML: inputs / present inputs
    acc = np.zeros((len(X), inst.size))
    for j, w in enumerate(inst.weights):
        with np.errstate(invalid="ignore"):
            term = np.abs(X[:, j, None] - inst.coords[j][None, :])
        term = term if power == 1.0 else np.power(term, power)
        term = term * w if w != 1.0 else term
        term = np.where(np.isnan(term), 0.0, term)  # a missing value on either side: no term
        acc = np.maximum(acc, term) if measure == "chebychev" else acc + term
    acc = acc * adjustment[:, None]
    return np.power(acc, 1.0 / inverse) if inverse is not None else acc


class Scoring:
    """The target of the k nearest instances: average, weighted average or median; (weighted) vote."""

    def __init__(self, model: Element, inst: Instances, ctx: Ctx, path: str):
        self.classification = model.get("functionName") == "classification"
        self.threshold = float(model.get("threshold", "0.001"))
        self.method = model.get("categoricalScoringMethod" if self.classification else "continuousScoringMethod",
                                "majorityVote" if self.classification else "average")
        target_type = ctx.types.get(target_of(model) or "", "string")
        if not self.classification:
            self.values = _numbers(inst.target, target_type, path)
            return
        numeric = target_type in NUMERIC_TYPES
        key = (lambda v: float(v)) if numeric else (lambda v: v)
        first: dict[float | str, str] = {}
        for v in inst.target:
            first.setdefault(key(v), v)
        self.labels = tuple(first.values())
        keys = list(first)
        self.codes = np.array([keys.index(key(v)) for v in inst.target])
        freq = np.bincount(self.codes, minlength=len(keys))
        # Ties: the label with more training instances, then the smaller value (JPMML's order).
        order = sorted(range(len(keys)), key=lambda c: (-freq[c], keys[c]))
        self.priority = np.empty(len(keys), dtype=np.int64)
        self.priority[order] = np.arange(len(keys))

    def __call__(self, nearest: np.ndarray, dist: np.ndarray) -> ModelResult:
        with np.errstate(divide="ignore", invalid="ignore"):  # distance 0 with threshold 0: inf, as in JPMML
            return self._score(nearest, dist)

    def _score(self, nearest: np.ndarray, dist: np.ndarray) -> ModelResult:
        weights = 1.0 / (dist + self.threshold) if self.method.startswith("weighted") else None
        if not self.classification:
            y = self.values[nearest]
            if self.method == "median":
                return ModelResult(value=np.median(y, axis=1))
            if weights is None:
                return ModelResult(value=running_sum(y) / y.shape[1])
            return ModelResult(value=running_sum(y * weights) / running_sum(weights))
        codes = self.codes[nearest]
        votes = np.zeros((len(codes), len(self.labels)))
        rows = np.arange(len(codes))
        for r in range(codes.shape[1]):  # rank after rank, as JPMML adds the votes
            votes[rows, codes[:, r]] += 1.0 if weights is None else weights[:, r]
        winners = votes == votes.max(axis=1, keepdims=True)
        index = np.argmin(np.where(winners, self.priority[None, :], len(self.labels)), axis=1)
        return ModelResult(labels=self.labels, index=index)


def compile_nearest_neighbor_model(model: Element, ctx: Ctx, path: str) -> Core:
    measure, power, inverse = _measure(model, path)
    inst = Instances(model, ctx, path)
    k = int(model.get("numberOfNeighbors", "0"))
    if not 0 < k <= inst.size:
        raise InvalidPmmlError(f"numberOfNeighbors={model.get('numberOfNeighbors')!r} at {path}: give between 1 "
                               f"and the {inst.size} training instances")
    scoring = Scoring(model, inst, ctx, path)
    ranks = max([k] + [int(o.get("rank", "1")) for out in children(model, "Output")
                       for o in children(out, "OutputField") if o.get("feature") == "entityId"])
    if ranks > inst.size:
        raise InvalidPmmlError(f"an entityId OutputField at {path} asks for rank {ranks} of {inst.size} instances")

    def run(env: Env) -> ModelResult:
        X = np.column_stack([env.get(name) for name in inst.fields]).astype(np.float64)
        step = max(1, CELLS // max(inst.size, 1))
        parts = []
        for start in range(0, env.n, step):
            dist = _distances(inst, X[start:start + step], measure, power, inverse)
            order = np.argsort(dist, axis=1, kind="stable")[:, :ranks]  # ties: table order, as JPMML
            nearest = order[:, :k]
            result = scoring(nearest, np.take_along_axis(dist, nearest, axis=1))
            result.entities = inst.ids[order]
            parts.append(result)
        return _concatenate(parts, scoring, env.n, ranks)
    return run


def _concatenate(parts: list[ModelResult], scoring: Scoring, n: int, ranks: int) -> ModelResult:
    if len(parts) == 1:
        return parts[0]
    if not parts:
        empty = ModelResult(value=np.zeros(0)) if not scoring.classification else \
            ModelResult(labels=scoring.labels, index=np.zeros(0, dtype=np.int64))
        empty.entities = np.empty((0, ranks), dtype=object)
        return empty
    out = ModelResult(value=np.concatenate([p.value for p in parts])) if not scoring.classification else \
        ModelResult(labels=scoring.labels, index=np.concatenate([p.index for p in parts]))
    out.entities = np.concatenate([p.entities for p in parts])
    return out


register("NearestNeighborModel", compile_nearest_neighbor_model)
