"""Fitted scikit-learn linear pipelines and their sklearn2pmml exports, for the explanation tests."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_ROWS, N_BACKGROUND = 240, 60


@dataclass
class Fitted:
    pipeline: Any  # the PMMLPipeline: a ColumnTransformer then the estimator
    pmml: bytes
    frame: pd.DataFrame  # rows to explain
    background: pd.DataFrame


def data(seed: int = 7, n: int = N_ROWS) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Two numeric inputs on different scales, one categorical; a binary and a continuous label."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(20, 5, n),
                      "c": rng.choice(["red", "green", "blue"], n)})
    signal = 1.5 * X.a - 0.2 * (X.b - 20) + (X.c == "green") * 1.2 - (X.c == "blue") * 0.7
    return X, (signal + rng.normal(0, 0.5, n) > 0).astype(int), signal * 3 + 10 + rng.normal(0, 0.3, n)


def _transformer(impute: bool) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()) if impute else StandardScaler()
    return ColumnTransformer([("num", numeric, ["a", "b"]), ("cat", OneHotEncoder(), ["c"])])


def fit_all(workdir: Path) -> dict[str, Fitted]:
    """logistic (binary), linear, and linear with imputed inputs, converted in one JVM."""
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn2pmml.pipeline import PMMLPipeline

    from tests.conformance.sklearn_producer import SkLearn2PMML

    X, y_bin, y_reg = data()
    holes = X.copy()
    holes.loc[holes.index % 7 == 3, "a"] = np.nan
    holes.loc[holes.index % 11 == 5, "b"] = np.nan
    specs = {"logistic": (X, y_bin, LogisticRegression(), False),
             "linear": (X, y_reg, LinearRegression(), False),
             "imputed": (holes, y_reg, LinearRegression(), True)}
    converter = SkLearn2PMML(workdir)
    out = {}
    try:
        for name, (frame, y, estimator, impute) in specs.items():
            pipeline = PMMLPipeline([("ct", _transformer(impute)), ("model", estimator)])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pipeline.fit(frame, y)
            out[name] = Fitted(pipeline, converter.convert(pipeline, name), frame, frame.iloc[:N_BACKGROUND])
    finally:
        converter.close()
    return out


def shap_values(fitted: Fitted, fields: list[str]) -> dict[str, np.ndarray]:
    """shap's LinearExplainer (interventional) on the same fitted model and background, per input field.

    shap explains the transformed columns; a field's value is the sum over its columns (one-hot
    columns of a category), which is exact for a linear model.
    """
    import shap

    ct, model = fitted.pipeline.steps[0][1], fitted.pipeline.steps[-1][1]
    # Independent masker = feature_perturbation="interventional" (the spelling shap no longer warns about)
    masker = shap.maskers.Independent(ct.transform(fitted.background), max_samples=len(fitted.background))
    explainer = shap.LinearExplainer(model, masker)
    values = np.asarray(explainer.shap_values(ct.transform(fitted.frame)))
    names = list(ct.get_feature_names_out())
    out = {f: np.zeros(len(fitted.frame)) for f in fields}
    for j, name in enumerate(names):
        field = name.split("__", 1)[1]
        field = field if field in out else field.rsplit("_", 1)[0]  # cat__c_red -> c
        out[field] += values[:, j]
    return out
