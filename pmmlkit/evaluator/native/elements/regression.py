"""RegressionModel: linear tables, then the normalization for regression or classification."""
from __future__ import annotations

from xml.etree.ElementTree import Element

import numpy as np

from ....errors import RowEvaluationError, UnsupportedElement
from ....pmml.fields import children, local
from ..compile import Core, float_math, register
from ..context import Ctx, Env
from ..kernels import INVERSE_LINKS, java_winner, running_sum, softmax
from ..result import ModelResult

BINARY_LINKS = ("logit", "probit", "cloglog", "loglog", "cauchit", "none")
CLASSIFICATION_METHODS = ("softmax", "simplemax", "logit", "none")  # for any number of tables


class LinearTables:
    """Every RegressionTable of a model at once: values [rows, tables] in a few whole-array steps.

    Numeric predictors form a [terms, tables] coefficient matrix. Categorical predictors on a
    string field form one lookup by category code (row 0: missing or unseen, which match no
    predictor and add nothing, as in JPMML). A missing numeric input makes the value of every
    table that uses it missing, and only those.
    """

    def __init__(self, tables: list[Element], ctx: Ctx):
        self.ctx = ctx
        width = len(tables)
        self.intercepts = np.array([float(t.get("intercept", "0")) for t in tables])
        terms: dict[tuple[str, float], np.ndarray] = {}
        self.categories: dict[str, dict[float, np.ndarray]] = {}  # string field -> code -> coefficients
        self.equal: list[tuple[str, float, np.ndarray]] = []  # category tests on numeric fields
        self.products: list[tuple[list[str], np.ndarray]] = []
        uses: dict[tuple[str, float], np.ndarray] = {}
        for j, table in enumerate(tables):
            for p in children(table, "NumericPredictor"):
                key = (p.get("name", ""), float(p.get("exponent", "1")))
                terms.setdefault(key, np.zeros(width))[j] += float(p.get("coefficient", "0"))
                uses.setdefault(key, np.zeros(width, bool))[j] = True
            for p in children(table, "CategoricalPredictor"):
                name, coef = p.get("name", ""), float(p.get("coefficient", "0"))
                code = ctx.encode(name, p.get("value", ""))
                if ctx.is_numeric(name):
                    self.equal.append((name, code, _unit(width, j, coef)))
                else:
                    self.categories.setdefault(name, {}).setdefault(code, np.zeros(width))[j] += coef
            for t in children(table, "PredictorTerm"):
                self.products.append(([f.get("field", "") for f in children(t, "FieldRef")],
                                      _unit(width, j, float(t.get("coefficient", "0")))))
        self.terms = list(terms)
        self.coef = np.array([terms[k] for k in self.terms]).reshape(len(terms), width)
        self.uses = np.array([uses[k] for k in self.terms]).reshape(len(terms), width)
        self._lookup: list[tuple[str, np.ndarray]] | None = None

    def _category_blocks(self) -> list[tuple[str, np.ndarray]]:
        """Per string field, [codes + 1, tables] coefficients (row 0: missing or unseen, zero).

        Built on first use, when every compiler has added its codes to the vocabulary.
        """
        if self._lookup is None:
            lookup = []
            for name, by_code in self.categories.items():
                block = np.zeros((len(self.ctx.vocab.get(name, {})) + 1, len(self.intercepts)))
                for code, coef in by_code.items():
                    block[int(code) + 1] += coef
                lookup.append((name, block))
            self._lookup = lookup
        return self._lookup

    def __call__(self, env: Env) -> np.ndarray:
        y = np.tile(self.intercepts, (env.n, 1))
        if self.terms:
            X = np.empty((env.n, len(self.terms)))
            for j, (name, exp) in enumerate(self.terms):
                x = env.get(name)
                X[:, j] = x if exp == 1.0 else x ** exp
            if self.uses.all() or np.isfinite(X).all():
                y += X @ self.coef
            else:  # a missing (or infinite) input must not reach tables that do not use it
                for j in range(y.shape[1]):
                    used = self.uses[:, j]
                    y[:, j] += X[:, used] @ self.coef[used, j]
        for name, block in self._category_blocks():
            # Missing (NaN) and unseen (-1) codes both land on row 0, which is zero.
            y += np.take(block, (np.fmax(env.num(name), -1.0) + 1.0).astype(np.intp), axis=0)
        for name, code, coef in self.equal:
            y += (env.num(name) == code)[:, None] * coef
        for names, coef in self.products:
            prod = np.ones(env.n)
            for name in names:
                prod = prod * env.get(name)
            y += prod[:, None] * coef
        return y


def _unit(width: int, j: int, value: float) -> np.ndarray:
    out = np.zeros(width)
    out[j] = value
    return out


def classify(values: np.ndarray, method: str, path: str) -> np.ndarray:
    """Table values [rows, classes] -> probabilities, per the PMML normalizationMethod."""
    if method == "softmax":
        return softmax(values)
    if method == "simplemax":
        total = values.sum(axis=1, keepdims=True)
        if (total == 0).any():  # JPMML: UndefinedResultException for that row
            raise RowEvaluationError(f"normalizationMethod='simplemax' at {path}: the RegressionTable values "
                                     "sum to 0, so the probabilities are undefined")
        return values / total
    if values.shape[1] == 2 and method in BINARY_LINKS:
        out = np.empty_like(values)
        out[:, 0] = INVERSE_LINKS[method](values[:, 0])
        out[:, 1] = 1.0 - out[:, 0]
        return out
    if method in INVERSE_LINKS:
        return INVERSE_LINKS[method](values)
    raise UnsupportedElement(f"normalizationMethod={method!r}", path, sorted(INVERSE_LINKS))


class FloatTables:
    """x-mathContext="float" tables (XGBoost), in JPMML-Evaluator 1.7's FloatValue order.

    Each table starts at 0f, adds float(coefficient) * float(x) per NumericPredictor in document
    order, then its intercept when not zero; every step rounds to 32 bits. Only what XGBoost
    writes is implemented: other predictors and exponents are refused.
    """

    def __init__(self, tables: list[Element], path: str):
        self.tables = []
        for i, table in enumerate(tables):
            where = f"{path}/RegressionTable[{i + 1}]"
            other = [local(c.tag) for c in table if local(c.tag) in ("CategoricalPredictor", "PredictorTerm")]
            if other:
                raise UnsupportedElement(f"{other[0]} in a RegressionModel with x-mathContext='float'", where,
                                         ["NumericPredictor"])
            terms = []
            for p in children(table, "NumericPredictor"):
                if float(p.get("exponent", "1")) != 1.0:
                    raise UnsupportedElement(f"NumericPredictor exponent={p.get('exponent')!r} with "
                                             "x-mathContext='float'", where, ["1"])
                terms.append((p.get("name", ""), np.float32(p.get("coefficient", "0"))))
            self.tables.append((terms, np.float32(table.get("intercept", "0"))))

    def __call__(self, env: Env) -> np.ndarray:
        out = np.zeros((env.n, len(self.tables)), dtype=np.float32)
        for j, (terms, intercept) in enumerate(self.tables):
            acc = np.zeros(env.n, dtype=np.float32)
            for name, coef in terms:  # NaN (a missing input) makes the table missing, as null does in JPMML
                acc = acc + coef * env.get(name).astype(np.float32)
            out[:, j] = acc + intercept if intercept != 0 else acc
        return out


def float_exp(x: np.ndarray) -> np.ndarray:
    """JPMML's FloatValue exp: (float)Math.pow(2.7182817d, x), not Math.exp (so not np.exp)."""
    return np.power(2.7182817, x.astype(np.float64)).astype(np.float32)


def float_logit(x: np.ndarray) -> np.ndarray:
    return np.float32(1.0) / (np.float32(1.0) + float_exp(-x))


def float_classify(values: np.ndarray, method: str, binomial: bool) -> np.ndarray:
    """Float table values [rows, classes] -> float probabilities, as RegressionModelUtil computes them."""
    if binomial:  # the first table's probability, the second's is its residual
        out = np.empty_like(values)
        out[:, 0] = float_logit(values[:, 0])
        out[:, 1] = np.float32(1.0) - out[:, 0]
        return out
    # softmax: exp(v - max), summed left to right in 32 bits; a sum of exactly 1 is left undivided
    top = np.where(np.isnan(values).any(axis=1), np.nan, values.max(axis=1))
    e = float_exp(values - top[:, None].astype(np.float32))
    total = running_sum(e, np.float32)
    return np.where((total == 1)[:, None], e, e / total[:, None])


def _float_model(model: Element, tables: list[Element], method: str, path: str) -> Core:
    """A RegressionModel with x-mathContext="float": XGBoost's logit/softmax over its float sums."""
    linear = FloatTables(tables, path)
    if model.get("functionName") == "classification":
        labels = tuple(t.get("targetCategory", "") for t in tables)
        default_second = len(tables) == 2 and not linear.tables[1][0] and linear.tables[1][1] == 0
        binomial = len(tables) == 2 and (method == "logit" or (method == "softmax" and default_second))
        if not binomial and (method != "softmax" or len(tables) < 2):
            raise UnsupportedElement(f"RegressionModel normalizationMethod={method!r} with {len(tables)} "
                                     "RegressionTables and x-mathContext='float'", path,
                                     ["logit (2 tables)", "softmax"])

        def run_float_classification(env: Env) -> ModelResult:
            with np.errstate(all="ignore"):
                values = linear(env)
                probs = float_classify(values, method, binomial).astype(np.float64)
            return ModelResult(labels=labels, probs=probs, index=java_winner(probs, values.astype(np.float64)))
        return run_float_classification
    inverse = {"none": lambda v: v, "logit": float_logit, "softmax": float_logit, "exp": float_exp}.get(method)
    if inverse is None or len(tables) != 1:
        raise UnsupportedElement(f"RegressionModel normalizationMethod={method!r} with x-mathContext='float'",
                                 path, ["none", "logit", "softmax", "exp"])

    def run_float_regression(env: Env) -> ModelResult:
        with np.errstate(all="ignore"):
            return ModelResult(value=inverse(linear(env)[:, 0]).astype(np.float64))
    return run_float_regression


def compile_regression_model(model: Element, ctx: Ctx, path: str) -> Core:
    tables = [t for t in model if local(t.tag) == "RegressionTable"]
    method = model.get("normalizationMethod", "none")
    if float_math(model, path):
        return _float_model(model, tables, method, path)
    linear = LinearTables(tables, ctx)
    if model.get("functionName") == "classification":
        labels = tuple(t.get("targetCategory", "") for t in tables)
        allowed = CLASSIFICATION_METHODS if len(tables) != 2 else CLASSIFICATION_METHODS + BINARY_LINKS
        if method not in allowed:  # JPMML refuses them too (InvalidAttributeException)
            raise UnsupportedElement(f"RegressionModel normalizationMethod={method!r} with {len(tables)} "
                                     "RegressionTables", path, sorted(set(allowed)))

        def run_classification(env: Env) -> ModelResult:
            with np.errstate(all="ignore"):
                values = linear(env)
                probs = classify(values, method, path)
            # A missing input: no prediction. An infinite value: NaN probabilities, JPMML's label.
            return ModelResult(labels=labels, probs=probs, index=java_winner(probs, values))
        return run_classification
    # For a single regression table PMML defines softmax as the logistic function.
    inverse = INVERSE_LINKS.get("logit" if method == "softmax" else method)
    if inverse is None or method == "log":
        raise UnsupportedElement(f"normalizationMethod={method!r}", path, sorted(INVERSE_LINKS))

    def run_regression(env: Env) -> ModelResult:
        with np.errstate(all="ignore"):
            return ModelResult(value=inverse(linear(env)[:, 0]))
    return run_regression


register("RegressionModel", compile_regression_model)
