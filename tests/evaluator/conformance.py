"""One conformance workflow for every backend: the same inputs, answers and errors.

A backend's test file calls ``check_backend(name)``. Expected numbers come
from closed-form formulas (tests/docs.py), not from another backend.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import InvalidValueError, MissingFieldError, TypeConversionError
from tests.docs import logistic_expected, logistic_pmml

RTOL = 1e-12
RESULT_COLUMNS = ["predicted_y", "probability(yes)", "probability(no)"]


def frame(n: int = 200, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0, 2, n)
    x1[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "x1": x1,
        "x2": rng.integers(0, 101, n),
        "device": rng.choice(["android", "ios", "web"], n),
        "extra": "ignored",
    })


def load(backend: str) -> Evaluator:
    return Evaluator.from_bytes(logistic_pmml(), backend=backend, source="logistic.pmml")


def check_batch_matches_formula(backend: str) -> None:
    ev = load(backend)
    df = frame()
    out = ev.predict_batch(df)
    assert list(out.columns) == RESULT_COLUMNS
    assert str(out["probability(yes)"].dtype) == "float64"
    assert out["predicted_y"].dtype == object
    expected = [logistic_expected(a, b, c) for a, b, c in zip(df.x1, df.x2, df.device)]
    np.testing.assert_allclose(out["probability(yes)"], expected, rtol=RTOL)
    np.testing.assert_allclose(out["probability(no)"], 1 - np.array(expected), rtol=1e-9)
    assert out["predicted_y"].tolist() == ["yes" if p > 0.5 else "no" for p in expected]
    assert out.index.equals(df.index)


def check_record_matches_batch(backend: str) -> None:
    ev = load(backend)
    df = frame(20)
    batch = ev.predict_batch(df)
    for i, rec in enumerate(df.to_dict("records")):
        one = ev.predict(rec)
        assert list(one) == RESULT_COLUMNS
        assert one["predicted_y"] == batch["predicted_y"].iloc[i]
        assert math.isclose(one["probability(yes)"], batch["probability(yes)"].iloc[i], rel_tol=RTOL)


def check_errors(backend: str) -> None:
    ev = load(backend)
    df = pd.DataFrame({"x1": [0.1, "abc", 0.3, 0.4, None, 0.5],
                       "x2": [1, 2, 2.5, 500, 3, "7"],
                       "device": ["ios", "ios", "web", "web", "tablet", "android"]},
                      index=[10, 11, 12, 13, 14, 15])
    out = ev.predict_batch(df, errors="column")
    assert len(out) == len(df)
    err = out["error"].tolist()
    assert err[0] is None and err[5] is None
    assert err[1] == "row 11: field 'x1': value 'abc' is not a number; expected type double"
    assert err[2] == "row 12: field 'x2': value 2.5 is not an integer; expected type integer"
    assert err[3] == "row 13: field 'x2': value 500 is outside [0.0, 100.0]"
    assert err[4] == "row 14: field 'device': value 'tablet' is not one of ['android', 'ios', 'web']"
    assert out.loc[[11, 12, 13, 14], "probability(yes)"].isna().all()
    np.testing.assert_allclose(out.loc[15, "probability(yes)"], logistic_expected(0.5, 7, "android"), rtol=RTOL)
    with pytest.raises(TypeConversionError) as e:
        ev.predict_batch(df)
    assert (e.value.row, e.value.field, e.value.value) == (11, "x1", "abc")
    with pytest.raises(InvalidValueError, match="'tablet' is not one of"):
        ev.predict({"x1": 1.0, "x2": 3, "device": "tablet"})
    with pytest.raises(MissingFieldError, match="'device': value None is absent"):
        ev.predict({"x1": 1.0, "x2": 3})


def check_backend(backend: str) -> None:
    check_batch_matches_formula(backend)
    check_record_matches_batch(backend)
    check_errors(backend)
