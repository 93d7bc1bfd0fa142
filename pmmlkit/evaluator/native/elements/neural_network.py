"""NeuralNetwork: inputs as derived fields, then layers of weighted sums in JPMML-Evaluator's order."""
from __future__ import annotations

from collections.abc import Callable
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import InvalidPmmlError, UnsupportedElement
from ....pmml.fields import child, children, local, required_child
from .. import compiled
from ..compile import Core, register
from ..context import Ctx, Env
from ..expressions import expression_of
from ..kernels import RunningSums, sigmoid, softmax
from ..result import ModelResult

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "logistic": sigmoid, "tanh": np.tanh, "identity": lambda z: z, "rectifier": lambda z: np.maximum(z, 0.0),
    "exponential": np.exp, "reciprocal": lambda z: 1.0 / z, "square": lambda z: z * z,
    "Gauss": lambda z: np.exp(-z * z), "sine": np.sin, "cosine": np.cos, "arctan": np.arctan,
    "Elliott": lambda z: z / (1.0 + np.abs(z)),
}


def compile_neural_network(model: Element, ctx: Ctx, path: str) -> Core:
    inputs = child(model, "NeuralInputs")
    ids, exprs = [], []
    for i, ni in enumerate(children(inputs, "NeuralInput") if inputs is not None else []):
        where = f"{path}/NeuralInputs/NeuralInput[{i + 1}]"
        ids.append(ni.get("id", ""))
        exprs.append(expression_of(required_child(ni, "DerivedField", where), ctx, f"{where}/DerivedField"))
    position = {nid: j for j, nid in enumerate(ids)}
    layers = []
    for li, layer in enumerate(children(model, "NeuralLayer")):
        neurons = children(layer, "Neuron")
        where = f"{path}/NeuralLayer[{li + 1}]/Neuron/Con"
        cons = [[(_neuron(position, con.get("from"), where), float(con.get("weight", "0")))
                 for con in children(nr, "Con")] for nr in neurons]
        # No bias: 0, whose addition changes no bits (a sum started at +0.0 is never -0.0).
        bias = np.array([float(nr.get("bias", "0")) for nr in neurons])
        act = layer.get("activationFunction", model.get("activationFunction", "logistic"))
        if act not in ACTIVATIONS:
            raise UnsupportedElement(f"activationFunction={act!r}", f"{path}/NeuralLayer[{li + 1}]",
                                     sorted(ACTIVATIONS))
        norm = layer.get("normalizationMethod", model.get("normalizationMethod", "none"))
        layers.append((_weighted_sum(cons, bias), ACTIVATIONS[act], norm))
        ctx.sum_terms += sum(len(c) + 1 for c in cons)  # each neuron's Cons and bias: NativeBackend.splits_well
        position = {nr.get("id", ""): j for j, nr in enumerate(neurons)}
    outputs = children(required_child(model, "NeuralOutputs", path), "NeuralOutput")
    out_cols = [_neuron(position, o.get("outputNeuron"), f"{path}/NeuralOutputs/NeuralOutput") for o in outputs]
    classification = model.get("functionName") == "classification"
    labels = []
    for o in outputs:
        df = child(o, "DerivedField")
        inner = next((c for c in df if local(c.tag) != "Extension"), None) if df is not None else None
        expected = "NormDiscrete" if classification else "FieldRef"
        if inner is None or local(inner.tag) != expected:
            raise UnsupportedElement(local(inner.tag) if inner is not None else "NeuralOutput",
                                     f"{path}/NeuralOutputs", [expected])
        labels.append(inner.get("value", "") if classification else "")

    def run(env: Env) -> ModelResult:
        a = np.column_stack([e(env) for e in exprs]) if exprs else np.zeros((env.n, 0))
        with np.errstate(all="ignore"):
            for weighted, act, norm in layers:
                a = act(weighted(a))
                if norm == "softmax":
                    a = softmax(a)
                elif norm == "simplemax":
                    a = a / a.sum(axis=1, keepdims=True)
        a = a[:, out_cols]
        if classification:
            return ModelResult(labels=tuple(labels), probs=a)
        return ModelResult(value=a[:, 0])
    return run


def _weighted_sum(cons: list[list[tuple[int, float]]], bias: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A layer's [rows, neurons] net inputs, as JPMML-Evaluator sums them: each neuron adds weight x
    input Con after Con in document order, then its bias. A row's bits depend on its own values
    only (a matrix product orders its sum by the batch's shape: a record and its row in a batch
    differed in the last bit). When every neuron lists the same inputs in the same order (a dense
    layer, as producers write them), one running sum serves all neurons at once."""
    sums = RunningSums()  # the same steps for the compiled kernel: each neuron's Cons, then its bias
    for j, c in enumerate(cons):
        for src, w in c:
            sums.scaled(src, w)
        sums.constant(float(bias[j]))
        sums.end_output()

    def compiled_sums(a: np.ndarray) -> np.ndarray | None:
        if compiled.kernels() is None or a.dtype != np.float64:
            return None
        return sums(list(a.T), len(a))  # its columns, read in place

    order = [src for src, _ in cons[0]] if cons else []
    if all([src for src, _ in c] == order for c in cons) and len(set(order)) == len(order):
        W = np.array([[w for _, w in c] for c in cons]).T.reshape(len(order), len(cons))

        def dense(a: np.ndarray) -> np.ndarray:
            z = compiled_sums(a)
            if z is not None:
                return z
            z = np.zeros((len(a), len(cons)))
            for k, src in enumerate(order):
                z = z + a[:, src:src + 1] * W[k]
            return z + bias
        return dense

    def sparse(a: np.ndarray) -> np.ndarray:
        z = compiled_sums(a)
        if z is not None:
            return z
        z = np.zeros((len(a), len(cons)))
        for j, c in enumerate(cons):
            for src, w in c:
                z[:, j] = z[:, j] + a[:, src] * w
        return z + bias
    return sparse


def _neuron(position: dict[str, int], ref: str | None, path: str) -> int:
    if ref not in position:
        raise InvalidPmmlError(f"{path} refers to neuron {ref!r}, which is not in the layer before it; "
                               f"known ids: {', '.join(list(position)[:10])}")
    return position[ref]


register("NeuralNetwork", compile_neural_network)
