"""RegressionModel: linear tables, then the normalization for regression or classification."""
from __future__ import annotations

from xml.etree.ElementTree import Element

import numpy as np

from ....errors import RowEvaluationError, UnsupportedElement
from ....pmml.fields import children, local
from .. import compiled
from ..compile import Core, float_math, register
from ..context import Ctx, Env
from ..kernels import INVERSE_LINKS, RunningSums, java_winner, running_sum, softmax
from ..recordplan import Record, Scored, Twin, add
from ..result import ModelResult

BINARY_LINKS = ("logit", "probit", "cloglog", "loglog", "cauchit", "none")
CLASSIFICATION_METHODS = ("softmax", "simplemax", "logit", "none")  # for any number of tables
EXP_SAFE = 700.0  # |table value| below which exp neither overflows nor underflows to 0 (record plan)
# One table for records: (field, coefficient) numeric terms, (field, vocabulary, coefficient by code + 1)
# categorical runs of string fields, (field, coefficient by value) runs of numeric fields,
# (fields, coefficient) products, intercept.
_TablePlan = tuple[list[tuple[str, float]], list[tuple[str, dict[str, int], list[float]]],
                   list[tuple[str, dict[float, float]]], list[tuple[list[str], float]], float]


class LinearTables:
    """Every RegressionTable of a model at once: values [rows, tables], summed in JPMML's order.

    Each table starts at 0 and adds, as JPMML-Evaluator does, coefficient * x per
    NumericPredictor in document order, then the coefficient of the first matching
    CategoricalPredictor of each run of one field's predictors, then coefficient * x1 * x2...
    per PredictorTerm, then the intercept when it is not 0. Element-wise NumPy, no BLAS: every
    row meets the same arithmetic whatever the batch size, thread count or BLAS build, and no
    BLAS thread pool competes with the caller's threads. A categorical predictor on a string
    field is one lookup by category code (row 0: missing or unseen, which match no predictor
    and add nothing, as in JPMML). A missing numeric input makes missing the value of every
    table that uses it, and only those.
    """

    def __init__(self, tables: list[Element], ctx: Ctx):
        self.ctx = ctx
        self.intercepts = [float(t.get("intercept", "0")) for t in tables]
        self.numeric: list[list[tuple[str, float, float]]] = []  # per table: (field, exponent, coefficient)
        # Per table, runs of one field's CategoricalPredictors: (field, {code: coefficient}), where
        # JPMML stops a run at its first match, so the first predictor of a value wins.
        self.categorical: list[list[tuple[str, dict[float, float]]]] = []
        self.products: list[list[tuple[list[str], float]]] = []
        for table in tables:
            self.numeric.append([(p.get("name", ""), float(p.get("exponent", "1")), float(p.get("coefficient", "0")))
                                 for p in children(table, "NumericPredictor")])
            runs: list[tuple[str, dict[float, float]]] = []
            for p in children(table, "CategoricalPredictor"):
                name = p.get("name", "")
                if not runs or runs[-1][0] != name:
                    runs.append((name, {}))
                runs[-1][1].setdefault(ctx.encode(name, p.get("value", "")), float(p.get("coefficient", "0")))
            self.categorical.append(runs)
            self.products.append([([f.get("field", "") for f in children(t, "FieldRef")],
                                   float(t.get("coefficient", "0")))
                                  for t in children(table, "PredictorTerm")])
        self._lookup: dict[tuple[int, int], np.ndarray] = {}
        self._plan: list[_TablePlan] | None = None
        self._planned = False  # _plan is built at the first record
        self._sums: RunningSums | None = None  # the compiled program and its inputs, at the first batch
        self._specs: list[tuple[str, str | int, float | int]] | None = None

    def _block(self, j: int, k: int) -> np.ndarray:
        """Run k of table j as coefficients by code + 1 (row 0: missing or unseen, zero).

        Built on first use, when every compiler has added its codes to the vocabulary.
        """
        block = self._lookup.get((j, k))
        if block is None:
            name, by_code = self.categorical[j][k]
            block = np.zeros(len(self.ctx.vocab.get(name, {})) + 1)
            for code, coef in by_code.items():
                block[int(code) + 1] = coef
            self._lookup[(j, k)] = block
        return block

    def record(self, fields: Record) -> list[float] | None:
        """Every table's value for one record, by __call__'s very steps on Python floats; None: not covered."""
        plan = self._record_plan()
        if plan is None:
            return None
        out = []
        for numeric, categorical, by_number, products, intercept in plan:
            acc = 0.0
            for name, coef in numeric:
                x = fields.get(name)
                if type(x) is not float:
                    return None
                acc += coef * x
            for name, vocab, by_code in categorical:
                v = fields.get(name)
                if v is None:
                    acc += by_code[0]  # 0.0, added as __call__ adds it
                elif type(v) is str:
                    acc += by_code[vocab.get(v, -1) + 1]
                else:
                    return None
            for name, by_value in by_number:  # at most one value matches, as np.select picks it
                x = fields.get(name)
                if type(x) is not float:
                    return None
                acc += by_value.get(x, 0.0) if x == x else 0.0
            for names, coef in products:
                prod = coef
                for name in names:
                    x = fields.get(name)
                    if type(x) is not float:
                        return None
                    prod = prod * x
                acc += prod
            if intercept != 0.0:
                acc += intercept
            out.append(acc)
        return out

    def _record_plan(self) -> list[_TablePlan] | None:
        """Per table what ``record`` reads, built at the first record (when the vocabulary is complete).

        None when a table has what records leave to __call__: an exponent (NumPy's power), or a
        categorical predictor of a numeric field before one of a string field (``record`` adds
        the string fields' runs first, and the sum must keep __call__'s order).
        """
        if not self._planned:
            plan: list[_TablePlan] | None = []
            for j, intercept in enumerate(self.intercepts):
                runs = self.categorical[j]
                numbers = [self.ctx.is_numeric(name) for name, _ in runs]
                if plan is None or any(exp != 1.0 for _, exp, _ in self.numeric[j]) or numbers != sorted(numbers):
                    plan = None
                    break
                plan.append(([(name, coef) for name, _, coef in self.numeric[j]],
                             [(name, self.ctx.vocab.get(name, {}), self._block(j, k).tolist())
                              for k, (name, _) in enumerate(runs) if not numbers[k]],
                             [(name, by_code) for k, (name, by_code) in enumerate(runs) if numbers[k]],
                             self.products[j], intercept))
            self._plan, self._planned = plan, True
        return self._plan

    def __call__(self, env: Env) -> np.ndarray:
        if compiled.kernels() is not None:
            inputs = self._inputs(env)
            if all(x.dtype == np.float64 and x.ndim == 1 for x in inputs):
                return self._program()(inputs, env.n)
        powers: dict[tuple[str, float], np.ndarray] = {}
        slots: dict[str, np.ndarray] = {}
        y = np.empty((env.n, len(self.intercepts)))
        for j, intercept in enumerate(self.intercepts):
            acc = np.zeros(env.n)
            for name, exp, coef in self.numeric[j]:
                x = powers.get((name, exp))
                if x is None:
                    x = powers[(name, exp)] = _power(env, name, exp)
                acc += coef * x
            for k, (name, _) in enumerate(self.categorical[j]):
                if self.ctx.is_numeric(name):
                    acc += self._numeric_run(env, j, k)
                    continue
                at = slots.get(name)
                if at is None:  # missing (NaN) and unseen (-1) codes both land on row 0, which is zero
                    at = slots[name] = (np.fmax(env.num(name), -1.0) + 1.0).astype(np.intp)
                acc += self._block(j, k).take(at)
            for t in range(len(self.products[j])):
                acc += self._product(env, j, t)
            if intercept != 0.0:
                acc += intercept
            y[:, j] = acc
        return y

    def _program(self) -> RunningSums:
        """__call__'s steps as one compiled program over ``_inputs`` (built at first use, as the blocks).

        Powers, products and the runs of numeric fields are computed in NumPy as __call__ computes
        them, then added as they are; the rest is weight x input and one lookup per run.
        """
        if self._sums is None:
            sums = RunningSums()
            slot = {spec: i for i, spec in enumerate(self._input_specs())}
            for j, intercept in enumerate(self.intercepts):
                for name, exp, coef in self.numeric[j]:
                    sums.scaled(slot[("number", name, exp)], coef)
                for k, (name, _) in enumerate(self.categorical[j]):
                    if self.ctx.is_numeric(name):
                        sums.plain(slot[("select", j, k)])
                    else:
                        sums.lookup(slot[("codes", name, 0.0)], self._block(j, k))
                for t in range(len(self.products[j])):
                    sums.plain(slot[("product", j, t)])
                if intercept != 0.0:
                    sums.constant(intercept)
                sums.end_output()
            self._sums = sums
        return self._sums

    def _input_specs(self) -> list[tuple[str, str | int, float | int]]:
        """What the compiled program reads, in order: ("number", field, exponent), ("codes", field, 0),
        ("select", table, run) and ("product", table, term)."""
        specs: dict[tuple[str, str | int, float | int], None] = {}
        for j in range(len(self.intercepts)):
            for name, exp, _ in self.numeric[j]:
                specs[("number", name, exp)] = None
            for k, (name, _) in enumerate(self.categorical[j]):
                specs[("select", j, k) if self.ctx.is_numeric(name) else ("codes", name, 0.0)] = None
            for t in range(len(self.products[j])):
                specs[("product", j, t)] = None
        return list(specs)

    def _inputs(self, env: Env) -> list[np.ndarray]:
        """The columns ``_program`` reads, computed as __call__ computes them."""
        if self._specs is None:
            self._specs = self._input_specs()
        out = []
        for kind, a, b in self._specs:
            if kind == "number":
                out.append(_power(env, str(a), float(b)))
            elif kind == "codes":
                out.append(env.num(str(a)))
            elif kind == "select":
                out.append(self._numeric_run(env, int(a), int(b)))
            else:
                out.append(self._product(env, int(a), int(b)))
        return [np.asarray(x) for x in out]

    def _numeric_run(self, env: Env, j: int, k: int) -> np.ndarray:
        """The coefficients of run k of table j, over a numeric field: a run matches at most one value."""
        name, by_code = self.categorical[j][k]
        x = env.num(name)
        return np.select([x == code for code in by_code], list(by_code.values()), 0.0)

    def _product(self, env: Env, j: int, t: int) -> np.ndarray:
        """PredictorTerm t of table j: its coefficient times each field, in order."""
        names, coef = self.products[j][t]
        prod = np.full(env.n, coef)
        for name in names:
            prod = prod * env.get(name)
        return prod


def _power(env: Env, name: str, exp: float) -> np.ndarray:
    x = env.get(name)
    return x if exp == 1.0 else x ** exp


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
        add(ctx, run_classification, _classification_twin(linear, method, labels, path))
        return run_classification
    # For a single regression table PMML defines softmax as the logistic function.
    inverse = INVERSE_LINKS.get("logit" if method == "softmax" else method)
    if inverse is None or method == "log":
        raise UnsupportedElement(f"normalizationMethod={method!r}", path, sorted(INVERSE_LINKS))

    def run_regression(env: Env) -> ModelResult:
        with np.errstate(all="ignore"):
            return ModelResult(value=inverse(linear(env)[:, 0]))

    def record_regression(fields: Record) -> Scored | None:
        values = linear.record(fields)
        if values is None:
            return None
        with np.errstate(all="ignore"):  # the batch's own link, on one value
            return Scored(value=float(inverse(np.array(values[:1]))[0]))
    add(ctx, run_regression, record_regression)
    return run_regression


def _classification_twin(linear: LinearTables, method: str, labels: tuple[str, ...], path: str) -> Twin:
    """run_classification for one record: the tables on Python floats, then the batch's normalization."""
    def record_classification(fields: Record) -> Scored | None:
        values = linear.record(fields)
        if values is None or not all(-EXP_SAFE < v < EXP_SAFE for v in values):  # NaN and inf too
            return None
        if len(values) == 2 and method == "logit":  # classify's binary logit: kernels.sigmoid, NumPy's exp
            p = float(1.0 / (1.0 + np.exp(-values[0])))
            return Scored(labels=labels, probs=[p, 1.0 - p])
        with np.errstate(all="ignore"):
            probs = classify(np.array([values]), method, path)[0].tolist()
        return Scored(labels=labels, probs=probs) if all(p == p for p in probs) else None
    return record_classification


register("RegressionModel", compile_regression_model)
