"""Walk a PMML document and compile it into a plan of array functions.

Each model element has a compiler in ELEMENTS (registered by the modules in
elements/). The shared part here applies a model's MiningSchema treatments and
LocalTransformations before the element runs, and its Output fields after.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np
import pandas as pd

from ...errors import NativeCompileError, RowEvaluationError, UnsupportedElement
from ...pmml.fields import MODEL_ELEMENTS, child, children, local
from . import recordplan
from .context import NUMERIC_TYPES, Ctx, Env, Expr, category_codes
from .expressions import define_functions, expression_of, is_missing
from .result import ModelResult, labels_as
from .strict import check_document
from .targets import compile_targets
from .treatments import Treatment, mining_treatments

__all__ = ["ELEMENTS", "Treatment", "compile_document", "compile_model", "derived_fields", "mining_treatments",
           "register", "target_of"]

Core = Callable[[Env], ModelResult]
OutputFn = Callable[[Env, ModelResult, str | None], np.ndarray]  # (env, result, target type) -> column
ElementCompiler = Callable[[Element, Ctx, str], Core]
ELEMENTS: dict[str, ElementCompiler] = {}


def register(name: str, compiler: ElementCompiler) -> None:
    ELEMENTS[name] = compiler


_FLOAT_CLASSIFIERS = ("RegressionModel", "MiningModel")  # XGBoost: logit/softmax over float sums


def float_math(model: Element, path: str) -> bool:
    """JPMML's x-mathContext="float": the model computes in 32 bits.

    Native: regression trees, regression tables and their sums, and the classifiers XGBoost
    writes over them (a float RegressionModel, chained by a float MiningModel).
    """
    if model.get("x-mathContext", "double") != "float":
        return False
    function, name = model.get("functionName"), local(model.tag)
    if function == "classification" and name in _FLOAT_CLASSIFIERS and child(model, "Targets") is None:
        return True
    if function != "regression":
        raise UnsupportedElement(f"{name} x-mathContext='float' with functionName={function!r}", path,
                                 ["regression", "classification (RegressionModel, MiningModel; no Targets)"])
    return True


def target_of(model: Element) -> str | None:
    ms = child(model, "MiningSchema")
    for mf in children(ms, "MiningField") if ms is not None else []:
        if mf.get("usageType") in ("target", "predicted"):
            return mf.get("name")
    return None


def compile_model(model: Element, ctx: Ctx, path: str) -> Core:
    """A model element with its MiningSchema treatments, local fields and outputs."""
    name = local(model.tag)
    path = f"{path}/{name}"
    compiler = ELEMENTS.get(name)
    if compiler is None:
        raise UnsupportedElement(name, path, sorted(ELEMENTS))
    treatments = mining_treatments(model, ctx)
    derived = derived_fields(child(model, "LocalTransformations"), ctx, f"{path}/LocalTransformations")
    core = compiler(model, ctx, path)
    outputs = _outputs(model, ctx, f"{path}/Output")
    reads_fields = not all(r for _, _, r in outputs)  # an expression output may read fields...
    guarded = reads_fields and any(r for _, _, r in outputs)  # ...and a result output: check its rows
    target = target_of(model)
    target_type = ctx.types.get(target or "", "string") if target else None
    if name != "ClusteringModel" and target_type is None:
        target_type = "double" if model.get("functionName") == "regression" else "string"
    post = compile_targets(model, target, target_type, path, float_math=float_math(model, path))

    def run(env: Env) -> ModelResult:
        cols = {f: treat(env.get(f)) for f, treat in treatments}
        local_env = Env(env.n, cols, ctx, derived=derived, parent=env) if cols or derived else env
        result = core(local_env)
        if post is not None:
            result = post(result)
        out_env = Env(env.n, dict(result.outputs), ctx, parent=local_env)
        undefined = _no_prediction(result, target_type) if guarded else None
        if reads_fields and target is not None:
            _target_as_missing(out_env, target, target_type)
        for out_name, fn, from_result in outputs:
            col = result.outputs[out_name] = fn(out_env, result, target_type)
            if undefined is not None and from_result:
                _undefined_where(out_env, out_name, col, undefined)
            else:
                out_env.cols[out_name] = col
        return result
    recordplan.add(ctx, run, recordplan.model_twin(ctx, core, treatments, derived, child(model, "Output"), post,
                                                   target_type, model.get("functionName")))
    return run


def derived_fields(parent: Element | None, ctx: Ctx, path: str) -> dict[str, Expr]:
    exprs = {}
    sources: dict[str, set[str]] = {}
    for df in children(parent, "DerivedField") if parent is not None else []:
        name = df.get("name", "")
        ctx.types[name] = df.get("dataType", "double")
        expr = as_data_type(expression_of(df, ctx, f"{path}/DerivedField[@name={name!r}]"), ctx.types[name])
        # A field derived from one input column is computed once per distinct value.
        refs = _field_refs(df)
        sources[name] = set().union(*(sources.get(r, {r}) for r in refs)) if refs else set()
        exprs[name] = by_distinct_values(expr, next(iter(sources[name])), name, ctx) if len(sources[name]) == 1 \
            else expr
    return exprs


def _field_refs(el: Element) -> set[str]:
    """The fields an expression reads: every ``field`` (FieldRef, MapValues' FieldColumnPair...) and
    TextIndex's ``textField``."""
    return {r for e in el.iter() for r in (e.get("field"), e.get("textField")) if r}


def as_data_type(expr: Expr, data_type: str | None) -> Expr:
    """A float field holds 32-bit values (as JPMML does): its expression's result is rounded."""
    if data_type != "float":
        return expr

    return lambda env: _float32_column(expr(env))


def _float32_column(out: np.ndarray) -> np.ndarray:
    """A float column rounded to 32 bits (kept as float64); any other column as it is."""
    return out.astype(np.float32).astype(np.float64) if out.dtype.kind == "f" else out


_MEMO_LIMIT = 4096  # distinct values remembered per derived field, for the record path


def by_distinct_values(expr: Expr, source: str, name: str, ctx: Ctx, *, key: object = None) -> Expr:
    """Evaluate ``expr`` (which reads only ``source``) on the distinct values, then spread them.

    Small batches (records) look each value up in a bounded memo instead: the result (and
    for a string field its category code) is a pure function of the one input value. The
    record plan reads the same memory (recordplan.derive), registered under ``key`` (default: the
    returned expression): a value's first record fills it here.
    """
    memo: dict[object, tuple[object, object]] = {}  # input value -> (result, category code or None)
    kind: list[np.dtype[Any]] = []  # the result dtype, once known
    single: dict[object, tuple[np.ndarray, np.ndarray | None]] = {}  # value -> read-only 1-row columns, for records

    def run(env: Env) -> np.ndarray:
        col = env.get(source)
        if env.n == 1:
            v = col[0]
            hit = single.get(None if v is None or v != v else v)
            if hit is not None:
                if hit[1] is not None:
                    env.set_codes(name, hit[1])
                return hit[0]
        if env.n < 256:
            keys = [None if v is None or v != v else v for v in col.tolist()]
            if kind and all(k in memo for k in keys):
                hits = [memo[k] for k in keys]
                if kind[0] == object:  # noqa: E721 - a NumPy dtype against object dtype, not a type check
                    env.set_codes(name, np.array([h[1] for h in hits]))
                return np.array([h[0] for h in hits], dtype=kind[0])
            out = expr(env)
            if len(memo) < _MEMO_LIMIT:
                codes = (category_codes(out, env.ctx.vocab.get(name, {})) if out.dtype == object
                         else np.full(len(out), None))
                memo.update(zip(keys, zip(out.tolist(), codes.tolist())))
                kind[:] = [out.dtype]
                for k, value, code in zip(keys, out, codes):
                    single[k] = (_frozen(np.array([value], dtype=out.dtype)),
                                 _frozen(np.array([code])) if code is not None else None)
            return out
        found = env.levels_of(source, col)
        if found is not None:
            slots, values = found
        else:
            codes, uniques = pd.factorize(col, use_na_sentinel=True)
            if len(uniques) * 8 > env.n:  # mostly distinct: no gain
                return expr(env)
            values = np.empty(len(uniques) + 1, dtype=col.dtype)
            values[0] = None if col.dtype == object else np.nan  # slot 0: the missing value
            values[1:] = uniques
            slots = codes + 1
        small = Env(len(values), {source: values}, env.ctx, derived=env.all_derived())
        try:
            out = expr(small)
        except RowEvaluationError:  # slot 0 (missing) or a value no row may hold: the rows decide
            return expr(env)
        if out.dtype == object:  # a string field: its category codes come cheap from the small set
            env.set_codes(name, category_codes(out, env.ctx.vocab.get(name, {}))[slots])
        return out[slots]

    def lookup(value: object) -> object:  # the memo's Python value (from out.tolist())
        hit = memo.get(None if value is None or value != value else value)
        return recordplan.UNKNOWN if hit is None else hit[0]
    recordplan.add_field(ctx, run if key is None else key, source, lookup)
    return run


def _frozen(col: np.ndarray) -> np.ndarray:
    """A column shared between calls: read-only, so an in-place change fails loudly."""
    col.flags.writeable = False
    return col


def _outputs(model: Element, ctx: Ctx, path: str) -> list[tuple[str, OutputFn, bool]]:
    out = child(model, "Output")
    fields = []
    for of in children(out, "OutputField") if out is not None else []:
        name = of.get("name", "")
        ctx.types[name] = of.get("dataType", "string")
        # JPMML neither checks nor maps an output against its Values; only an ordinal field's order
        # could matter (comparisons of a later model), so only that case is refused.
        if of.get("optype") == "ordinal" and children(of, "Value"):
            raise UnsupportedElement("Value of an ordinal OutputField", f"{path}/OutputField[@name={name!r}]",
                                     ["Values of a categorical or continuous OutputField"])
        fn = _output_field(of, model, ctx, f"{path}/OutputField[@name={name!r}]")
        from_result = of.get("feature", "predictedValue") not in _EXPRESSION_FEATURES
        fields.append((name, _as_float32(fn) if of.get("dataType") == "float" else fn, from_result))
    return fields


# JPMML computes these from the Output's expression; every other feature reads the model's result,
# and is "not defined" where the model gave no prediction (MissingFieldException when read).
_EXPRESSION_FEATURES = ("transformedValue", "decision")
_UNDEFINED = "\0no prediction"  # hidden column of an output Env: the rows without a prediction


def _no_prediction(result: ModelResult, target_type: str | None) -> np.ndarray | None:
    """The rows where the model gave no prediction, or None when every row has one."""
    if result.value is None and result.probs is None and result.index is None:
        return None
    missing = is_missing(result.predicted(target_type))
    return missing if missing.any() else None


def _target_as_missing(env: Env, target: str, target_type: str | None) -> None:
    """An output's FieldRef to the target reads the (absent) input, missing, as in JPMML."""
    try:
        env.get(target)
    except KeyError:
        numeric = target_type in NUMERIC_TYPES
        env.cols[target] = np.full(env.n, np.nan) if numeric else np.full(env.n, None, dtype=object)


def _undefined_where(env: Env, name: str, col: np.ndarray, undefined: np.ndarray) -> None:
    """Put a result output in ``env`` so that reading it fails on the rows without a prediction.

    As in JPMML-Evaluator, only a read fails the row: an ``if`` branch that no such row takes
    does not (the mask is a column, so an Env over a subset of rows cuts it too).
    """
    env.cols[_UNDEFINED] = undefined
    env.cols[f"\0{name}"] = col

    def read(sub: Env) -> np.ndarray:
        undefined_here = sub.get(_UNDEFINED)
        if undefined_here.any():
            raise RowEvaluationError(
                f"output field {name!r} is not defined: the model gave no prediction for this row (for "
                "example no tree node for a missing value), and an OutputField reads it. JPMML-Evaluator "
                "refuses the row too (MissingFieldException); give the row the values the model needs",
                rows=undefined_here)
        return sub.get(f"\0{name}")
    env.derived[name] = read


def _as_float32(fn: OutputFn) -> OutputFn:
    return lambda env, r, target_type: _float32_column(fn(env, r, target_type))


def _output_field(of: Element, model: Element, ctx: Ctx, path: str) -> OutputFn:
    feature, value, dtype = of.get("feature", "predictedValue"), of.get("value"), of.get("dataType")
    if feature == "predictedValue":
        def predicted(env: Env, r: ModelResult, target_type: str | None) -> np.ndarray:
            col = r.predicted(target_type)
            if dtype in NUMERIC_TYPES and col.dtype == object:
                return np.array([np.nan if v is None else float(v) for v in col])
            return col
        return predicted
    if feature == "reasonCode":
        from .elements.scorecard import reason_code_output
        return reason_code_output(of, model, path)
    if of.get("rank") is not None or local(model.tag) == "NearestNeighborModel":
        return _nearest_output(of, model, feature, path)
    if feature == "probability" and model.get("functionName") != "classification":
        raise UnsupportedElement(f"OutputField feature='probability' in a {model.get('functionName')} model",
                                 path, ["predictedValue", "transformedValue"])
    if feature == "probability":
        def probability(env: Env, r: ModelResult, target_type: str | None) -> np.ndarray:
            if r.probs is None:
                return np.full(env.n, np.nan)
            if value is None:
                idx = r.winner()
                return np.where(idx >= 0, r.probs[np.arange(env.n), np.maximum(idx, 0)], np.nan)
            if value not in r.labels:
                return np.zeros(env.n)
            return r.probs[:, r.labels.index(value)]
        return probability
    if feature in ("transformedValue", "decision"):
        expr = expression_of(of, ctx, path)
        refs = _field_refs(of)
        if len(refs) == 1:  # e.g. JPMML-SparkML's label mapped to a number: once per distinct value
            expr = by_distinct_values(expr, next(iter(refs)), of.get("name", ""), ctx, key=of)
        return lambda env, r, target_type: expr(env)
    if feature in ("entityId", "clusterId", "clusterAffinity", "affinity", "entityAffinity") \
            and local(model.tag) != "ClusteringModel":  # e.g. a tree's entityId is its node id
        raise UnsupportedElement(f"OutputField feature={feature!r} in a {local(model.tag)}", path,
                                 ["predictedValue", "probability", "transformedValue", "decision"])
    if feature in ("entityId", "clusterId"):
        def entity(env: Env, r: ModelResult, target_type: str | None) -> np.ndarray:
            idx = r.winner()
            if feature == "clusterId":
                return np.where(idx >= 0, idx + 1.0, np.nan)
            return labels_as(r.labels, idx, dtype)
        return entity
    if feature in ("clusterAffinity", "affinity", "entityAffinity"):
        def affinity(env: Env, r: ModelResult, target_type: str | None) -> np.ndarray:
            if r.affinity is None:
                return np.full(env.n, np.nan)
            idx = r.winner() if value is None else np.full(env.n, r.labels.index(value))
            return r.affinity[np.arange(env.n), np.maximum(idx, 0)]
        return affinity
    raise UnsupportedElement(f"OutputField feature={feature!r}", path,
                             ["predictedValue", "probability", "transformedValue", "entityId", "clusterAffinity"])


def _nearest_output(of: Element, model: Element, feature: str, path: str) -> OutputFn:
    """A k-NN model's entityId of rank k (the k-th nearest training instance); rank means nothing elsewhere."""
    rank = float(of.get("rank", "1"))
    if local(model.tag) != "NearestNeighborModel" or feature != "entityId" or rank < 1 or rank != int(rank):
        raise UnsupportedElement(f"OutputField feature={feature!r} rank={of.get('rank', '1')!r} in a "
                                 f"{local(model.tag)}", path,
                                 ["predictedValue, transformedValue, decision; in a NearestNeighborModel "
                                  "also entityId with rank 1, 2..."])
    column, numeric = int(rank) - 1, of.get("dataType") in NUMERIC_TYPES

    def neighbor(env: Env, r: ModelResult, target_type: str | None) -> np.ndarray:
        assert r.entities is not None  # every NearestNeighborModel result names its instances
        ids = r.entities[:, column]
        return np.array([float(v) for v in ids]) if numeric else ids
    return neighbor


def compile_document(root: Element) -> tuple[Ctx, dict[str, Expr], Core]:
    """The whole document: field types, TransformationDictionary and the model plan.

    Every failure is a PmmlkitError: what the strict check did not catch and a compiler
    tripped on is reported as a NativeCompileError, never as a bare ValueError or KeyError.
    """
    try:
        return _compile_document(root)
    except (ValueError, KeyError, IndexError, TypeError, ZeroDivisionError, RecursionError) as e:
        raise NativeCompileError(
            f"the native compiler failed on this document ({type(e).__name__}: {str(e)[:200]}): a pmmlkit "
            "defect or a malformed document the strict check missed. Use backend='jpmml' and please report "
            "it") from e


def _compile_document(root: Element) -> tuple[Ctx, dict[str, Expr], Core]:
    from . import elements  # noqa: F401  (registers the element compilers)

    scan = check_document(root)  # refuses what is not implemented, before anything compiles
    ctx = Ctx()
    ctx.types.update(scan.types)
    dd = child(root, "DataDictionary")
    for df in children(dd, "DataField") if dd is not None else []:
        ctx.types[df.get("name", "")] = df.get("dataType", "string")
        ctx.values[df.get("name", "")] = tuple(v.get("value", "") for v in children(df, "Value")
                                                if v.get("property", "valid") == "valid")
    for name, value in scan.categories:  # the whole vocabulary, before any compiler runs
        if not ctx.is_numeric(name):
            ctx.encode(name, value)
    define_functions(child(root, "TransformationDictionary"), ctx, "PMML/TransformationDictionary")
    derived = derived_fields(child(root, "TransformationDictionary"), ctx, "PMML/TransformationDictionary")
    model = next((c for c in root if local(c.tag) in MODEL_ELEMENTS), None)
    if model is None:
        raise UnsupportedElement("(no model)", "PMML", sorted(ELEMENTS))
    return ctx, derived, compile_model(model, ctx, "PMML")
