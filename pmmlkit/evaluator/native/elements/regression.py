"""RegressionModel: linear tables, then the normalization for regression or classification."""
from __future__ import annotations

from xml.etree.ElementTree import Element

import numpy as np

from ....errors import UnsupportedElement
from ....pmml.fields import children, local
from ..compile import ModelResult, register
from ..context import Ctx, Env
from ..kernels import INVERSE_LINKS, softmax

BINARY_LINKS = ("logit", "probit", "cloglog", "loglog", "cauchit", "none")


def linear_table(table: Element, ctx: Ctx, path: str):
    """One RegressionTable as a function of the Env: intercept + predictor terms."""
    intercept = float(table.get("intercept", "0"))
    numeric = [(p.get("name", ""), float(p.get("coefficient", "0")), float(p.get("exponent", "1")))
               for p in children(table, "NumericPredictor")]
    categorical = [(p.get("name", ""), ctx.encode(p.get("name", ""), p.get("value", "")),
                    float(p.get("coefficient", "0"))) for p in children(table, "CategoricalPredictor")]
    terms = [([f.get("field", "") for f in children(t, "FieldRef")], float(t.get("coefficient", "0")))
             for t in children(table, "PredictorTerm")]

    def run(env: Env) -> np.ndarray:
        y = np.full(env.n, intercept)
        for name, coef, exp in numeric:
            x = env.get(name)
            y = y + coef * (x if exp == 1.0 else x ** exp)
        for name, code, coef in categorical:
            # A missing category matches no predictor and adds nothing, as in JPMML.
            y = y + (env.num(name) == code) * coef
        for names, coef in terms:
            prod = np.full(env.n, coef)
            for name in names:
                prod = prod * env.get(name)
            y = y + prod
        return y
    return run


def classify(values: np.ndarray, method: str, path: str) -> np.ndarray:
    """Table values [rows, classes] -> probabilities, per the PMML normalizationMethod."""
    if method == "softmax":
        return softmax(values)
    if method == "simplemax":
        return values / values.sum(axis=1, keepdims=True)
    if values.shape[1] == 2 and method in BINARY_LINKS:
        first = INVERSE_LINKS[method](values[:, 0])
        return np.column_stack([first, 1.0 - first])
    if method in INVERSE_LINKS:
        return INVERSE_LINKS[method](values)
    raise UnsupportedElement(f"normalizationMethod={method!r}", path, sorted(INVERSE_LINKS))


def compile_regression_model(model: Element, ctx: Ctx, path: str):
    tables = [t for t in model if local(t.tag) == "RegressionTable"]
    fns = [linear_table(t, ctx, f"{path}/RegressionTable[{i + 1}]") for i, t in enumerate(tables)]
    method = model.get("normalizationMethod", "none")
    if model.get("functionName") == "classification":
        labels = tuple(t.get("targetCategory", "") for t in tables)

        def run_classification(env: Env) -> ModelResult:
            values = np.column_stack([f(env) for f in fns])
            with np.errstate(all="ignore"):
                probs = classify(values, method, path)
            return ModelResult(labels=labels, probs=probs)
        return run_classification
    # For a single regression table PMML defines softmax as the logistic function.
    inverse = INVERSE_LINKS.get("logit" if method == "softmax" else method)
    if inverse is None or method == "log":
        raise UnsupportedElement(f"normalizationMethod={method!r}", path, sorted(INVERSE_LINKS))

    def run_regression(env: Env) -> ModelResult:
        with np.errstate(all="ignore"):
            return ModelResult(value=inverse(fns[0](env)))
    return run_regression


register("RegressionModel", compile_regression_model)
