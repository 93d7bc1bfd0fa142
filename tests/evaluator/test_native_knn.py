"""NearestNeighborModel (sklearn KNeighbors*) on the native backend, against JPMML-Evaluator (issue 12)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit.errors import UnsupportedElement
from pmmlkit.evaluator.native import NativeBackend
from pmmlkit.pmml.loader import parse
from tests.evaluator.sklearn_native import assert_native_equals_jpmml, convert

pytest.importorskip("sklearn2pmml")

# Training points on an integer grid, queries on and between them: many equal distances and tied votes.
GRID = pd.DataFrame({"a": np.repeat(np.arange(5.0), 4), "b": np.tile(np.arange(4.0), 5)})
LABELS = pd.Series(np.array(["x", "y", "z", "y"])[(np.arange(20) * 7) % 4], name="label")
QUERIES = pd.DataFrame({"a": [0.0, 0.5, 1.5, 2.0, 2.5, 4.0, -3.0, 9.0, 1.0, np.nan, 2.25],
                        "b": [0.0, 0.5, 1.5, 1.0, 2.5, 3.0, 0.5, 9.0, np.nan, 2.0, 0.75]})

# (name, estimator parameters): each one converted by the real producer
CLASSIFIERS = {
    "uniform_euclidean_k4": dict(n_neighbors=4),
    "distance_manhattan_k3": dict(n_neighbors=3, weights="distance", metric="manhattan"),
    "uniform_minkowski3_k5": dict(n_neighbors=5, metric="minkowski", p=3),
}
REGRESSORS = {
    "uniform_euclidean_k4": dict(n_neighbors=4),
    "distance_euclidean_k5": dict(n_neighbors=5, weights="distance"),
}


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn2pmml.pipeline import PMMLPipeline

    from tests.conformance.sklearn_producer import SkLearn2PMML

    converter = SkLearn2PMML(tmp_path_factory.mktemp("knn"))
    y_num = pd.Series((GRID["a"] * 3 - GRID["b"] ** 2).to_numpy(), name="target")
    out = {}
    try:
        for name, params in CLASSIFIERS.items():
            out[f"cls_{name}"] = converter.convert(PMMLPipeline([("knn", KNeighborsClassifier(**params))])
                                                   .fit(GRID, LABELS), f"cls_{name}")
        for name, params in REGRESSORS.items():
            out[f"reg_{name}"] = converter.convert(PMMLPipeline([("knn", KNeighborsRegressor(**params))])
                                                   .fit(GRID, y_num), f"reg_{name}")
    finally:
        converter.close()
    return out


@pytest.mark.parametrize("name", [f"cls_{n}" for n in CLASSIFIERS] + [f"reg_{n}" for n in REGRESSORS])
def test_knn_ties_and_missing_inputs_equal_jpmml(documents, name):
    raw = documents[name]
    frame = pd.concat([QUERIES, GRID], ignore_index=True)  # every training point too: distance 0
    native = assert_native_equals_jpmml(raw, frame)
    assert native.filter(like="neighbor(").notna().all().all()


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    return convert(["knn_cls", "knn_reg", "kmeans"], tmp_path_factory.mktemp("knn_catalogue"))


def test_sklearn_catalogue_distance_models_equal_jpmml(catalogue):
    # kmeans: JPMML-SkLearn lists the cluster ids as Values of the "cluster" OutputField (once refused).
    assert b'<OutputField name="cluster" optype="categorical" dataType="string">' in catalogue["kmeans"].pmml
    for case in catalogue.values():
        NativeBackend(parse(case.pmml))
        assert_native_equals_jpmml(case.pmml, case.frame)


def test_values_of_an_ordinal_output_are_refused(catalogue):
    raw = catalogue["kmeans"].pmml.replace(b'name="cluster" optype="categorical"', b'name="cluster" optype="ordinal"')
    with pytest.raises(UnsupportedElement, match="Value of an ordinal OutputField"):
        NativeBackend(parse(raw))


def test_tie_orders_are_jpmml_ones(documents):
    # Query (0.5, 0.5) is at the same distance from 4 training points: ranks keep table order, and the
    # 2-2 vote of k=4 goes to the label with more training instances, then to the smaller one.
    native = assert_native_equals_jpmml(documents["cls_uniform_euclidean_k4"], QUERIES.iloc[[1]])
    assert native.iloc[0][[f"neighbor({i})" for i in range(1, 5)]].tolist() == ["1", "2", "5", "6"]


def test_what_knn_does_not_implement_is_refused(documents):
    raw = documents["cls_uniform_euclidean_k4"]
    for old, new, said in [
        (b'<OutputField name="neighbor(2)" optype="categorical" dataType="string" feature="entityId" rank="2"/>',
         b'<OutputField name="p" optype="continuous" dataType="double" feature="probability" value="x"/>',
         "feature='probability'"),
        (b"<euclidean/>", b"<jaccard/>", "jaccard"),
        (b'<KNNInput field="a"/>', b'<KNNInput field="a" compareFunction="gaussSim"/>', "compareFunction='gaussSim'"),
        (b'<MiningField name="a"/>', b'<MiningField name="a" outliers="asExtremeValues" lowValue="1" highValue="3"/>',
         "MiningField 'a' with outliers"),
    ]:
        assert old in raw
        with pytest.raises(UnsupportedElement, match=said):
            NativeBackend(parse(raw.replace(old, new)))


def test_rank_outside_knn_is_refused():
    from tests.evaluator.native_docs import real_documents

    raw = real_documents()["sklearn_rfc"]
    assert b"<Output>" in raw
    ranked = raw.replace(b"<Output>", b'<Output><OutputField name="e2" feature="entityId" rank="2"/>', 1)
    with pytest.raises(UnsupportedElement, match="feature='entityId' rank='2' in a MiningModel"):
        NativeBackend(parse(ranked))


@pytest.mark.parametrize("edit", [
    (b'numberOfNeighbors="4"', b'numberOfNeighbors="4" continuousScoringMethod="median"'),  # even k: mean of two
    (b'numberOfNeighbors="4"', b'numberOfNeighbors="3" continuousScoringMethod="median"'),
    (b'<KNNInput field="b"/>', b'<KNNInput field="b" fieldWeight="2.5"/>'),
    (b"<euclidean/>", b"<squaredEuclidean/>"),
    (b"<euclidean/>", b"<chebychev/>"),
])
def test_what_sklearn2pmml_does_not_write_but_pmml_allows_equals_jpmml(documents, edit):
    raw = documents["reg_uniform_euclidean_k4"]
    assert edit[0] in raw
    assert_native_equals_jpmml(raw.replace(*edit), pd.concat([QUERIES, GRID], ignore_index=True))


def test_rows_without_any_input_fail_alone_in_one_thread_and_split(documents, monkeypatch):
    """A row the model cannot score (every KNNInput missing) gets its message and no results; the other
    rows score. The same frame, split over two threads, answers the same."""
    from pmmlkit import Evaluator
    from pmmlkit.evaluator import rowsplit
    from pmmlkit.evaluator.native import parallel

    monkeypatch.setattr(NativeBackend, "splits_well", lambda self: True)  # no trees: split all the same

    raw = documents["cls_uniform_euclidean_k4"]
    n = 2 * parallel.MIN_ROWS_PER_THREAD + 3
    frame = QUERIES.dropna().sample(n, replace=True, random_state=1).reset_index(drop=True)
    empty = [2, n // 2 + 7, n - 1]  # one in each part, and the last row
    frame.loc[empty, ["a", "b"]] = np.nan
    one = Evaluator.from_bytes(raw, backend="native", threads=1).predict_batch(frame, errors="column")
    two = Evaluator.from_bytes(raw, backend="native", threads=2)
    assert len(rowsplit.parts(two, n)) == 2
    split = two.predict_batch(frame, errors="column")
    pd.testing.assert_frame_equal(split, one, check_exact=True)
    failed = one[two.error_column].notna()
    assert failed[failed].index.tolist() == empty
    assert one.loc[empty, two.error_column].str.startswith(tuple(f"row {i}: every KNNInput" for i in empty)).all()
    results = one.drop(columns=two.error_column)
    assert results.loc[empty].isna().all().all() and results.drop(index=empty).notna().any(axis=1).all()
