"""Fitted tree models and their sklearn2pmml exports, and the reference explanations, for the TreeSHAP tests."""
from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_ROWS, N_EXPLAINED, N_BACKGROUND = 300, 80, 50
FIELDS = ["a", "b", "c", "d"]


@dataclass
class Fitted:
    estimator: Any  # the fitted model shap explains (the pipeline's last step)
    pmml: bytes
    frame: pd.DataFrame  # rows to explain
    background: pd.DataFrame


def data(seed: int = 5, n: int = N_ROWS) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Four numeric inputs (d is noise); a binary label with an interaction, and a continuous one."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, len(FIELDS))), columns=FIELDS)
    signal = X.a + X.b * X.c
    y_bin = pd.Series((signal + rng.normal(0, 0.3, n) > 0).astype(int), name="y")
    return X, y_bin, pd.Series(2 * X.a + X.b * X.c + 0.1 * rng.normal(size=n), name="y")


def estimators() -> dict[str, tuple[str, Any]]:
    """name -> (task, unfitted estimator): small ensembles of shallow trees, so the tests stay fast."""
    import lightgbm
    import xgboost
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.tree import DecisionTreeRegressor

    return {
        "decision_tree": ("reg", DecisionTreeRegressor(max_depth=5, random_state=1)),
        "random_forest_reg": ("reg", RandomForestRegressor(n_estimators=8, max_depth=5, random_state=1)),
        "random_forest_cls": ("cls", RandomForestClassifier(n_estimators=8, max_depth=5, random_state=1)),
        "gbt_reg": ("reg", GradientBoostingRegressor(n_estimators=15, max_depth=3, random_state=1)),
        "gbt_cls": ("cls", GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=1)),
        "xgboost_cls": ("cls", xgboost.XGBClassifier(n_estimators=15, max_depth=3, random_state=1)),
        "lightgbm_cls": ("cls", lightgbm.LGBMClassifier(n_estimators=15, max_depth=3, random_state=1, verbose=-1)),
        "xgboost_reg": ("reg", xgboost.XGBRegressor(n_estimators=15, max_depth=3, random_state=1)),
        "lightgbm_reg": ("reg", lightgbm.LGBMRegressor(n_estimators=15, max_depth=3, random_state=1, verbose=-1)),
    }


def fit_all(workdir: Path) -> dict[str, Fitted]:
    """Every estimator fitted on the same data and converted by JPMML-SkLearn in one JVM."""
    from sklearn2pmml.pipeline import PMMLPipeline

    from tests.conformance.sklearn_producer import SkLearn2PMML

    X, y_bin, y_reg = data()
    converter = SkLearn2PMML(workdir)
    out = {}
    try:
        for name, (task, estimator) in estimators().items():
            pipeline = PMMLPipeline([("model", estimator)])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pipeline.fit(X, y_bin if task == "cls" else y_reg)
            out[name] = Fitted(estimator, converter.convert(pipeline, name), X.iloc[N_BACKGROUND:][:N_EXPLAINED],
                               X.iloc[:N_BACKGROUND])
        out["one_hot"] = _one_hot(converter)
    finally:
        converter.close()
    return out


def _one_hot(converter: Any) -> Fitted:
    """Gradient boosting over a one-hot encoded category and two numbers: the category is one player."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.preprocessing import OneHotEncoder
    from sklearn2pmml.pipeline import PMMLPipeline

    rng = np.random.default_rng(11)
    n = 240
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "colour": rng.choice(["red", "green", "blue", "grey"], n)})
    y = (X.a * (X.colour == "green") + X.b + (X.colour == "blue") * 2.0).rename("y")
    model = GradientBoostingRegressor(n_estimators=10, max_depth=3, random_state=1)
    pipeline = PMMLPipeline([("ct", ColumnTransformer([("cat", OneHotEncoder(), ["colour"]),
                                                        ("num", "passthrough", ["a", "b"])])), ("model", model)])
    pipeline.fit(X, y)
    return Fitted(model, converter.convert(pipeline, "one_hot"), X.iloc[40:80], X.iloc[:40])


def shap_values(fitted: Fitted) -> np.ndarray:
    """[rows, FIELDS] shap's exact interventional TreeSHAP of the same fitted model and background."""
    import shap

    explainer = shap.TreeExplainer(fitted.estimator, data=fitted.background,
                                   feature_perturbation="interventional", model_output="raw")
    values = np.asarray(explainer.shap_values(fitted.frame))
    return values[..., 1] if values.ndim == 3 else values  # a forest classifier: the positive class's


def brute_force(evaluator: Any, frame: pd.DataFrame, background: pd.DataFrame, score: str,
                link: Any = None) -> dict[str, np.ndarray]:
    """Interventional Shapley values from their definition: every subset S of the inputs, every
    background row z, the evaluator's own score of the row that takes S from x and the rest from z.
    ``link`` maps the published score column to the raw score (e.g. probability -> log-odds)."""
    fields = list(evaluator.schema.input_names)
    k, n, m = len(fields), len(frame), len(background)
    subsets = list(itertools.product([False, True], repeat=k))
    mixes = []
    for i in range(n):
        for j in range(m):
            for s in subsets:
                mixes.append({f: frame.iloc[i][f] if take else background.iloc[j][f] for f, take in zip(fields, s)})
    scores = evaluator.predict_batch(pd.DataFrame(mixes, columns=fields))[score].to_numpy(dtype=float)
    v = (link(scores) if link is not None else scores).reshape(n, m, len(subsets))
    index = {s: t for t, s in enumerate(subsets)}
    out = {}
    for p, f in enumerate(fields):
        phi = np.zeros(n)
        for s in subsets:
            if s[p]:
                continue
            size = sum(s)
            with_f = tuple(True if q == p else x for q, x in enumerate(s))
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            phi += weight * (v[:, :, index[with_f]] - v[:, :, index[s]]).mean(axis=1)
        out[f] = phi
    return out
