"""TreeSHAP (explain/trees.py) against shap's TreeExplainer on the same fitted scikit-learn, XGBoost
and LightGBM models, and against the definition of interventional Shapley values.

Tolerance against shap: 1e-6 absolute. Both compute the same exact quantity, but shap's own
values miss its additivity by up to ~4e-7 on these models (its tree code accumulates in part
in 32 bits), while ours add up to 1e-9; XGBoost's thresholds and leaves are 32-bit floats on
both sides. Against the brute-force definition (the evaluator scoring every mix of a row
with a background row): 1e-9.
"""
from __future__ import annotations

import numpy as np
import pytest

from pmmlkit import Evaluator

from .tree_models import FIELDS, brute_force, fit_all, shap_values
from .typed import explained

pytest.importorskip("shap")
pytest.importorskip("sklearn2pmml")

SHAP_TOL, EXACT = 1e-6, 1e-9
MODELS = ["decision_tree", "random_forest_reg", "random_forest_cls", "gbt_reg", "gbt_cls", "xgboost_cls",
          "lightgbm_cls", "xgboost_reg", "lightgbm_reg"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    return fit_all(tmp_path_factory.mktemp("trees"))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("name", MODELS)
def test_contributions_equal_shap_and_add_up(fitted, name):
    f = fitted[name]
    ev = Evaluator.from_bytes(f.pmml, backend="native")
    e = explained(ev, f.frame, f.background)
    assert np.max(np.abs(e.residual())) < EXACT
    ours = np.column_stack([e.contributions.get(c, np.zeros(len(f.frame))) for c in FIELDS])
    np.testing.assert_allclose(ours, shap_values(f), rtol=0, atol=SHAP_TOL)
    assert set(e.contributions) == set(ev.schema.input_names)  # every input, and only inputs


@pytest.mark.parametrize("name", MODELS)
def test_raw_is_the_evaluators_score(fitted, name):
    """raw is the prediction, a forest's probability, or a boosted chain's margin (its sigmoid)."""
    f = fitted[name]
    ev = Evaluator.from_bytes(f.pmml, backend="native")
    e = explained(ev, f.frame, f.background)
    scored = ev.predict_batch(f.frame)
    # XGBoost sums its 32-bit leaves in 32 bits; raw is their exact sum (a few float32 ulps apart)
    tol = {"rtol": 1e-6, "atol": 1e-6} if name.startswith("xgboost") else {"rtol": 1e-12}
    if "probability(1)" not in scored:
        np.testing.assert_allclose(e.raw, scored["predicted_y"], **tol)
        assert e.of == "predicted y"
    elif e.of.startswith("log-odds"):
        np.testing.assert_allclose(_sigmoid(e.raw), scored["probability(1)"], **tol)
        assert e.of == "log-odds of y=1"
    else:
        np.testing.assert_allclose(e.raw, scored["probability(1)"], **tol)
        assert e.of == "probability of y=1"


def test_base_is_the_mean_background_score(fitted):
    f = fitted["gbt_reg"]
    ev = Evaluator.from_bytes(f.pmml, backend="native")
    e = explained(ev, f.frame, f.background)
    assert np.allclose(e.base, ev.predict_batch(f.background)["predicted_y"].mean(), rtol=1e-12)


def test_matches_the_definition_on_a_chain(fitted):
    """Boosted classifier: the margin's Shapley values from every subset of inputs, scored by the evaluator."""
    f = fitted["gbt_cls"]
    ev = Evaluator.from_bytes(f.pmml, backend="native")
    rows, bg = f.frame.iloc[:6], f.background.iloc[:12]
    e = explained(ev, rows, bg)
    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    expected = brute_force(ev, rows, bg, "probability(1)", link=logit)
    for field in FIELDS:
        np.testing.assert_allclose(e.contributions[field], expected[field], rtol=0, atol=1e-8)  # logit of p


def test_one_hot_category_is_one_player(fitted):
    """A one-hot encoded category is one input field: its columns' splits add to one contribution."""
    f = fitted["one_hot"]
    ev = Evaluator.from_bytes(f.pmml, backend="native")
    e = explained(ev, f.frame, f.background)
    assert set(e.contributions) == {"colour", "a", "b"}
    assert np.max(np.abs(e.residual())) < EXACT
    assert np.abs(e.contributions["colour"]).max() > 0.1  # the category matters in this model
    rows, bg = f.frame.iloc[:5], f.background.iloc[:15]
    small = explained(ev, rows, bg)
    expected = brute_force(ev, rows, bg, "predicted_y")
    for field in ("colour", "a", "b"):
        np.testing.assert_allclose(small.contributions[field], expected[field], rtol=0, atol=EXACT)


@pytest.mark.parametrize("module, knob, value", [
    ("trees", "CHUNK_ROWS", 7),  # rows explained a few at a time: the same values as in one batch
    ("tree_shap", "K_TABLE", 0),  # every path takes the pairwise route instead of a pattern table
])
def test_same_values_by_every_route(fitted, monkeypatch, module, knob, value):
    import importlib

    f = fitted["random_forest_cls"]
    ev = Evaluator.from_bytes(f.pmml, backend="native")
    usual = explained(ev, f.frame, f.background)
    monkeypatch.setattr(importlib.import_module(f"pmmlkit.evaluator.native.explain.{module}"), knob, value)
    other = explained(ev, f.frame, f.background)
    for field in FIELDS:
        np.testing.assert_allclose(other.contributions[field], usual.contributions[field], rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["gbt_cls", "xgboost_cls", "one_hot"])
def test_grouped_comparisons_equal_the_compiled_predicates(fitted, name):
    """tree_tests.Predicates compares many thresholds at once; compile_predicate, one by one, agrees."""
    from pmmlkit.evaluator.native.explain.trees import _prepared

    f = fitted[name]
    ev = Evaluator.from_bytes(f.pmml, backend="native")
    frame = f.frame.copy()
    frame.iloc[::3, 0] = np.nan  # missing values: NaN results
    prepared = _prepared(ev.backend)
    assert prepared.preds.compared  # the grouped path is taken
    columns = ev.contract.check_frame(frame).columns
    grouped = prepared.preds.evaluate(prepared.envs(ev.backend, columns, len(frame)), len(frame))
    single = prepared.preds.one_by_one(prepared.envs(ev.backend, columns, len(frame)), len(frame))
    np.testing.assert_array_equal(grouped, single)
