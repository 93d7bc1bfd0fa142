"""Issue 15's batch fast paths give the answers of the paths they replace: the compiled text
factorisation (Arrow's), batches split by rows over threads (one thread's), and regression tables summed
element-wise in JPMML-Evaluator's order (JPMML's own bits)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.evaluator import rowsplit
from pmmlkit.evaluator.contract import Contract
from pmmlkit.evaluator.native import parallel
from pmmlkit.evaluator.textcolumns import as_text, factorize_object_columns, factorize_objects, factorize_text
from pmmlkit.pmml import loader
from tests.docs import inputs_to_y
from tests.evaluator.kernels import available
from tests.evaluator.test_contract_arrow import DOCS, ZOO

needs_c = pytest.mark.skipif(not available("c"), reason="the compiled kernels are not built or turned off")

# Every kind of str CPython stores (1, 2 and 4 bytes a character), missing values, repeats; short
# ASCII texts (answered by content, up to 15 bytes) that differ in a NUL, a length or their last byte.
TEXT = ["ios", "web", "", "android", None, float("nan"), "ios", "caf\u00e9", "\u65e5\u672c", "\U0001f600x",
        "ios ", "IOS", "nan", "None", "0", "1.0", "a", "a\x00", "\x00", "abcdefg", "abcdefh", "abcdefgh",
        "abcdefgi", "abcdefghijklmno", "abcdefghijklmnp", "abcdefghijklmnop", "bbcdefghijklmno", "caf\u00e8"]


def _arrow(values: np.ndarray) -> tuple[list[int], list[object]]:
    """The contract's answer before: Arrow's, or pandas' when Arrow sees no text (empty, all missing)."""
    text = as_text(values)
    codes, uniques = factorize_text(text) if text is not None else pd.factorize(values, use_na_sentinel=True)
    return codes.tolist(), list(uniques)


def _fresh(value: object) -> object:
    """An equal object that is not ``value`` (a str built anew; a NaN of its own)."""
    if isinstance(value, str):
        return "".join(list(value)) if len(value) > 1 else (value + "x")[:1]
    return float("nan") if isinstance(value, float) else value


@needs_c
@pytest.mark.parametrize("n", [0, 1, 7, 5_000, -3])
@pytest.mark.parametrize("objects", ["shared", "fresh"])
def test_compiled_factorisation_is_arrows(n, objects):
    """Shared objects (a column read by pandas or Arrow: answered by address) and every item an object
    of its own (answered by text), mixed in one column for "fresh"."""
    rng = np.random.default_rng(abs(n))
    if n < 0:  # only missing values
        values = np.array([None, float("nan"), None], dtype=object)
    else:
        values = np.array([TEXT[i] for i in rng.integers(0, len(TEXT), n)], dtype=object)
    if objects == "fresh":
        values[::2] = [_fresh(v) for v in values[::2]]
        assert n < 2 or any(values[i] is not TEXT[TEXT.index(values[i])] for i in range(0, n, 2)
                            if isinstance(values[i], str) and len(values[i]) > 1)
    codes, uniques = factorize_objects(values)  # the array's items read in place
    assert (codes.tolist(), uniques) == _arrow(values)
    from pmmlkit.evaluator.native import compiled

    listed = np.empty(len(values), dtype=np.int64)  # the list a pool thread passes, without the GIL
    assert compiled.kernels().factorize_text(values.tolist(), listed) == uniques
    assert listed.tolist() == codes.tolist()


@needs_c
@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_columns_factorised_on_threads_answer_as_one_by_one(threads):
    """A batch's text columns shared among native threads (the caller keeping the GIL): each column's
    answer is factorize_objects' own, a column with another item's type included (no answer)."""
    rng = np.random.default_rng(threads)
    columns = [np.array([TEXT[i] for i in rng.integers(0, len(TEXT), n)], dtype=object) for n in (5_000, 1, 0, 777)]
    columns[0][::3] = [_fresh(v) for v in columns[0][::3]]
    columns.append(np.array(["ios", 2, "web"], dtype=object))
    columns.append(np.array([f"v{i % 3_000}" for i in range(9_000)], dtype=object))
    got = factorize_object_columns(columns, threads)
    for column, answer in zip(columns, got):
        alone = factorize_objects(column)
        assert (answer is None) == (alone is None)
        if answer is not None:
            assert (answer[0].tolist(), answer[1]) == (alone[0].tolist(), alone[1])
    assert got[4] is None and len(got[5][1]) == 3_000


@needs_c
def test_a_strided_column_is_factorised_alone():
    """Columns not laid out as one contiguous array of objects take factorize_objects one by one."""
    column = np.array(["a", "b", "a", "c", None, "b"], dtype=object)
    (codes, uniques), = factorize_object_columns([column[::2]], 2)
    assert codes.tolist() == [0, 0, -1] and uniques == ["a"]


@needs_c
def test_compiled_factorisation_grows_past_its_first_table():
    """Thousands of distinct values (the table starts with room for 32), each a new object."""
    values = np.array([f"v{i % 3_000}" for i in range(9_000)] + [None], dtype=object)
    codes, uniques = factorize_objects(values)
    assert (codes.tolist(), uniques) == _arrow(values)
    assert len(uniques) == 3_000 and codes[-1] == -1


@needs_c
@pytest.mark.parametrize("odd", [1, 2.5, b"ios", pd.NA, np.str_("ios"), np.float64("nan"), True])
def test_compiled_factorisation_leaves_anything_but_str_to_arrow(odd):
    """An item that is neither a str nor None/NaN: no answer, so the contract takes the Arrow path."""
    values = np.array(["ios", None, odd, "web"], dtype=object)
    assert factorize_objects(values) is None


def test_without_the_compiled_kernels_the_arrow_path_answers(monkeypatch):
    from pmmlkit.evaluator.native import compiled

    monkeypatch.setattr(compiled, "_chosen", None)  # as if never built
    assert factorize_objects(np.array(["ios"], dtype=object)) is None
    contract = Contract(loader.parse(DOCS["logistic"]).schema)
    frame = pd.DataFrame({f: ["ios", None, "abc"] for f in contract.schema.input_names}, dtype=object)
    assert contract.check_frame(frame).errors  # still checked, by Arrow


@pytest.mark.parametrize("split", [True, False], ids=["split", "whole"])
@pytest.mark.parametrize("name", DOCS)
def test_rows_split_over_threads_answer_as_one_thread(name, split, monkeypatch):
    """A large batch on two threads, scored in row parts or whole (its text columns factorised on both
    threads either way): the same results and the same error messages, a row that breaks several
    rules keeping the first rule's, under the caller's own row labels."""
    from pmmlkit.evaluator.native import NativeBackend

    monkeypatch.setattr(NativeBackend, "splits_well", lambda self: split)  # these small models split too
    raw = DOCS[name]
    names = Contract(loader.parse(raw).schema).schema.input_names
    rng = np.random.default_rng(3)
    n = 2 * parallel.MIN_ROWS_PER_THREAD + 11
    frame = pd.DataFrame({f: [ZOO[i] for i in rng.integers(0, len(ZOO), n)] for f in names},
                         index=pd.RangeIndex(5, 5 + n), dtype=object)
    two = Evaluator.from_bytes(raw, backend="native", threads=2)
    assert len(rowsplit.parts(two, n)) == (2 if split else 1) and rowsplit.check_threads(two, n) == 2
    one = Evaluator.from_bytes(raw, backend="native", threads=1).predict_batch(frame, errors="column")
    pd.testing.assert_frame_equal(two.predict_batch(frame, errors="column"), one, check_exact=True)
    late = one[one[two.error_column].notna()].index[-1]  # a bad row of the second part names its own label
    assert late > 5 + n // 2 and one.loc[late, two.error_column].startswith(f"row {late}:")


@pytest.mark.parametrize("threads", [1, 2])
def test_a_field_named_by_two_columns_is_refused(threads, monkeypatch):
    """Which of two columns of one name would be the field's value? Refused with the field's name
    (it was an AttributeError from inside the contract), split batch or not."""
    from pmmlkit.errors import InputError
    from pmmlkit.evaluator.native import NativeBackend

    monkeypatch.setattr(NativeBackend, "splits_well", lambda self: True)
    raw = DOCS["logistic"]
    names = Contract(loader.parse(raw).schema).schema.input_names
    n = 2 * parallel.MIN_ROWS_PER_THREAD
    frame = pd.DataFrame({f: ["ios"] * n for f in names}, dtype=object)
    doubled = pd.concat([frame, frame[[names[0]]]], axis=1)
    with pytest.raises(InputError, match=f"field '{names[0]}'.*names 2 input columns"):
        Evaluator.from_bytes(raw, backend="native", threads=threads).predict_batch(doubled, errors="column")


# Sums whose order decides the bits: 1e16 + 1 loses the 1, 1e16 - 1e16 + 1 keeps it.
JAVA_ORDER = inputs_to_y({"x1": "double", "x2": "double", "device": "string"},
                         'RegressionModel functionName="regression"', """
    <RegressionTable intercept="1.0">
      <NumericPredictor name="x1" coefficient="1e16"/>
      <NumericPredictor name="x2" coefficient="0.3"/>
      <CategoricalPredictor name="device" value="a" coefficient="-1e16"/>
      <CategoricalPredictor name="device" value="a" coefficient="5"/>
      <CategoricalPredictor name="device" value="b" coefficient="0.7"/>
      <PredictorTerm coefficient="0.1"><FieldRef field="x1"/><FieldRef field="x2"/></PredictorTerm>
    </RegressionTable>""")


def test_regression_tables_add_up_in_jpmmls_order():
    """Numeric predictors, then the first matching category, then terms, then the intercept: JPMML's
    bits. (The former intercept-first, BLAS-summed tables answered 4.0 on the first row, JPMML 1.0.)"""
    rng = np.random.default_rng(5)
    n = 200
    frame = pd.DataFrame({"x1": np.r_[1.0, rng.normal(size=n - 1)], "x2": np.r_[0.0, rng.normal(size=n - 1)],
                          "device": ["a"] + [["a", "b", "c", None][i] for i in rng.integers(0, 4, n - 1)]})
    native = Evaluator.from_bytes(JAVA_ORDER, backend="native").predict_batch(frame)
    reference = Evaluator.from_bytes(JAVA_ORDER, backend="jpmml").predict_batch(frame)
    assert native.iloc[0, 0] == 1.0
    pd.testing.assert_frame_equal(native, reference, check_exact=True)
    record = Evaluator.from_bytes(JAVA_ORDER, backend="native").predict({"x1": 1.0, "x2": 0.0, "device": "a"})
    assert list(record.values()) == [1.0]


def _deep_tree(depth: int, low: float = 0.0, high: float = 1.0, predicate: str = "<True/>") -> str:
    """A complete binary regression tree on x over [low, high): 2**(depth + 1) - 1 Nodes, leaves score low."""
    mid = (low + high) / 2
    kids = (_deep_tree(depth - 1, low, mid, f'<SimplePredicate field="x" operator="lessOrEqual" value="{mid}"/>')
            + _deep_tree(depth - 1, mid, high, f'<SimplePredicate field="x" operator="greaterThan" value="{mid}"/>')
            if depth else "")
    return f'<Node score="{low}">{predicate}{kids}</Node>'


def test_no_garbage_collection_while_a_forest_is_parsed_and_compiled():
    """Cold start: collections walked every element and node built so far (0.45 s of a 1.15 s load
    of a 100-tree forest); parsing and compiling now run with the collector paused, and the one
    collection left is the one the objects' count calls for when each step ends."""
    import gc

    from pmmlkit.evaluator.native import NativeBackend
    from tests.evaluator.native_docs import mining_sum

    tree = ('<Segment><True/><TreeModel functionName="regression"><MiningSchema><MiningField name="x"/>'
            f'</MiningSchema>{_deep_tree(9)}</TreeModel></Segment>')
    raw = mining_sum(tree * 8)  # 8 trees of 1,023 Nodes: ~24,000 elements
    started: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(info["generation"])

    assert gc.isenabled()
    gc.callbacks.append(count)
    try:
        backend = NativeBackend(loader.parse(raw))
    finally:
        gc.callbacks.remove(count)
    assert len(started) <= 2 and gc.isenabled(), started  # it was 94 collections (1 full) before
    assert backend.evaluate_record({"x": 0.3})["y"] == pytest.approx(8 * 0.298828125)


def test_the_collector_pause_is_counted_and_leaves_its_state():
    import gc
    import threading

    from pmmlkit.pmml.gcpause import paused_gc

    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # a collector the caller turned off stays off
    finally:
        gc.enable()
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with paused_gc():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    inside.wait(5)
    with paused_gc():
        pass
    assert not gc.isenabled()  # the other thread is still inside its pause
    release.set()
    worker.join(5)
    assert gc.isenabled()



@needs_c
def test_a_valid_text_column_is_handed_over_as_it_came():
    """A string column whose every row is a valid category, none missing, is its own typed column
    (no GIL-bound values[slots] pass over every row); a missing value keeps values[slots]."""
    from tests.evaluator.native_docs import everything

    contract = Contract(loader.parse(everything()).schema)
    texts = ["".join(c) for c in ["u", "v", "v", "u"] * 500]
    frame = pd.DataFrame({"x": np.linspace(-5, 5, len(texts)), "c": pd.Series(texts, dtype=object)})
    checked = contract.check_frame(frame)
    slots, values = checked.levels["c"]
    assert np.shares_memory(checked.columns["c"], frame["c"].to_numpy())
    assert list(checked.columns["c"]) == list(values[slots]) == texts
    frame.loc[3, "c"] = None
    checked = contract.check_frame(frame)
    slots, values = checked.levels["c"]
    assert not np.shares_memory(checked.columns["c"], frame["c"].to_numpy())
    assert list(checked.columns["c"]) == list(values[slots]) == texts[:3] + [None] + texts[4:]
