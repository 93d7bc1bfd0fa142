"""Neural layers, support vector machines and weighted forests sum in JPMML-Evaluator's order, row by row.

A matrix product orders its sum by the batch's shape, so a record and its row in a batch (and
JPMML) differed in the last bit: on scikit-learn's MLPClassifier 99 of 110 records did. Neurons
now add weight x input Con after Con, then the bias; a machine adds coefficient x kernel vector
after vector, then absoluteValue, each kernel summing field after field.
"""
from __future__ import annotations

import pandas as pd
import pytest

from pmmlkit import Evaluator
from tests.docs import inputs_to_y
from tests.evaluator.record_bits import bits, record, row_bits
from tests.evaluator.sklearn_native import convert

pytest.importorskip("sklearn2pmml")
MODELS = ("mlp_reg", "mlp_cls", "svr")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    return convert(list(MODELS), tmp_path_factory.mktemp("layer_sums"))


@pytest.mark.parametrize("name", MODELS)
def test_records_equal_the_batch_and_jpmml_within_exp(catalogue, name):
    """predict equals predict_batch bit for bit; JPMML-Evaluator agrees to the last bits of exp."""
    case = catalogue[name]
    ev = Evaluator.from_bytes(case.pmml, backend="native", threads=1)
    batch = ev.predict_batch(case.frame, errors="column")
    results = [c for c in batch.columns if c != ev.error_column]
    scored = 0
    for i in range(len(case.frame)):
        if batch[ev.error_column].iloc[i] is not None:
            continue
        got = {k: bits(v) for k, v in ev.predict(record(case.frame, i)).items()}
        assert got == row_bits(batch[results], i), f"{name} row {i}"
        scored += 1
    assert scored >= 100
    reference = Evaluator.from_bytes(case.pmml, backend="jpmml").predict_batch(case.frame, errors="column")
    assert (batch[ev.error_column].isna() == reference[ev.error_column].isna()).all()  # the same rows fail
    pd.testing.assert_frame_equal(batch[results], reference[results], check_exact=False, rtol=1e-13, atol=0)


def test_mlp_regression_equals_jpmml_bit_for_bit(catalogue):
    """ReLU hidden layer, identity output: no exp anywhere, so nothing may differ at all."""
    case = catalogue["mlp_reg"]
    native = Evaluator.from_bytes(case.pmml, backend="native").predict_batch(case.frame.dropna())
    reference = Evaluator.from_bytes(case.pmml, backend="jpmml").predict_batch(case.frame.dropna())
    pd.testing.assert_frame_equal(native, reference, check_exact=True)


@pytest.mark.parametrize("kernel", ["linear", "poly"])
def test_svr_without_exp_equals_jpmml_bit_for_bit(kernel, tmp_path):
    """Linear and polynomial kernels (no exp): every row JPMML's bits; they were 138 and 34 of 200."""
    from sklearn.datasets import load_diabetes
    from sklearn.svm import SVR
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    sklearn2pmml(PMMLPipeline([("svr", SVR(kernel=kernel, C=50.0, degree=2))]).fit(X.head(200), y.head(200)),
                 str(tmp_path / "svr.pmml"))
    raw, frame = (tmp_path / "svr.pmml").read_bytes(), X.iloc[200:400].reset_index(drop=True)
    ev = Evaluator.from_bytes(raw, backend="native")
    native = ev.predict_batch(frame)
    pd.testing.assert_frame_equal(native, Evaluator.from_bytes(raw, backend="jpmml").predict_batch(frame),
                                  check_exact=True)
    for i in range(0, len(frame), 7):
        assert bits(ev.predict(record(frame, i))[native.columns[0]]) == bits(native.iloc[i, 0])


# Sums whose order decides the bits: 1e16 + 1 loses the 1, 1e16 - 1e16 + 1 keeps it. h2 lists its Cons in
# another order than h1, h3 leaves b out (0 x inf would be NaN); each bias comes last, as in JPMML.
SPARSE = inputs_to_y({"a": "double", "b": "double", "c": "double"},
                     'NeuralNetwork functionName="regression" activationFunction="identity"',
                     "<NeuralInputs>" + "".join(
                         f'<NeuralInput id="{i}"><DerivedField optype="continuous" dataType="double">'
                         f'<FieldRef field="{f}"/></DerivedField></NeuralInput>' for i, f in enumerate("abc")) + """
    </NeuralInputs>
    <NeuralLayer>
      <Neuron id="h1" bias="1"><Con from="0" weight="1"/><Con from="1" weight="1"/><Con from="2" weight="1"/></Neuron>
      <Neuron id="h2" bias="-1"><Con from="2" weight="1"/><Con from="0" weight="1"/><Con from="1" weight="1"/></Neuron>
      <Neuron id="h3" bias="0"><Con from="0" weight="1"/><Con from="2" weight="1"/></Neuron>
    </NeuralLayer>
    <NeuralLayer>
      <Neuron id="o" bias="0"><Con from="h2" weight="1"/><Con from="h3" weight="1"/></Neuron>
    </NeuralLayer>
    <NeuralOutputs>
      <NeuralOutput outputNeuron="o">
        <DerivedField optype="continuous" dataType="double"><FieldRef field="y"/></DerivedField>
      </NeuralOutput>
    </NeuralOutputs>""")


def test_neurons_sum_in_document_order_even_when_they_differ():
    """Row 0: h2 is (-1e16 + 1e16) + 1 - 1 = 0 in its own order (in h1's, -1). Row 1: h3 never meets b."""
    frame = pd.DataFrame({"a": [1e16, 1.0, 3.0], "b": [1.0, float("inf"), 4.0], "c": [-1e16, 1.0, 5.0]})
    native = Evaluator.from_bytes(SPARSE, backend="native").predict_batch(frame)
    reference = Evaluator.from_bytes(SPARSE, backend="jpmml").predict_batch(frame)
    pd.testing.assert_frame_equal(native, reference, check_exact=True)
    assert native.iloc[:, 0].tolist() == [0.0, float("inf"), 11.0 + 8.0]


@pytest.mark.parametrize("name, method", [("sklearn_rfr", "weightedAverage"), ("sklearn_rfr", "weightedSum"),
                                          ("sklearn_rfc", "weightedAverage")])
def test_weighted_forests_equal_jpmml_bit_for_bit(name, method):
    """Segment weights (Spark's GBT is a weightedSum): each terminal's value times its tree's weight,
    added tree after tree, as JPMML does; records meet the batch."""
    import re

    from pmmlkit.evaluator.probe import probe_rows
    from pmmlkit.pmml.loader import parse
    from tests.evaluator.native_docs import real_documents

    weights = iter([0.1, 0.7, 0.3, 1.9])
    raw = real_documents()[name].replace(b'multipleModelMethod="average"', f'multipleModelMethod="{method}"'.encode())
    raw = re.sub(rb'<Segment id="(\d+)">', lambda m: b'<Segment id="%s" weight="%r">' % (m[1], next(weights)), raw)
    frame = probe_rows(parse(raw), max_rows=400).reset_index(drop=True)
    ev = Evaluator.from_bytes(raw, backend="native")
    native = ev.predict_batch(frame, errors="column")
    reference = Evaluator.from_bytes(raw, backend="jpmml").predict_batch(frame, errors="column")
    results = [c for c in native.columns if c != ev.error_column]
    assert (native[ev.error_column].isna() == reference[ev.error_column].isna()).all()
    pd.testing.assert_frame_equal(native[results], reference[results], check_exact=True)
    for i in range(0, len(frame), 13):
        if native[ev.error_column].iloc[i] is None:
            assert {k: bits(v) for k, v in ev.predict(record(frame, i)).items()} == row_bits(native[results], i)


def test_softmax_adds_ten_classes_in_order_as_jpmml(tmp_path):
    """A 10-class LogisticRegression (sklearn2pmml): the exponentials add class after class, as JPMML
    adds them. NumPy's pairwise sum (from 8 classes on) left 31% of the probabilities off JPMML's
    last bit (max relative difference 6.4e-16); now only Java's exp against NumPy's differs."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline

    X, y = load_digits(return_X_y=True, as_frame=True)
    sklearn2pmml(PMMLPipeline([("lr", LogisticRegression(max_iter=300))]).fit(X, y), str(tmp_path / "lr.pmml"))
    raw, frame = (tmp_path / "lr.pmml").read_bytes(), X.iloc[:600]
    ev = Evaluator.from_bytes(raw, backend="native")
    native = ev.predict_batch(frame)
    reference = Evaluator.from_bytes(raw, backend="jpmml").predict_batch(frame)
    probs = [c for c in native.columns if c.startswith("probability")]
    assert len(probs) == 10
    got, want = native[probs].to_numpy(), reference[probs].to_numpy(dtype=float)
    assert (got == want).mean() >= 0.9
    assert np.max(np.abs(got - want) / np.abs(want)) <= 4.5e-16  # 2 ulp
    assert (native.iloc[:, 0] == reference.iloc[:, 0]).all()
    for i in range(0, len(frame), 37):
        assert {k: bits(v) for k, v in ev.predict(record(frame, i)).items()} == row_bits(native, i)


def test_a_machine_fails_only_its_rows_with_a_missing_input(catalogue):
    """A support vector machine names the rows it cannot score (a missing input), so the others stay
    one batch: 20k rows with 1,810 such rows took 2.7 s row by row, now one pass plus those rows."""
    import numpy as np

    case = catalogue["svr"]
    frame = pd.concat([case.frame] * 40, ignore_index=True)
    missing = frame.isna().any(axis=1).to_numpy()
    assert 0 < missing.sum() < len(frame) // 4
    ev = Evaluator.from_bytes(case.pmml, backend="native", threads=1)
    calls = []
    evaluate = ev.backend._evaluate
    ev.backend._evaluate = lambda columns, n, levels=None: calls.append(n) or evaluate(columns, n, levels)
    out = ev.predict_batch(frame, errors="column")
    assert (out[ev.error_column].notna().to_numpy() == missing).all()
    assert calls[:2] == [len(frame), (~missing).sum()] and calls[2:] == [1] * missing.sum()
    whole = Evaluator.from_bytes(case.pmml, backend="native").predict_batch(frame[~missing])
    assert np.array_equal(out.iloc[:, 0].to_numpy()[~missing], whole.iloc[:, 0].to_numpy())


def test_a_large_machine_is_split_over_threads_with_one_threads_answers(catalogue):
    """Its running sums (442 vectors x 10 fields) run without the GIL: a large batch is cut into a
    part per thread, and answers, failing rows included, as one thread does."""
    from pmmlkit.evaluator import rowsplit
    from pmmlkit.evaluator.native import parallel
    from tests.evaluator.kernels import available

    case = catalogue["svr"]
    n = 2 * parallel.MIN_ROWS_PER_THREAD
    frame = pd.concat([case.frame] * (n // len(case.frame) + 1), ignore_index=True).iloc[:n]
    two = Evaluator.from_bytes(case.pmml, backend="native", threads=2)
    if available("c"):
        assert len(rowsplit.parts(two, len(frame))) == 2
    one = Evaluator.from_bytes(case.pmml, backend="native", threads=1)
    pd.testing.assert_frame_equal(two.predict_batch(frame, errors="column"), one.predict_batch(frame, errors="column"),
                                  check_exact=True)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 30 epochs: enough weights
def test_a_large_neural_network_is_split_over_threads_with_one_threads_answers(catalogue, tmp_path):
    """64 inputs, 16 hidden neurons, 10 outputs: 1,210 running-sum terms a row, enough for a part
    per thread (two cores ran it 2.43x faster); the answers are one thread's, bit for bit."""
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline

    from pmmlkit.evaluator import rowsplit
    from pmmlkit.evaluator.native import parallel
    from tests.evaluator.kernels import available

    X, y = load_digits(return_X_y=True, as_frame=True)
    mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=1)
    sklearn2pmml(PMMLPipeline([("mlp", mlp)]).fit(X, y), str(tmp_path / "mlp.pmml"))
    raw = (tmp_path / "mlp.pmml").read_bytes()
    n = 2 * parallel.MIN_ROWS_PER_THREAD
    frame = pd.concat([X] * (n // len(X) + 1), ignore_index=True).iloc[:n]
    two = Evaluator.from_bytes(raw, backend="native", threads=2)
    if available("c"):
        assert len(rowsplit.parts(two, n)) == 2
    pd.testing.assert_frame_equal(two.predict_batch(frame), Evaluator.from_bytes(raw, backend="native", threads=1)
                                  .predict_batch(frame), check_exact=True)
    small = Evaluator.from_bytes(catalogue["mlp_reg"].pmml, backend="native", threads=2)
    assert rowsplit.parts(small, n) == [(0, n)]  # 10 inputs, 8 hidden, 1 output: ~100 terms, whole
