"""Every linear model of the sklearn2pmml conformance catalogue: explained additively, or refused by name."""
from __future__ import annotations

import numpy as np
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import ExplanationError
from tests.evaluator.sklearn_native import convert

pytest.importorskip("sklearn2pmml")

EXPLAINED = ["linear_regression", "ridge", "linear_regression_f32", "logistic_regression_bin",
             "ct_logistic_regression", "ct_domains_linear_regression", "linear_svc_bin"]
REFUSED = {"logistic_regression_multi": "has 3 classes",
           # score32 / (age + 1): one term over two inputs
           "expression_linear_regression": r"depends on the input fields \['age', 'score32'\] together"}
N_BACKGROUND = 50


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return convert([*EXPLAINED, *REFUSED], tmp_path_factory.mktemp("linear-catalogue"))


@pytest.mark.parametrize("name", EXPLAINED)
def test_additive_and_raw_is_the_models_score(cases, name):
    case = cases[name]
    ev = Evaluator.from_bytes(case.pmml, backend="native")
    plain = ev.predict_batch(case.frame, errors="column")
    clean = case.frame[plain[ev.error_column].isna().to_numpy()]
    ev.set_background(clean.iloc[:N_BACKGROUND])
    out = ev.predict_batch(case.frame, errors="column", explain=True)
    ok = out[ev.error_column].isna() & out["raw_score"].notna()
    assert ok.sum() > len(out) // 2
    parts = out.loc[ok, [f"contribution_{f}" for f in ev.schema.input_names]].sum(axis=1)
    assert (out.loc[ok, "base_score"] + parts - out.loc[ok, "raw_score"]).abs().max() < 1e-9
    raw = out.loc[ok, "raw_score"].to_numpy()
    target = ev.result_names[0]
    if ev.schema.function_name == "regression":  # a float target is rounded to 32 bits after the sum
        rtol = 1e-6 if name.endswith("_f32") else 1e-12
        np.testing.assert_allclose(raw, out.loc[ok, target].astype(float), rtol=rtol, atol=1e-9)
        return
    negative, positive = ev.schema.targets[0].values  # the log-odds of the second class
    assert (out.loc[ok, target].astype(str) == np.where(raw > 0, positive, negative)).all()
    if f"probability({positive})" in out.columns:
        p = out.loc[ok, f"probability({positive})"].to_numpy()
        np.testing.assert_allclose(raw, np.log(p / (1 - p)), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_cannot_be_split_exactly_is_refused(cases, name):
    case = cases[name]
    ev = Evaluator.from_bytes(case.pmml, backend="native", background=case.frame.iloc[:5])
    with pytest.raises(ExplanationError, match=REFUSED[name]):
        ev.predict_batch(case.frame.iloc[:5], explain=True)
