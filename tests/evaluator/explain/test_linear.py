"""Linear explanations (explain/linear.py) against shap's LinearExplainer on the same fitted models.

Tolerance: 1e-9 absolute. The export writes every coefficient, mean and scale as the shortest
text that reads back as the same double, and both sides compute w * (t(x) - mean t(z)) in
doubles, so only the order of additions differs (values here are O(1)-O(10)).
"""
from __future__ import annotations

import numpy as np
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import ExplanationError
from pmmlkit.evaluator.native.explain import explain

from .linear_models import fit_all, shap_values
from .typed import explained

pytest.importorskip("shap")
pytest.importorskip("sklearn2pmml")

TOL = 1e-9


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    return fit_all(tmp_path_factory.mktemp("linear"))


def _additive(e) -> None:
    assert np.nanmax(np.abs(e.residual())) < TOL


@pytest.mark.parametrize("name", ["logistic", "linear", "imputed"])
def test_contributions_equal_shap_and_add_up(fitted, name):
    f = fitted[name]
    ev = Evaluator.from_bytes(f.pmml, backend="native")
    e = explained(ev, f.frame, f.background)
    expected = shap_values(f, list(ev.schema.input_names))
    assert set(e.contributions) == {"a", "b", "c"}
    for field, values in expected.items():
        np.testing.assert_allclose(e.contributions[field], values, rtol=0, atol=TOL, err_msg=field)
    _additive(e)
    assert np.isfinite(e.raw).all()  # imputed rows are explained too (the MiningSchema replacement)


def test_raw_is_the_models_score(fitted):
    """Regression: the predicted value; logistic: the log-odds of the second class (sklearn's classes_[1])."""
    lin, log = fitted["linear"], fitted["logistic"]
    ev = Evaluator.from_bytes(lin.pmml, backend="native")
    np.testing.assert_allclose(explained(ev, lin.frame, lin.background).raw, lin.pipeline.predict(lin.frame),
                               rtol=1e-12, atol=1e-12)
    ev = Evaluator.from_bytes(log.pmml, backend="native")
    e = explained(ev, log.frame, log.background)
    assert e.of == "log-odds of None=1"
    np.testing.assert_allclose(e.raw, log.pipeline.decision_function(log.frame), rtol=1e-12, atol=1e-12)
    base = log.pipeline.decision_function(log.background).mean()
    np.testing.assert_allclose(e.base, base, rtol=1e-12)


def test_unused_field_gets_zero_and_missing_row_gets_nan(fitted):
    f = fitted["linear"]
    ev = Evaluator.from_bytes(f.pmml, backend="native")
    frame = f.frame.iloc[:3].copy()
    frame.loc[frame.index[1], "a"] = np.nan  # no replacement in this model: no score
    e = explained(ev, frame, f.background)
    assert np.isnan(e.raw[1]) and np.isnan(e.contributions["a"][1])
    assert np.isfinite(e.contributions["b"][1])  # the other fields are still explained
    _additive(e)


def test_without_background_says_how_to_give_one(fitted):
    f = fitted["linear"]
    ev = Evaluator.from_bytes(f.pmml, backend="native")
    rows = ev.contract.check_frame(f.frame)
    with pytest.raises(ExplanationError, match="needs background rows.*set_background"):
        explain(ev.backend, rows.columns, len(f.frame), None, 0)
