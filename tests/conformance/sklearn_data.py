"""Small data sets for the scikit-learn producer: real ones from sklearn, and a mixed-type frame."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CITIES = ["berlin", "lima", "oslo", "tokyo"]


@dataclass(frozen=True)
class Data:
    X: pd.DataFrame
    y: pd.Series
    score: pd.DataFrame   # rows to score: held-in rows, some with a missing value
    clean: np.ndarray     # score rows the producer itself can answer (no missing, no unseen value)


def _score_rows(X: pd.DataFrame, n: int, n_missing: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` rows of X, the last ``n_missing`` of them with one value made missing."""
    rng = np.random.default_rng(seed)
    rows = X.iloc[rng.choice(len(X), size=n, replace=False)].copy()
    for j in range(n - n_missing, n):
        col = rows.columns[j % len(rows.columns)]
        rows.iloc[j, rows.columns.get_loc(col)] = None if rows[col].dtype == object else np.nan
    clean = np.ones(n, dtype=bool)
    clean[n - n_missing:] = False
    return rows.reset_index(drop=True), clean


def diabetes(*, float32: bool = False) -> Data:
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    if float32:  # half the columns float32, so dataType="float" meets double columns
        X = X.astype({c: np.float32 for c in X.columns[::2]})
    score, clean = _score_rows(X, 110, 10, seed=1)
    return Data(X, y.rename("target"), score, clean)


def iris() -> Data:
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    X = bunch.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    y = pd.Series(np.asarray(bunch.target_names)[bunch.target], name="species")
    score, clean = _score_rows(X, 110, 10, seed=2)
    return Data(X, y, score, clean)


def iris_codes() -> Data:
    """Iris with integer class codes (XGBoost refuses string labels)."""
    d = iris()
    codes = pd.Series(pd.Categorical(d.y).codes.astype(int), name="species")
    return Data(d.X, codes, d.score, d.clean)


def cancer() -> Data:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    X = bunch.data.iloc[:, :6].rename(columns=lambda c: c.replace(" ", "_"))
    score, clean = _score_rows(X, 110, 10, seed=3)
    return Data(X, bunch.target.rename("malignant"), score, clean)


def mixed(*, task: str) -> Data:
    """int, float (with NaN), float32, string (with None) and boolean columns."""
    rng = np.random.default_rng(4)
    n = 400
    X = pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "income": np.round(rng.lognormal(10, 0.5, n), 2),
        "score32": rng.normal(0, 1, n).astype(np.float32),
        "city": rng.choice(CITIES, n).astype(object),
        "member": rng.choice([True, False], n),
    })
    X.loc[rng.random(n) < 0.1, "income"] = np.nan
    X.loc[rng.random(n) < 0.1, "city"] = None
    signal = (X["age"] / 40 + np.nan_to_num(X["income"], nan=20000.0) / 20000 + X["score32"]
              + X["city"].map({"berlin": 1.0, "lima": -0.5, "oslo": 0.5, "tokyo": 0.0}).fillna(0)
              + X["member"] * 0.7)
    y = (signal + rng.normal(0, 0.3, n)).rename("y") if task == "regression" else \
        pd.Series(np.where(signal + rng.normal(0, 0.5, n) > signal.median(), "yes", "no"), name="y")
    score, clean = _score_rows(X, 110, 0, seed=5)
    clean = score.notna().all(axis=1).to_numpy()
    unseen = score.iloc[:4].copy()
    unseen["city"] = "paris"  # never seen in training
    return Data(X, y, pd.concat([score, unseen], ignore_index=True), np.concatenate([clean, [False] * 4]))
