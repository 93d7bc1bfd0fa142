"""GeneralRegressionModel (generalizedLinear, regression, multinomialLogistic): eta through the link."""
from __future__ import annotations

from collections.abc import Callable
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import UnsupportedElement
from ....pmml.fields import child, children
from ..compile import Core, register, target_of
from ..context import Ctx, Env
from ..kernels import INVERSE_LINKS, softmax
from ..result import ModelResult
from ..supported import parse_number

MODEL_TYPES = ("regression", "generalLinear", "generalizedLinear", "multinomialLogistic")
Term = tuple[str, str, float]  # ("factor", field, category code) or ("covariate", field, exponent)


def _inverse_link(model: Element, path: str) -> Callable[[np.ndarray], np.ndarray]:
    link = model.get("linkFunction", "identity")
    if link == "power":
        d = float(model.get("linkParameter", "1"))
        return np.exp if d == 0 else (lambda eta: np.power(eta, 1.0 / d))
    if link not in INVERSE_LINKS:
        raise UnsupportedElement(f"GeneralRegressionModel linkFunction={link!r}", path,
                                 sorted(INVERSE_LINKS) + ["power"])
    return INVERSE_LINKS[link]


def design(model: Element, ctx: Ctx) -> tuple[list[str], dict[str, list[Term]]]:
    """Parameters, and for each the terms (field, factor code or covariate exponent) it multiplies."""
    plist = child(model, "ParameterList")
    params = [p.get("name", "") for p in children(plist, "Parameter")] if plist is not None else []
    factors = {p.get("name", "") for p in children(child(model, "FactorList") or model, "Predictor")}
    terms: dict[str, list[Term]] = {p: [] for p in params}
    pp = child(model, "PPMatrix")
    for cell in children(pp, "PPCell") if pp is not None else []:
        field, value = cell.get("predictorName", ""), cell.get("value", "")
        term: Term
        if field in factors:
            term = ("factor", field, ctx.encode(field, value))
        else:
            term = ("covariate", field, parse_number(value, "PPCell value (a covariate's exponent)",
                                                     f"PPCell[@predictorName={field!r}]"))
        terms.setdefault(cell.get("parameterName", ""), []).append(term)
    return params, terms


def compile_general_regression(model: Element, ctx: Ctx, path: str) -> Core:
    if model.get("modelType") not in MODEL_TYPES:
        raise UnsupportedElement(f"GeneralRegressionModel modelType={model.get('modelType')!r}", path, MODEL_TYPES)
    params, terms = design(model, ctx)
    betas: dict[str | None, dict[str, float]] = {}
    pm = child(model, "ParamMatrix")
    for cell in children(pm, "PCell") if pm is not None else []:
        betas.setdefault(cell.get("targetCategory"), {})[cell.get("parameterName", "")] = float(cell.get("beta", "0"))
    inverse = _inverse_link(model, path) if model.get("modelType") != "multinomialLogistic" else None

    def eta(env: Env, beta: dict[str, float]) -> np.ndarray:
        out = np.zeros(env.n)
        for p, b in beta.items():
            x = np.full(env.n, b)
            for kind, field, v in terms.get(p, []):
                col = env.num(field)
                x = x * (np.where(np.isnan(col), np.nan, (col == v) * 1.0) if kind == "factor" else col ** v)
            out = out + x
        return out

    if model.get("functionName") != "classification":
        if inverse is None:  # it would fail on the first row (None is not callable): refuse it here
            raise UnsupportedElement("GeneralRegressionModel modelType=multinomialLogistic without "
                                     "functionName=classification", path, ["functionName=classification"])
        beta = betas.get(None) or next(iter(betas.values()), {})

        def run_regression(env: Env) -> ModelResult:
            with np.errstate(all="ignore"):
                return ModelResult(value=inverse(eta(env, beta)))
        return run_regression
    target = target_of(model) or ""
    modelled = [c for c in betas if c is not None]
    labels = ctx.values.get(target) or tuple(modelled + [model.get("targetReferenceCategory", "")])

    def run_classification(env: Env) -> ModelResult:
        with np.errstate(all="ignore"):
            etas = {c: eta(env, betas[c]) for c in modelled}
            if inverse is not None and len(labels) == 2 and len(modelled) == 1:
                p = inverse(etas[modelled[0]])
                probs = np.column_stack([p if lab == modelled[0] else 1.0 - p for lab in labels])
            else:  # multinomial: the reference category has eta 0
                probs = softmax(np.column_stack([etas.get(lab, np.zeros(env.n)) for lab in labels]))
        return ModelResult(labels=tuple(labels), probs=probs)
    return run_classification


register("GeneralRegressionModel", compile_general_regression)
