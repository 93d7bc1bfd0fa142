"""The compiled kernels against the NumPy fallback (bit for bit), the kernel switch, and multi-core batches."""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import ConfigError
from pmmlkit.evaluator import rowsplit
from pmmlkit.evaluator.native import backend as native_backend
from pmmlkit.evaluator.native import compiled, kernels, parallel
from pmmlkit.evaluator.native.elements.treegraph import thread_tests
from pmmlkit.evaluator.probe import probe_rows
from pmmlkit.pmml.loader import parse
from tests.evaluator.kernels import available
from tests.evaluator.native_docs import real_documents, tree_regression

REAL = real_documents()
needs_c = pytest.mark.skipif(not available("c"), reason="the compiled kernels are not built or turned off")


@pytest.fixture(autouse=True)
def _restore_kernels():
    before = compiled.name()
    yield
    compiled.use(before)


def _scores(raw: bytes, frame: pd.DataFrame, kind: str, *, threads: int = 1) -> pd.DataFrame:
    compiled.use(kind)
    return Evaluator.from_bytes(raw, backend="native", threads=threads).predict_batch(frame, errors="column")


@needs_c
@pytest.mark.parametrize("name", sorted(REAL))
def test_compiled_equals_numpy_bit_for_bit(name):
    """Every real document (forests, boosted trees, GLMs) on rows probing each split from both sides."""
    raw = REAL[name]
    frame = probe_rows(parse(raw), max_rows=3_000)
    c, numpy = _scores(raw, frame, "c"), _scores(raw, frame, "numpy")
    pd.testing.assert_frame_equal(c, numpy, check_exact=True)
    for record in frame.head(40).to_dict("records"):  # records take their own short cuts
        record = {k: None if v is None or v != v else v for k, v in record.items()}
        compiled.use("c")
        try:
            got = Evaluator.from_bytes(raw, backend="native").predict(record)
        except Exception as e:  # noqa: BLE001 - the other path must fail alike
            compiled.use("numpy")
            with pytest.raises(type(e)):
                Evaluator.from_bytes(raw, backend="native").predict(record)
            continue
        compiled.use("numpy")
        assert Evaluator.from_bytes(raw, backend="native").predict(record) == got


@pytest.mark.parametrize("name", ["sklearn_rfc", "sklearn_gbc", "sklearn_dtr", "both_sides"])
def test_joined_tests_reach_the_same_terminals(name, monkeypatch):
    """thread_tests skips a test whose outcome is known: every row ends where it did, in fewer steps.

    ``both_sides`` writes "x <= t" and "x > t" (as sklearn2pmml's compact=False does); the real
    documents here are compacted (one test per split), so they take as many steps as before.
    """
    from pmmlkit.evaluator.native.elements import tree

    compiled.use("numpy")
    raw = tree_regression() if name == "both_sides" else REAL[name]
    frame = probe_rows(parse(raw), max_rows=2_000)
    steps: list[int] = []
    count_steps = tree.longest_path
    monkeypatch.setattr(tree, "longest_path",
                        lambda next4, roots: steps.append(count_steps(next4, roots)) or steps[-1])
    with monkeypatch.context() as m:
        m.setattr(tree, "thread_tests", lambda feature, threshold, next4: next4)  # the tables as written
        plain = Evaluator.from_bytes(raw, backend="native", verify=False).predict_batch(frame, errors="column")
    before, steps[:] = max(steps), []
    joined = Evaluator.from_bytes(raw, backend="native", verify=False).predict_batch(frame, errors="column")
    pd.testing.assert_frame_equal(joined, plain, check_exact=True)
    assert max(steps) < before if name == "both_sides" else max(steps) <= before


def test_thread_tests_keeps_tests_two_way():
    """x < 1 then x <= 1: joining both would tell equal apart from both sides, so it is not done."""
    feature = np.array([0, 0, 0, 0, 0])
    threshold = np.array([1.0, 1.0, np.nan, np.nan, np.nan])
    next4 = np.array([[2, 1, 1, 2], [3, 3, 4, 2], [2, 2, 2, 2], [3, 3, 3, 3], [4, 4, 4, 4]])
    out = thread_tests(feature, threshold, next4)
    assert ((out[:, 1] == out[:, 0]) | (out[:, 1] == out[:, 2])).all()
    np.testing.assert_array_equal(out[0], [2, 1, 1, 2])  # unchanged: "equal" would go to a third place


@needs_c
def test_descent_refuses_tables_wider_than_the_inputs():
    compiled.use("c")
    t = kernels.two_way_tables(np.array([3, 0, 0]), np.array([0.5, np.nan, np.nan]),
                               np.array([[1, 1, 2, 1], [1, 1, 1, 1], [2, 2, 2, 2]]), np.array([0]), 2)
    with pytest.raises(ValueError, match="XT has 2 rows; the trees test 4"):
        kernels.descend(np.zeros((2, 5)), t)


@needs_c
@pytest.mark.parametrize("name", ["sklearn_rfc", "sklearn_gbc", "sklearn_gbr"])
def test_fused_descent_sums_are_descent_then_sums(name, monkeypatch):
    """descend_sums (descent and terminal sums in one pass) against descend then sum_terminals of
    each column, bit for bit: on a real forest's own inputs (missing values included), for every
    row count from none through the lanes (fewer rows than lanes take the trees-in-lanes path) and
    across the 512-row blocks that go down one tree after another."""
    from pmmlkit.evaluator.native.elements import tree

    compiled.use("c")
    seen: list[tuple[np.ndarray, kernels.TreeTables, np.ndarray]] = []
    fused = tree.descend_sums
    monkeypatch.setattr(tree, "descend_sums", lambda XT, t, v: seen.append((XT.copy(), t, v)) or fused(XT, t, v))
    raw = REAL[name]
    Evaluator.from_bytes(raw, backend="native", verify=False).predict_batch(
        probe_rows(parse(raw), max_rows=600), errors="column")
    XT, t, values = seen[0]
    assert np.isnan(XT).any() and (values.shape[1] > 1) == (name == "sklearn_rfc")  # a column per class
    XT = np.tile(XT, (1, -(-1_100 // XT.shape[1])))  # rows across the C kernel's 512-row tree blocks
    ck = compiled.kernels()
    for n in (0, 1, 3, 7, 8, 9, 17, 511, 512, 513, 1_100):
        part = np.ascontiguousarray(XT[:, :n])
        nodes = kernels.descend(part, t)
        want = np.empty((n, values.shape[1]))
        for c in range(values.shape[1]):
            column = np.empty(n)
            ck.sum_terminals(nodes, np.ascontiguousarray(np.repeat(values[:, c], 2)), column)
            want[:, c] = column
        np.testing.assert_array_equal(kernels.descend_sums(part, t, values), want)
        got = np.full((n, values.shape[1]), np.nan)  # every cell written, none left as it was
        ck.descend_sums(part, n, t.nodes, t.roots.astype(np.int64), t.steps, values, values.shape[1], got)
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="rows of values for"):  # a node without values is never read
        kernels.descend_sums(XT, t, values[:-1])


@needs_c
def test_membership_rows_in_c_are_numpys():
    """Set-membership rows of a forest's input: a seen code reads its column, an unseen one (-1) column
    0, a missing one NaN; a code beyond the table is refused (NumPy's take raises IndexError too)."""
    table = np.array([[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]])  # 2 sets over 3 codes (+ unseen)
    XT = np.array([[0.0, 2.0, -1.0, np.nan, 1.0, 2.0], [5.0, 6.0, 7.0, 8.0, 9.0, 10.0]])
    full = np.empty((4, 6))
    compiled.kernels().memberships(XT, 6, [(0, 2, table)], full)
    codes = XT[0]
    want = np.take(table, (np.fmax(codes, -1.0) + 1.0).astype(np.intp), axis=1)
    want[:, np.isnan(codes)] = np.nan
    np.testing.assert_array_equal(full, np.vstack([XT, want]))
    with pytest.raises(IndexError):
        compiled.kernels().memberships(np.array([[3.0]]), 1, [(0, 1, table)], np.empty((3, 1)))
    with pytest.raises(ValueError):  # a membership row over the input's own rows
        compiled.kernels().memberships(XT, 6, [(0, 1, table)], full)


@needs_c
@pytest.mark.parametrize("n", [0, 1, 255, 256, 257, 1_000])
def test_running_sums_in_c_are_numpys_steps(n):
    """weighted_sums against the NumPy steps it stands for (regression tables, neural layers), bit for
    bit: weight x input (contiguous and a strided matrix column), a category's entry (NaN, -1 and codes
    below -1 read entry 0), a column added as it is, a constant, a squared distance (radial basis
    kernels); rows across the 256-row blocks."""
    compiled.use("c")
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) * rng.choice([1e-300, 1.0, 1e300], n)
    x[rng.random(n) < 0.1] = np.nan
    matrix = rng.standard_normal((n, 3))  # its column 1 is read in place, 24 bytes apart
    codes = rng.integers(-3, 4, n).astype(np.float64)
    codes[rng.random(n) < 0.1] = np.nan
    block = np.array([0.0, 0.25, -1.5, 1e-17, 3.0])  # entry 0: missing or unseen
    sums = kernels.RunningSums()
    sums.scaled(0, 0.1)
    sums.lookup(2, block)
    sums.plain(1)
    sums.constant(-0.3)
    sums.squared_distance(1, 0.7)
    sums.end_output()
    sums.end_output()  # no terms: 0.0
    sums.scaled(1, -7.0)
    sums.end_output()
    got = sums([x, matrix[:, 1], codes], n)
    first = np.zeros(n)
    first += 0.1 * x
    first += block.take((np.fmax(codes, -1.0) + 1.0).astype(np.intp))
    first += matrix[:, 1]
    first += -0.3
    d = matrix[:, 1] - 0.7
    first += d * d
    want = np.column_stack([first, np.zeros(n), np.zeros(n) + -7.0 * matrix[:, 1]])
    assert got.shape == (n, 3)
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))  # NaN payloads and -0.0 too
    if n:
        codes[-1] = 4.0  # no entry for it: refused as NumPy's take refuses it
        with pytest.raises(IndexError, match=f"row {n - 1}: code 4.0 of input 2 has no entry among 4"):
            sums([x, matrix[:, 1], codes], n)
    with pytest.raises(ValueError, match="input 1 is not a float64 vector"):
        sums([x, matrix[:, 1].astype(np.float32), codes], n)
    bad = kernels.RunningSums()
    bad.scaled(3, 1.0)  # an input the call does not pass
    bad.end_output()
    with pytest.raises(ValueError, match="term 0 .* reads outside its 3 inputs"):
        bad([x, x, x], n)


def test_kernel_switch(monkeypatch):
    assert compiled.use("numpy") == "numpy"
    with pytest.raises(ConfigError, match="PMMLKIT_NATIVE_KERNELS='fast'; expected one of"):
        compiled.use("fast")
    monkeypatch.setitem(sys.modules, "pmmlkit.evaluator.native._ckernels", None)  # as if never built
    assert compiled.use("auto") == "numpy"
    with pytest.raises(ConfigError, match="compiled kernels are not built"):
        compiled.use("c")


def test_a_stale_build_is_never_used(monkeypatch, caplog):
    """An extension built from another _ckernels.c (another node layout) would answer wrongly."""
    import types

    stale = types.ModuleType("_ckernels")
    stale.ABI = compiled.ABI - 1
    monkeypatch.setitem(sys.modules, "pmmlkit.evaluator.native._ckernels", stale)
    assert compiled.use("auto") == "numpy"
    assert "stale build" in caplog.text
    with pytest.raises(ConfigError, match="stale build"):
        compiled.use("c")


def test_environment_variable_chooses_the_fallback(monkeypatch):
    monkeypatch.setenv(compiled.ENV, "numpy")
    monkeypatch.setattr(compiled, "_chosen", False)  # resolved again, from the environment
    assert compiled.name() == "numpy"


def test_threads_option_is_checked():
    raw = REAL["sklearn_rfc"]
    assert Evaluator.from_bytes(raw, backend="native").threads == parallel.cores()
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ConfigError, match="threads="):
            Evaluator.from_bytes(raw, backend="native", threads=bad)


def test_bounds_start_at_chunk_multiples_and_small_batches_stay_whole():
    assert parallel.bounds(5_000, 8) == [(0, 5_000)]
    parts = parallel.bounds(100_001, 3)
    assert len(parts) == 3 and parts[0][0] == 0 and parts[-1][1] == 100_001
    assert all(a % kernels.CHUNK_ROWS == 0 for a, _ in parts)
    assert all(b == c for (_, b), (c, _) in zip(parts, parts[1:]))


@pytest.mark.parametrize("name", ["sklearn_rfc", "sklearn_gbr", "sklearn_logreg"])
def test_threads_give_the_answers_of_one_thread(name, monkeypatch):
    """A batch split over 3 threads (odd size, bad rows among them) equals the single-threaded one."""
    monkeypatch.setattr(native_backend.NativeBackend, "splits_well", lambda self: True)  # small models split too
    raw = REAL[name]
    probe = probe_rows(parse(raw), max_rows=4_000)
    rng = np.random.default_rng(7)
    n = 3 * parallel.MIN_ROWS_PER_THREAD + 77
    frame = probe.iloc[rng.integers(0, len(probe), n)].reset_index(drop=True).astype(object)
    bad = [3, n // 2 - 1, n // 2, n - 2]  # in the first, second and last parts, one at a part's edge
    frame.loc[bad, frame.columns[0]] = "not a number"
    one = Evaluator.from_bytes(raw, backend="native", threads=1).predict_batch(frame, errors="column")
    assert sorted(np.flatnonzero(one["error"].notna())) == bad
    ev = Evaluator.from_bytes(raw, backend="native", threads=3)
    assert len(parallel.bounds(n, 3)) == 3
    pd.testing.assert_frame_equal(ev.predict_batch(frame, errors="column"), one, check_exact=True)


def test_threads_raise_what_one_thread_raises(monkeypatch):
    """errors="raise": the first bad row's InputError, even when a later part holds it (every part
    is checked before any is scored), as in one thread."""
    monkeypatch.setattr(native_backend.NativeBackend, "splits_well", lambda self: True)
    from pmmlkit.errors import InputError

    raw = REAL["sklearn_rfc"]
    probe = probe_rows(parse(raw), max_rows=4_000)
    clean = probe.dropna().head(1)
    n = 3 * parallel.MIN_ROWS_PER_THREAD
    frame = pd.concat([clean] * n, ignore_index=True)
    frame.loc[n - 5, frame.columns[0]] = "not a number"
    frame.loc[n - 2, frame.columns[0]] = "nor this"
    raised = []
    for threads in (1, 3):
        with pytest.raises(InputError) as caught:
            Evaluator.from_bytes(raw, backend="native", threads=threads).predict_batch(frame)
        raised.append(str(caught.value))
    assert raised[0] == raised[1] and f"row {n - 5}" in raised[0]


def test_only_models_that_descend_trees_in_c_are_split(monkeypatch):
    """A batch of 2 x MIN_ROWS_PER_THREAD rows of a model that descends trees in C is split in two; a
    model of NumPy steps, a smaller batch, threads=1, the NumPy kernels and a JVM bridge stay whole."""
    monkeypatch.setattr(native_backend, "MIN_PARALLEL_TREES", 3)  # sklearn_rfc has 3 trees
    n = 2 * parallel.MIN_ROWS_PER_THREAD
    forest = Evaluator.from_bytes(REAL["sklearn_rfc"], backend="native", threads=2)
    linear = Evaluator.from_bytes(REAL["sklearn_logreg"], backend="native", threads=2)
    assert rowsplit.parts(linear, n) == [(0, n)]
    assert rowsplit.parts(Evaluator.from_bytes(REAL["sklearn_rfc"], backend="native", threads=1), n) == [(0, n)]
    if available("c"):
        assert rowsplit.parts(forest, n) == [(0, n // 2), (n // 2, n)]
        assert rowsplit.parts(forest, n - 1) == [(0, n - 1)]
        compiled.use("numpy")
        assert rowsplit.parts(forest, n) == [(0, n)]
    bridge = Evaluator.from_bytes(REAL["sklearn_rfc"], backend="pypmml", threads=2)
    try:
        assert rowsplit.parts(bridge, n) == [(0, n)]
    finally:
        bridge.close()
