"""SupportVectorMachineModel (SupportVectors representation), as JPMML-Evaluator scores it.

Each machine answers sum(coefficient * K(x, support vector)) + absoluteValue. Regression has one
machine; OneAgainstOne classification (what JPMML-SkLearn writes for SVC) gives each machine's
vote to targetCategory when the value is below the threshold, else to alternateTargetCategory,
and the most votes win, a tie going to the class that got its first vote earliest (JPMML's
insertion order). A missing input fails the row, as in JPMML.
"""
from __future__ import annotations

from xml.etree.ElementTree import Element

import numpy as np

from ....errors import RowEvaluationError, UnsupportedElement
from ....pmml.fields import child, children, local, required_child
from .. import compiled
from ..compile import Core, register
from ..context import Ctx, Env
from ..kernels import RunningSums, running_sum
from ..result import ModelResult

KERNELS = ("LinearKernelType", "PolynomialKernelType", "RadialBasisKernelType", "SigmoidKernelType")
_CHUNK = 1024  # rows per block: [vectors, rows] temporaries stay in cache


class Kernel:
    """A kernel as JPMML-Evaluator computes it: a sum field after field (x * v, or (x - v) ** 2 for a
    radial basis), then its function of that sum. A row's bits depend on its own values only (a
    matrix product, or NumPy's pairwise sum, orders them by the batch's shape)."""

    def __init__(self, model: Element, path: str):
        el = next((c for c in model if local(c.tag) in KERNELS), None)
        if el is None:
            raise UnsupportedElement("SupportVectorMachineModel without a kernel", path, KERNELS)
        self.name = local(el.tag)
        self.radial = self.name == "RadialBasisKernelType"  # squared distances, not |x|^2 - 2xy + |y|^2
        self.gamma, self.coef0, self.degree = (float(el.get(k, d))
                                               for k, d in (("gamma", "1"), ("coef0", "1"), ("degree", "1")))

    def __call__(self, XT: np.ndarray, V: np.ndarray) -> np.ndarray:
        """[vectors, rows] kernel values of the rows XT [fields, rows] against the vectors V."""
        total = np.zeros((len(V), XT.shape[1]))
        term = np.empty_like(total)
        for f in range(len(XT)):
            if self.radial:
                np.subtract(XT[f], V[:, f:f + 1], out=term)
                np.multiply(term, term, out=term)
            else:
                np.multiply(XT[f], V[:, f:f + 1], out=term)
            total += term
        return self.of_sums(total)

    def of_sums(self, total: np.ndarray) -> np.ndarray:
        """The kernel's function of its field sums, element-wise (any layout)."""
        if self.radial:
            return np.exp(-total * self.gamma)
        if self.name == "LinearKernelType":
            return total
        if self.name == "PolynomialKernelType":
            return np.power(total * self.gamma + self.coef0, self.degree)
        return np.tanh(total * self.gamma + self.coef0)

    def program(self, V: np.ndarray, alphas: np.ndarray, b: float) -> tuple[RunningSums, RunningSums]:
        """The machine (V, alphas, b) as two compiled programs, __call__'s and values' very steps:
        a kernel sum per vector over the fields, then coefficient x kernel vector after vector, + b."""
        sums, machine = RunningSums(), RunningSums()
        for v, alpha in enumerate(alphas):
            for f, center in enumerate(V[v]):
                (sums.squared_distance if self.radial else sums.scaled)(f, float(center))
            sums.end_output()
            machine.scaled(v, float(alpha))
        machine.constant(b)
        machine.end_output()
        return sums, machine


def _vectors(model: Element, path: str) -> tuple[list[str], dict[str, np.ndarray]]:
    vd = child(model, "VectorDictionary")
    vf = child(vd, "VectorFields") if vd is not None else None
    if vd is None or vf is None:
        raise UnsupportedElement("SupportVectorMachineModel without VectorDictionary/VectorFields", path,
                                 ["VectorFields of FieldRefs"])
    fields = [c.get("field", "") for c in vf if local(c.tag) == "FieldRef"]
    vectors = {}
    for vi in children(vd, "VectorInstance"):
        arr = child(vi, "Array")
        values = np.array([float(v) for v in (arr.text or "").split()]) if arr is not None else np.array([])
        if len(values) != len(fields):
            raise UnsupportedElement(f"VectorInstance id={vi.get('id')!r} with {len(values)} values for "
                                     f"{len(fields)} fields", f"{path}/VectorDictionary", ["dense Array"])
        vectors[vi.get("id", "")] = values
    return fields, vectors


def _machine(svm: Element, vectors: dict[str, np.ndarray], path: str) -> tuple[np.ndarray, np.ndarray, float]:
    ids = [sv.get("vectorId", "") for sv in children(required_child(svm, "SupportVectors", path), "SupportVector")]
    coefs = required_child(svm, "Coefficients", path)
    alphas = np.array([float(c.get("value", "0")) for c in children(coefs, "Coefficient")])
    if len(ids) != len(alphas) or any(i not in vectors for i in ids):
        raise UnsupportedElement("SupportVectorMachine whose support vectors and coefficients do not match",
                                 path, ["one Coefficient per SupportVector of the VectorDictionary"])
    V = np.array([vectors[i] for i in ids]).reshape(len(ids), -1)
    return V, alphas, float(coefs.get("absoluteValue", "0"))


def compile_support_vector_machine(model: Element, ctx: Ctx, path: str) -> Core:
    kernel = Kernel(model, path)
    fields, vectors = _vectors(model, path)
    machines = children(model, "SupportVectorMachine")
    parts = [_machine(m, vectors, path) for m in machines]
    classify = model.get("functionName") == "classification"
    if classify and (model.get("alternateBinaryTargetCategory") is not None
                     or model.get("classificationMethod", "OneAgainstAll") != "OneAgainstOne"
                     or any(m.get("alternateTargetCategory") is None for m in machines)):
        raise UnsupportedElement("SupportVectorMachineModel classification other than OneAgainstOne with "
                                 "alternateTargetCategory", path, ["OneAgainstOne"])
    if not classify and len(parts) != 1:
        raise UnsupportedElement(f"regression SupportVectorMachineModel with {len(parts)} machines", path, ["1"])
    threshold = float(model.get("threshold", "0"))
    cuts = [float(m.get("threshold", threshold)) for m in machines]
    pairs = [(m.get("targetCategory", ""), m.get("alternateTargetCategory", "")) for m in machines]
    labels = tuple(dict.fromkeys(label for pair in pairs for label in pair))

    programs = [kernel.program(V, alphas, b) for V, alphas, b in parts]
    ctx.sum_terms += sum(sums.terms + machine.terms for sums, machine in programs)  # NativeBackend.splits_well

    def values(env: Env) -> list[np.ndarray]:
        columns = [env.num(f) for f in fields]
        missing = [np.isnan(c) for c in columns]
        bad = next((f for f, m in zip(fields, missing) if m.any()), None)
        if bad is not None:
            raise RowEvaluationError(f"field {bad!r} is missing, and a support vector machine needs every "
                                     "input (JPMML-Evaluator refuses such rows too)",
                                     rows=np.logical_or.reduce(missing))
        if compiled.kernels() is not None and all(c.dtype == np.float64 for c in columns):
            return [np.concatenate([_compiled_chunk(kernel, sums, machine, [c[i:i + _CHUNK] for c in columns],
                                                    min(i + _CHUNK, env.n) - i)
                                    for i in range(0, max(env.n, 1), _CHUNK)]) for sums, machine in programs]
        # Coefficient x kernel, vector after vector from 0, then absoluteValue (NumPy's own sum
        # would pair the terms up for a single row); CHUNK rows at a time keep [vectors, rows] in cache.
        XT = np.ascontiguousarray(np.column_stack(columns).reshape(env.n, len(fields)).T)
        return [np.concatenate([running_sum((kernel(XT[:, i:i + _CHUNK], V) * alphas[:, None]).T) + b
                                for i in range(0, max(env.n, 1), _CHUNK)]) for V, alphas, b in parts]

    def run(env: Env) -> ModelResult:
        vals = values(env)
        if not classify:
            return ModelResult(value=vals[0])
        return _votes(vals, cuts, pairs, labels, env.n)
    return run


def _compiled_chunk(kernel: Kernel, sums: RunningSums, machine: RunningSums, columns: list[np.ndarray],
                    n: int) -> np.ndarray:
    """One machine's values for a block of n rows: [rows, vectors] kernel values, then their sum."""
    k = kernel.of_sums(sums(columns, n))
    return machine(list(k.T), n)[:, 0]  # its columns, read in place


def _votes(vals: list[np.ndarray], cuts: list[float], pairs: list[tuple[str, str]],
           labels: tuple[str, ...], n: int) -> ModelResult:
    votes = np.zeros((n, len(labels)))
    first = np.full((n, len(labels)), len(vals))  # the machine that gave each class its first vote
    rows = np.arange(n)
    for k, (v, cut, (target, other)) in enumerate(zip(vals, cuts, pairs)):
        won = np.where(v < cut, labels.index(target), labels.index(other))
        votes[rows, won] += 1
        first[rows, won] = np.minimum(first[rows, won], k)
    best = votes.max(axis=1, keepdims=True)
    index = np.argmin(np.where(votes == best, first, len(vals) + 1), axis=1)
    return ModelResult(labels=labels, probs=votes / len(vals), index=index)


register("SupportVectorMachineModel", compile_support_vector_machine)
