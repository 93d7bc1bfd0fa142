"""Exact interventional SHAP of linear models: RegressionModel and GeneralRegressionModel.

A linear model's raw score is ``intercept + sum over terms t of w_t * t(x)``, each term reading
one input field (through any derived fields: scaling, one-hot, imputation). Over a background
sample Z, the interventional Shapley value of input field f is exactly

    phi_f(x) = sum over the terms t of f: w_t * (t(x) - mean over z in Z of t(z))

and ``base`` = the mean raw score over Z, so ``base + sum phi == raw``. A term that reads two
input fields (a PredictorTerm, an interaction parameter) cannot be split: refused.

Background rows the model gives no score (a missing value without replacement) are left
out of the means; a row to explain without a score gets NaN.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import ExplanationError
from ....pmml.fields import child, children, local
from ..compile import float_math, target_of
from ..context import Env
from ..elements.general_regression import design
from .base import Explanation
from .inputs import ModelEnv, Sources, binary_classes, input_names, need_background, target_rescale, top_model

if TYPE_CHECKING:
    from ..backend import NativeBackend

Value = Callable[[Env], np.ndarray]
SYMMETRIC_LINKS = ("logit", "probit", "cauchit")  # link(1 - p) == -link(p): the other class is the negation
LINEAR_LINKS = ("none", "identity")  # the "probability" is the linear value itself: the other class is 1 - v


@dataclass(frozen=True)
class Term:
    weight: float
    field: str | None  # the input field the term reads; None: it reads none (a constant)
    value: Value


@dataclass(frozen=True)
class LinearForm:
    of: str
    intercept: float
    terms: tuple[Term, ...]

    def scaled(self, factor: float, constant: float = 0.0, of: str | None = None) -> LinearForm:
        terms = tuple(Term(t.weight * factor, t.field, t.value) for t in self.terms)
        return LinearForm(of or self.of, self.intercept * factor + constant, terms)

    def minus(self, other: LinearForm, of: str) -> LinearForm:
        return LinearForm(of, self.intercept - other.intercept, self.terms + other.scaled(-1.0).terms)

    def values(self, env: Env) -> np.ndarray:
        out = np.empty((env.n, len(self.terms)))
        with np.errstate(all="ignore"):
            for j, t in enumerate(self.terms):
                out[:, j] = t.value(env)
        return out


# --- reading the forms -----------------------------------------------------------------------

def _power(name: str, exponent: float) -> Value:
    return (lambda env: env.get(name)) if exponent == 1.0 else (lambda env: env.get(name) ** exponent)


def _indicator(name: str, code: float) -> Value:
    # Missing (NaN) and unseen (-1) codes match no category: 0, as in LinearTables.
    return lambda env: (env.num(name) == code).astype(np.float64)


def _product(names: list[str]) -> Value:
    def value(env: Env) -> np.ndarray:
        out = np.ones(env.n)
        for name in names:
            out = out * env.get(name)
        return out
    return value


def _table(backend: NativeBackend, table: Element, sources: Sources, of: str) -> LinearForm:
    ctx, terms = backend._ctx, []
    for p in children(table, "NumericPredictor"):
        name = p.get("name", "")
        field = sources.single([name], f"NumericPredictor {name!r}")
        terms.append(Term(float(p.get("coefficient", "0")), field, _power(name, float(p.get("exponent", "1")))))
    for p in children(table, "CategoricalPredictor"):
        name = p.get("name", "")
        field = sources.single([name], f"CategoricalPredictor {name!r}")
        code = ctx.encode(name, p.get("value", ""))
        terms.append(Term(float(p.get("coefficient", "0")), field, _indicator(name, code)))
    for t in children(table, "PredictorTerm"):
        names = [f.get("field", "") for f in children(t, "FieldRef")]
        field = sources.single(names, f"PredictorTerm {t.get('name') or names}")
        terms.append(Term(float(t.get("coefficient", "0")), field, _product(names)))
    return LinearForm(of, float(table.get("intercept", "0")), tuple(terms))


def _rescaled(form: LinearForm, model: Element, target: str) -> LinearForm:
    """A regression's Targets rescale (linear) applied; clamping or rounding it is not linear: refused."""
    return form.scaled(*target_rescale(model, repr(target)))


def _binary(form: LinearForm, first_is_positive: bool, link: str, *, element: str, of: str) -> LinearForm:
    """The positive class's raw score from the linear value ``form`` of the first (modelled) class."""
    if first_is_positive:
        return LinearForm(of, form.intercept, form.terms)
    if link in SYMMETRIC_LINKS:
        return form.scaled(-1.0, of=of)
    if link in LINEAR_LINKS:
        return form.scaled(-1.0, 1.0, of=of)
    raise ExplanationError(f"{element} with the {link} link models the first class, not the positive (second) "
                           "one, and that link is not symmetric: the positive class has no linear raw score")


def _margin_name(link: str, target: str, positive: str) -> str:
    if link in LINEAR_LINKS:
        return f"probability of {target}={positive}"
    return f"log-odds of {target}={positive}" if link in ("logit", "softmax") else \
        f"{link} linear predictor of {target}={positive}"


def _regression_model(backend: NativeBackend, model: Element, sources: Sources) -> LinearForm:
    path, target = "PMML/RegressionModel", target_of(model) or "the target"
    if float_math(model, path):
        raise ExplanationError("RegressionModel with x-mathContext='float': its 32-bit sums are not explained "
                               "exactly by 64-bit contributions (explain the double-precision export)")
    tables, method = children(model, "RegressionTable"), model.get("normalizationMethod", "none")
    if model.get("functionName") != "classification":
        form = _table(backend, tables[0], sources, f"predicted {target}")
        if method == "none":
            return _rescaled(form, model, target)
        return LinearForm(f"linear predictor of {target} (before the {method} normalization)", form.intercept,
                          form.terms)
    labels = tuple(t.get("targetCategory", "") for t in tables)
    negative, positive = binary_classes(backend, labels)
    of = _margin_name(method, target, positive)
    if len(tables) != 2 or {negative, positive} != set(labels):
        raise ExplanationError(f"RegressionModel of {target!r}: {len(tables)} RegressionTables for categories "
                               f"{list(labels)}, expected the two classes {[negative, positive]}")

    def read(label: str) -> LinearForm:  # only the tables the probabilities read (a binary link: the first)
        return _table(backend, tables[labels.index(label)], sources, of)
    if method == "softmax":
        return read(positive).minus(read(negative), of)
    if method in SYMMETRIC_LINKS + LINEAR_LINKS + ("cloglog", "loglog"):
        return _binary(read(labels[0]), labels[0] == positive, method, element="RegressionModel", of=of)
    raise ExplanationError(f"RegressionModel normalizationMethod={method!r}: no linear raw score to explain "
                           "(supported: softmax, logit, probit, cauchit, none, and cloglog/loglog on the "
                           "positive class)")


def _parameter(backend: NativeBackend, terms: list[tuple[str, str, float]]) -> Value:
    """A GeneralRegressionModel parameter's value: its factors' indicators times its covariates' powers."""
    def value(env: Env) -> np.ndarray:
        out = np.ones(env.n)
        for kind, field, v in terms:
            col = env.num(field)
            out = out * (np.where(np.isnan(col), np.nan, (col == v) * 1.0) if kind == "factor" else col ** v)
        return out
    return value


def _eta(backend: NativeBackend, beta: dict[str, float], terms: dict[str, list[tuple[str, str, float]]],
         sources: Sources,
         of: str) -> LinearForm:
    intercept, out = 0.0, []
    for p, b in beta.items():
        if not terms.get(p):
            intercept += b
            continue
        names = [field for _, field, _ in terms[p]]
        out.append(Term(b, sources.single(names, f"GeneralRegressionModel Parameter {p!r}"),
                        _parameter(backend, terms[p])))
    return LinearForm(of, intercept, tuple(out))


def _general_regression(backend: NativeBackend, model: Element, sources: Sources) -> LinearForm:
    target = target_of(model) or "the target"
    _, terms = design(model, backend._ctx)
    betas: dict[str | None, dict[str, float]] = {}
    pm = child(model, "ParamMatrix")
    for cell in children(pm, "PCell") if pm is not None else []:
        betas.setdefault(cell.get("targetCategory"), {})[cell.get("parameterName", "")] = float(cell.get("beta", "0"))
    link = model.get("linkFunction", "identity")
    if model.get("functionName") != "classification":
        beta = betas.get(None) or next(iter(betas.values()), {})
        if link == "identity":
            return _rescaled(_eta(backend, beta, terms, sources, f"predicted {target}"), model, target)
        return _eta(backend, beta, terms, sources, f"linear predictor (eta) of {target}, before the {link} link")
    modelled = [c for c in betas if c is not None]
    labels = tuple(modelled + [model.get("targetReferenceCategory", "")])
    negative, positive = binary_classes(backend, labels)
    if model.get("modelType") == "multinomialLogistic":  # softmax over eta, the reference's eta is 0
        of = _margin_name("logit", target, positive)
        zero = LinearForm(of, 0.0, ())
        etas = {c: _eta(backend, betas[c], terms, sources, of) for c in modelled}
        return etas.get(positive, zero).minus(etas.get(negative, zero), of)
    if len(modelled) != 1:
        raise ExplanationError(f"GeneralRegressionModel of {target!r}: ParamMatrix cells for {modelled}, "
                               "expected one modelled category of a binary target")
    of = _margin_name(link, target, positive)
    eta = _eta(backend, betas[modelled[0]], terms, sources, of)
    return _binary(eta, modelled[0] == positive, link, element="GeneralRegressionModel", of=of)


_READERS = {"RegressionModel": _regression_model, "GeneralRegressionModel": _general_regression}
_FORMS: weakref.WeakKeyDictionary[NativeBackend, tuple[LinearForm, ModelEnv]] = weakref.WeakKeyDictionary()
# The last background's term means per backend: a record's explanation then costs no pass over it.
_MEANS: weakref.WeakKeyDictionary[NativeBackend, tuple[dict[str, np.ndarray], np.ndarray]] = \
    weakref.WeakKeyDictionary()


def linear_form(backend: NativeBackend) -> tuple[LinearForm, ModelEnv]:
    """The document's linear form and its field environment, read once per backend."""
    found = _FORMS.get(backend)
    if found is None:
        model = top_model(backend)
        reader = _READERS.get(local(model.tag))
        if reader is None:
            raise ExplanationError(f"explain_linear explains {sorted(_READERS)}, not a {local(model.tag)}")
        found = _FORMS[backend] = (reader(backend, model, Sources(backend)), ModelEnv(backend))
    return found


# --- explaining ------------------------------------------------------------------------------

def explain_linear(backend: NativeBackend, columns: dict[str, np.ndarray], n_rows: int,
                   background: dict[str, np.ndarray] | None, n_background: int) -> Explanation:
    """Exact interventional SHAP values of a linear model's raw score, over the background rows."""
    form, env = linear_form(backend)
    need_background(background, n_background, f"{local(top_model(backend).tag)}")
    assert background is not None  # need_background refused None
    weights = np.array([t.weight for t in form.terms])
    x, mean = form.values(env(columns, n_rows)), _background_means(backend, background, n_background)
    with np.errstate(invalid="ignore"):
        raw = form.intercept + x @ weights
    base = form.intercept + float(mean @ weights)
    with np.errstate(invalid="ignore"):
        shares = (x - mean) * weights
    contributions = {name: np.zeros(n_rows) for name in input_names(backend)}
    for j, t in enumerate(form.terms):
        if t.field is not None:
            contributions[t.field] = contributions[t.field] + shares[:, j]
    return Explanation(of=form.of, base=np.full(n_rows, base), raw=raw, contributions=contributions)


def _background_means(backend: NativeBackend, background: dict[str, np.ndarray], n_background: int) -> np.ndarray:
    """Each term's mean over the background rows the model scores (computed once per background)."""
    found = _MEANS.get(backend)
    if found is not None and found[0] is background:
        return found[1]
    form, env = linear_form(backend)
    z = form.values(env(background, n_background))
    with np.errstate(invalid="ignore"):
        scored = np.isfinite(form.intercept + z @ np.array([t.weight for t in form.terms]))
    if not scored.any():
        raise ExplanationError(f"none of the {n_background} background rows gets a score from the model "
                               "(each misses a value the model needs): give background rows without "
                               "missing values")
    mean: np.ndarray = z[scored].mean(axis=0)
    _MEANS[backend] = (background, mean)
    return mean
