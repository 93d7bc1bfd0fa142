"""MiningModel: segments combined by sum/average/vote/modelChain/selectFirst; tree ensembles stacked."""
from __future__ import annotations

import warnings
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import RowEvaluationError, UnsupportedElement
from ....pmml.fields import MODEL_ELEMENTS, child, children, local
from .. import recordplan
from ..compile import Core, compile_model, float_math, register
from ..context import Ctx, Env, Expr
from ..kernels import running_sum
from ..predicates import compile_predicate, predicate_element
from ..result import ModelResult
from .tree import Forest, TerminalValues

METHODS = ("sum", "weightedSum", "average", "weightedAverage", "median", "majorityVote",
           "weightedMajorityVote", "modelChain", "selectFirst")
VOTES = ("average", "weightedAverage", "majorityVote", "weightedMajorityVote")
_PLAIN = ("Extension", "MiningSchema", "Node", "ScoreDistribution")


def _model_of(segment: Element) -> Element:
    return next(c for c in segment if local(c.tag) in MODEL_ELEMENTS)


def _is_plain_tree(segment: Element) -> bool:
    """A tree that can join the stacked forest: always selected, no outputs or local fields."""
    pred = predicate_element(segment)
    model = _model_of(segment)
    return (local(model.tag) == "TreeModel" and (pred is None or local(pred.tag) == "True")
            and all(local(c.tag) in _PLAIN for c in model)
            and not any(treats(mf) for ms in children(model, "MiningSchema") for mf in children(ms, "MiningField")))


def treats(mining_field: Element) -> bool:
    """Whether a segment's MiningField changes values (the stacked forest reads raw inputs)."""
    return mining_field.get("missingValueReplacement") is not None or \
        mining_field.get("outliers", "asIs") != "asIs"


def compile_mining_model(model: Element, ctx: Ctx, path: str) -> Core:
    seg = child(model, "Segmentation")
    if seg is None:
        raise UnsupportedElement("MiningModel without Segmentation", path, ["Segmentation"])
    method = seg.get("multipleModelMethod", "")
    if method not in METHODS:
        raise UnsupportedElement(f"Segmentation multipleModelMethod={method!r}", f"{path}/Segmentation", METHODS)
    segments = children(seg, "Segment")
    weights = np.array([float(s.get("weight", "1")) for s in segments])
    classification = model.get("functionName") == "classification"
    # JPMML: a missing segment prediction makes sums, averages and medians missing under both
    # "continue" and "returnMissing"; only votes differ ("continue" counts it as a vote for missing).
    continue_votes = seg.get("missingPredictionTreatment", "continue") == "continue"
    seg_path = f"{path}/Segmentation/Segment"
    if classification and method not in ("modelChain", "selectFirst", *VOTES):
        raise UnsupportedElement(f"multipleModelMethod={method!r} for classification", f"{path}/Segmentation",
                                 ["modelChain", "selectFirst", *VOTES])
    in_float = float_math(model, path)
    plain = method not in ("modelChain", "selectFirst") and segments and all(_is_plain_tree(s) for s in segments)
    # A modelChain does no arithmetic of its own: each segment computes in its own math context.
    if in_float and method != "modelChain" and not (
            plain and method == "sum" and all(float_math(_model_of(s), path) for s in segments)):
        raise UnsupportedElement("MiningModel x-mathContext='float' other than a sum of float regression trees "
                                 "or a modelChain", path,
                                 ["multipleModelMethod='sum' of TreeModels with x-mathContext='float'",
                                  "multipleModelMethod='modelChain'"])
    if plain and (in_float or not any(_model_of(s).get("x-mathContext") == "float" for s in segments)):
        return _compile_forest(ctx, segments, seg_path, method, weights, classification=classification,
                               continue_votes=continue_votes, in_float=in_float)
    cores = [compile_model(_model_of(s), ctx, f"{seg_path}[{i + 1}]") for i, s in enumerate(segments)]
    preds = [_segment_predicate(s, ctx, f"{seg_path}[{i + 1}]") for i, s in enumerate(segments)]

    def run(env: Env) -> ModelResult:
        chain_env = Env(env.n, {}, ctx, parent=env)
        results, selected = [], []
        for core, pred in zip(cores, preds):
            on = pred(chain_env) if pred is not None else None
            r = core(chain_env)
            if method == "modelChain":
                chain_env.cols.update(r.outputs)
            results.append(r)
            selected.append(np.ones(env.n, bool) if on is None else on == 1)
        if method == "modelChain":
            last = results[-1]
            return ModelResult(last.value, last.labels, last.probs, last.index, last.affinity, dict(chain_env.cols))
        if method == "selectFirst":
            return _select_first(results, selected, classification)
        if classification:
            labels = tuple(dict.fromkeys(lab for r in results for lab in r.labels))
            idx = [np.where(s, _align_index(r, labels), -1) for r, s in zip(results, selected)]
            # A vote counts labels only: its segments need no probabilities (a k-NN model has none).
            probs = None if method in ("majorityVote", "weightedMajorityVote") else \
                [np.where(s[:, None], _align(r, labels), np.nan) for r, s in zip(results, selected)]
            return ModelResult(labels=labels, probs=_vote(method, weights, labels, probs, idx,
                                                          continue_votes=continue_votes,
                                                          applicable=np.column_stack(selected)))
        values = np.column_stack([np.where(s, _values(r), np.nan) for r, s in zip(results, selected)])
        applicable = np.column_stack(selected)
        out = _combine(method, weights, np.where(applicable, values, np.nan), True)  # unselected: left out
        out[(np.isnan(values) & applicable).any(axis=1)] = np.nan  # a selected segment without prediction
        return ModelResult(value=out)
    if method == "modelChain" and not any(preds):
        recordplan.add(ctx, run, _chain_twin([recordplan.twin_of(ctx, core) for core in cores]))
    return run


def _compile_forest(ctx: Ctx, segments: list[Element], seg_path: str, method: str, weights: np.ndarray, *,
                    classification: bool, continue_votes: bool, in_float: bool) -> Core:
    """Plain trees stacked into one forest: one descent, then each chunk's terminals combined."""
    forest = Forest(ctx, classification=classification)
    for i, s in enumerate(segments):
        forest.add_tree(_model_of(s), f"{seg_path}[{i + 1}]/TreeModel")
    compiled = forest.finish()
    if in_float:  # XGBoost: 32-bit scores summed in 32 bits, tree after tree, as JPMML does
        compiled.value = compiled.value.astype(np.float32).astype(np.float64)
    # Once, at compile time: each terminal's result times its tree's weight (sums() then adds
    # them tree after tree), and what the sum is divided by.
    summed = weights if method.startswith("weighted") else np.ones_like(weights)
    averaged = weights if method == "weightedAverage" else np.ones_like(weights)
    # Most combinations are sums, tree after tree, of a value per terminal: [columns, doubled ids]
    # of them (one per label for averaged probabilities, else one), and what each sum is divided by.
    sum_columns: TerminalValues | None = None
    divisor = 1.0
    if classification and method in ("average", "weightedAverage"):
        sum_columns = TerminalValues([compiled.per_tree(column, averaged) for column in compiled.prob_columns])
        divisor = float(averaged.sum())
    elif not classification and not in_float and method != "median":
        sum_columns = TerminalValues([compiled.per_tree(compiled.value, summed)])
        if method in ("average", "weightedAverage"):
            divisor = float(summed.sum())

    def from_sums(sums: np.ndarray) -> np.ndarray:
        """[rows, columns] sums -> [rows, labels] probabilities or [rows] values (NaN already
        where a tree gave no prediction)."""
        out = sums / divisor if divisor != 1.0 else sums
        return out if classification else out[:, 0]

    def combine(nodes: np.ndarray) -> np.ndarray:
        """One chunk's [rows, trees] terminals -> [rows, labels] probabilities or [rows] values
        (a batch's sums take ``summed_chunks``; a record's terminals come here too)."""
        if sum_columns is not None:
            return from_sums(np.column_stack([compiled.sums(nodes, column) for column in sum_columns.columns]))
        if classification:
            return _vote(method, weights, compiled.labels, None, compiled.label_idx.take(nodes),
                         continue_votes=continue_votes)
        if in_float:
            return _float_sum(compiled.value.take(nodes))
        return np.median(compiled.value.take(nodes), axis=1)

    def run_forest(env: Env) -> ModelResult:
        parts = ([from_sums(sums) for sums in compiled.summed_chunks(env, sum_columns)] if sum_columns is not None
                 else [combine(nodes) for nodes in compiled.terminal_chunks(env)])
        if classification:
            return ModelResult(labels=compiled.labels, probs=parts[0] if len(parts) == 1 else
                               np.concatenate(parts) if parts else np.zeros((0, len(compiled.labels))))
        return ModelResult(value=np.concatenate(parts) if parts else np.zeros(0))

    def record_forest(fields: recordplan.Record) -> recordplan.Scored | None:
        """One record: its terminals from the same descent, combined by the batch's own ``combine``."""
        nodes = compiled.record_nodes(fields)
        if nodes is None:
            return None
        out = combine(nodes)
        if not classification:
            return recordplan.Scored(value=float(out[0]))
        probs = out[0].tolist()
        return recordplan.Scored(labels=compiled.labels, probs=probs) if all(p == p for p in probs) else None
    recordplan.add(ctx, run_forest, record_forest)
    return run_forest


def _chain_twin(twins: list[recordplan.Twin | None]) -> recordplan.Twin | None:
    """A modelChain of segments that all have twins (and no predicates), for one record."""
    ready = [t for t in twins if t is not None]
    if not ready or len(ready) != len(twins):
        return None

    def chain(fields: recordplan.Record) -> recordplan.Scored | None:
        layer, produced = dict(fields), {}
        last = None
        for twin in ready:
            last = twin(layer)
            if last is None:
                return None
            layer.update(last.outputs)
            produced.update(last.outputs)
        if last is not None:
            last.outputs = produced  # as run(): every output of the chain
        return last
    return chain


def _segment_predicate(segment: Element, ctx: Ctx, path: str) -> Expr | None:
    pred = predicate_element(segment)
    if pred is None or local(pred.tag) == "True":
        return None
    return compile_predicate(pred, ctx, path)


def _combine(method: str, weights: np.ndarray, values: np.ndarray, skip_missing: bool) -> np.ndarray:
    """Regression: [rows, segments] values -> one value per row."""
    w = weights if method.startswith("weighted") else np.ones_like(weights)
    if not skip_missing:
        if method == "median":
            return np.median(values, axis=1)
        total = _dot(values, w)
        return total / w.sum() if method in ("average", "weightedAverage") else total
    ok = ~np.isnan(values)
    total = _dot(np.where(ok, values, 0.0), w)
    if method == "median":
        with warnings.catch_warnings():  # a row where no segment was selected: NaN, said once per row
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(values, axis=1)
    if method in ("average", "weightedAverage"):
        with np.errstate(invalid="ignore"):
            return total / _dot(ok, w)
    return np.where(ok.any(axis=1), total, np.nan)


def _dot(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    """[rows, segments] @ w, summed segment after segment: the same bits for a record as in any batch.

    A matrix product orders its sum by the batch's shape, so a row's last bit would depend on it;
    it is kept only for counts (1/0 values, whole weights), whose sums are exact in any order.
    """
    if values.dtype == bool and bool((w == np.round(w)).all()):
        return values @ w
    return running_sum(values * w)


def _float_sum(values: np.ndarray) -> np.ndarray:
    """[rows, trees] -> sums in float32, left to right (NumPy's own sum would pair them up)."""
    return running_sum(values.astype(np.float32), np.float32).astype(np.float64)


def _vote(method: str, weights: np.ndarray, labels: tuple[str, ...], probs: np.ndarray | list[np.ndarray] | None,
          idx: np.ndarray | list[np.ndarray], *, continue_votes: bool,
          applicable: np.ndarray | None = None) -> np.ndarray:
    """Classification probabilities: the segments' probabilities averaged, or their (weighted) votes counted.

    ``probs`` is [rows, segments, labels] and ``idx`` [rows, segments] (lists of per-segment
    arrays are stacked); ``applicable`` [rows, segments] marks the segments whose predicate
    selected the row (all when None). As in JPMML-Evaluator, a selected segment without a
    prediction makes the row's result missing, except in a vote under "continue": there it
    is a vote for "missing", which wins only with strictly the most (weighted) votes.
    """
    voted = np.stack(idx, axis=1) if isinstance(idx, list) else idx
    w = weights if method.startswith("weighted") else np.ones_like(weights)
    selected = np.ones(voted.shape, bool) if applicable is None else applicable
    counted = (voted >= 0) & selected
    missing = (voted < 0) & selected
    if method in ("majorityVote", "weightedMajorityVote"):
        acc = np.stack([_dot((voted == c) & selected, w) for c in range(len(labels))], axis=1) if labels \
            else np.zeros((len(voted), 0))
    else:
        P = np.stack(probs, axis=1) if isinstance(probs, list) else probs
        assert P is not None  # only votes come without probabilities
        counted_p = np.where(counted[:, :, None] & ~np.isnan(P), P, 0.0)
        acc = np.stack([_dot(counted_p[:, :, k], w) for k in range(P.shape[2])], axis=1) if P.shape[2] \
            else np.zeros((len(voted), 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = acc / _dot(counted, w)[:, None]
    if continue_votes and method in ("majorityVote", "weightedMajorityVote"):
        empty = ~counted.any(axis=1)
        if empty.any():  # JPMML: "Empty classification" for that row
            raise RowEvaluationError("no segment of the vote gave a prediction (all were missing or not "
                                     "selected), so the classification is empty", rows=empty)
        lost = _dot(missing, w) > acc.max(axis=1)
    else:
        lost = missing.any(axis=1)
    out[lost] = np.nan
    return out


def _align(r: ModelResult, labels: tuple[str, ...]) -> np.ndarray:
    if r.probs is None:
        raise RowEvaluationError("a segment gave a label without probabilities (a NearestNeighborModel does), so "
                                 "the MiningModel cannot average or select them; use majorityVote, or score with "
                                 "backend='jpmml'")
    out = np.zeros((len(r.probs), len(labels)))
    for j, lab in enumerate(r.labels):
        out[:, labels.index(lab)] = r.probs[:, j]
    return out


def _values(r: ModelResult) -> np.ndarray:
    if r.value is None:
        raise RowEvaluationError("a segment of a regression MiningModel gave a label, not a number, so it cannot "
                                 "be combined; make every segment a regression model")
    return r.value


def _align_index(r: ModelResult, labels: tuple[str, ...]) -> np.ndarray:
    table = np.array([labels.index(lab) for lab in r.labels] + [-1])
    return table[r.winner()]


def _select_first(results: list[ModelResult], selected: list[np.ndarray], classification: bool) -> ModelResult:
    n = len(selected[0])
    choice = np.full(n, -1)
    for j in range(len(results) - 1, -1, -1):
        choice = np.where(selected[j], j, choice)
    if classification:
        labels = tuple(dict.fromkeys(lab for r in results for lab in r.labels))
        probs = np.full((n, len(labels)), np.nan)
        for j, r in enumerate(results):
            probs[choice == j] = _align(r, labels)[choice == j]
        return ModelResult(labels=labels, probs=probs)
    values = np.full(n, np.nan)
    for j, r in enumerate(results):
        values[choice == j] = _values(r)[choice == j]
    return ModelResult(value=values)


register("MiningModel", compile_mining_model)
