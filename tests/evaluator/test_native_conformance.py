"""The native backend against JPMML-Evaluator on real JPMML-SparkML exports of every supported estimator."""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import RowEvaluationError, UnsupportedElement
from pmmlkit.evaluator.native import NativeBackend
from pmmlkit.pmml.loader import parse
from tests.evaluator.native_harness import assert_conforms, native_results, typed_columns
from tests.evaluator.native_models import estimator_names, fit_pmml, make_frame

pytest.importorskip("jpmml_evaluator")


@pytest.fixture(scope="module")
def documents(spark):
    """Every estimator fitted once on 1,200 rows (NaN numbers, None categories)."""
    train = make_frame(1200, seed=1)
    return {name: parse(fit_pmml(spark, name, train), source=name) for name in estimator_names()}


@pytest.fixture(scope="module")
def scoring_frame():
    """1,000 rows with missing values and categories never seen in training."""
    df = make_frame(1000, seed=2, unseen=True)
    assert df["x1"].isna().any() and df["c1"].isna().any() and (df["c1"] == "purple").any()
    return df


@pytest.mark.parametrize("name", estimator_names())
def test_matches_jpmml(documents, scoring_frame, name):
    assert_conforms(documents[name], scoring_frame, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", estimator_names())
def test_record_path_equals_batch(documents, scoring_frame, name):
    """Records take their own short cuts (memos, one-row set tables); they must not change answers."""
    doc = documents[name]
    backend = NativeBackend(doc)
    rows = 200
    refused: list[int] = []  # rows JPMML refuses too (test_matches_jpmml): a record fails alike
    batch = native_results(doc, scoring_frame.head(rows), refused=refused)
    cols = typed_columns(doc, scoring_frame.head(rows))
    for i in range(rows):
        if i in refused:
            with pytest.raises(RowEvaluationError):
                backend.evaluate_record({k: v[i] for k, v in cols.items()})
            continue
        got = backend.evaluate_record({k: v[i] for k, v in cols.items()})
        for key, column in batch.items():
            want = column[i]
            if isinstance(want, float) and math.isnan(want):
                assert isinstance(got[key], float) and math.isnan(got[key]), (i, key, got[key])
            elif isinstance(want, float):  # a 1-row sum may round differently in the last bit
                assert got[key] == pytest.approx(want, rel=1e-12), f"row {i} field {key}"
            else:
                assert got[key] == want, f"row {i} field {key}: {got[key]!r} != {want!r}"


def test_unsupported_element_names_its_path(documents):
    raw = documents["gbt_reg"].raw.decode()
    first_tree = raw.index("<TreeModel")
    end = raw.index("</TreeModel>") + len("</TreeModel>")
    seq = '<SequenceModel functionName="sequences"><MiningSchema/></SequenceModel>'  # not implemented natively
    doc = parse((raw[:first_tree] + seq + raw[end:]).encode())
    with pytest.raises(UnsupportedElement) as err:
        NativeBackend(doc)
    assert err.value.path == "PMML/MiningModel/Segmentation/Segment[1]/SequenceModel"
    assert "TreeModel" in err.value.supported and "SequenceModel" in str(err.value)


def test_missing_value_replacement_is_applied(documents, scoring_frame):
    doc = documents["linreg"]
    df = scoring_frame.head(20).copy()
    replacement = next(f.missing_value_replacement for f in doc.schema.inputs if f.name == "x1")
    imputed = df.assign(x1=float(replacement))
    df["x1"] = np.nan
    np.testing.assert_allclose(native_results(doc, df)["y"], native_results(doc, imputed)["y"], rtol=1e-12)


@pytest.mark.parametrize("name", ["forest_clf", "gbt_clf", "logreg_multi"])
def test_eight_threads_on_a_fresh_evaluator_match_sequential_results(documents, scoring_frame, name):
    """Memos and lazily built tables fill up while eight threads score at once."""
    raw = documents[name].raw
    inputs = [f.name for f in documents[name].schema.inputs]
    records = [{k: (None if pd.isna(v) else v) for k, v in r.items()}
               for r in scoring_frame[inputs].head(300).to_dict("records")]
    reference = Evaluator.from_bytes(raw, backend="native", verify=False)
    want_batch = reference.predict_batch(scoring_frame[inputs], errors="column")
    # A row JPMML refuses too (no prediction read by an OutputField) raises alone: leave it out.
    records = [r for r, e in zip(records, want_batch[reference.error_column]) if e is None]
    want_records = [reference.predict(r) for r in records]
    shared = Evaluator.from_bytes(raw, backend="native", verify=False)

    def work(i: int):
        if i % 2:
            return [shared.predict(r) for r in records]
        return shared.predict_batch(scoring_frame[inputs], errors="column")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    for i, got in enumerate(results):
        if i % 2:
            assert got == want_records
        else:
            pd.testing.assert_frame_equal(got, want_batch)
