"""Score a frame with the native backend and with JPMML-Evaluator, and compare them field by field."""
from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose, assert_array_equal

from pmmlkit.evaluator.native import NativeBackend
from pmmlkit.pmml.loader import PmmlDocument

NUMERIC = ("double", "float", "integer", "boolean")
_EVALUATORS: dict = {}


def typed_columns(doc: PmmlDocument, df: pd.DataFrame) -> dict[str, np.ndarray]:
    """What the shared input contract hands a backend: typed columns, invalid values treated (asValue)."""
    cols = {}
    for f in doc.schema.inputs:
        if f.data_type in NUMERIC:
            cols[f.name] = df[f.name].to_numpy(np.float64)
            continue
        vals = df[f.name].to_numpy(object)
        if f.invalid_value_treatment == "asValue" and f.values:
            vals = np.array([v if v is None or v in f.values else f.invalid_value_replacement for v in vals],
                            dtype=object)
        cols[f.name] = vals
    return cols


def native_results(doc: PmmlDocument, df: pd.DataFrame, *, refused: list | None = None) -> dict[str, np.ndarray]:
    """Native's results; the rows it refuses are put in ``refused`` when given, else none may be."""
    results, errors = NativeBackend(doc).evaluate(typed_columns(doc, df), len(df))
    if refused is None:
        assert errors is None or not any(errors)
    else:
        refused.extend(i for i, e in enumerate(errors or []) if e)
    return {k: np.asarray(v) for k, v in results.items()}


def jpmml_results(doc: PmmlDocument, df: pd.DataFrame) -> pd.DataFrame:
    """The reference: JPMML-Evaluator through the jpmml_evaluator package, in pmmlkit's JVM."""
    from jpmml_evaluator import make_evaluator
    from jpmml_evaluator.py4j import Py4JBackend

    from pmmlkit.evaluator.jvm import GATEWAY

    # pmmlkit's gateway, not jpmml_evaluator's own launcher: its JVM has no die_on_exit
    # and outlived every test run (re-parented to PID 1).
    evaluator = make_evaluator(doc.raw.decode("utf-8"), backend=Py4JBackend(GATEWAY.get()))
    inputs = df[[f.name for f in doc.schema.inputs]].astype(object).where(df.notna(), None)
    return evaluator.evaluateAll(inputs)


def assert_conforms(doc: PmmlDocument, df: pd.DataFrame, *, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    """Every result column of the native backend equals JPMML's: numbers within rtol, labels exactly."""
    refused: list[int] = []
    ours = native_results(doc, df, refused=refused)
    ref = jpmml_results(doc, df)
    # A row JPMML refuses (e.g. an OutputField reading a prediction the tree did not make) is refused by native.
    theirs = np.flatnonzero([e is not None and e == e and e != "None" for e in ref["errors"]]) if "errors" in ref \
        else []
    assert_array_equal(refused, theirs, err_msg="rows refused differ")
    types = {t.name: t.data_type for t in doc.schema.targets}
    types.update({o.name: o.data_type for o in doc.schema.outputs})
    for name in doc.schema.result_names:
        theirs = ref[name].to_numpy()
        mine = ours[name]
        if types.get(name) in NUMERIC and doc.schema.function_name != "clustering" or mine.dtype != object:
            want = np.array([np.nan if v is None else float(v) for v in theirs])
            got = np.array([np.nan if v is None else float(v) for v in mine])
            assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{name}: missing results differ")
            assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"field {name!r}")
        else:
            want = np.array([None if v is None or v != v else str(v) for v in theirs], dtype=object)
            got = np.array([None if v is None else str(v) for v in mine], dtype=object)
            bad = np.flatnonzero(want != got)
            assert not len(bad), f"field {name!r}: rows {bad[:5].tolist()} got {got[bad[:5]]} expected {want[bad[:5]]}"
