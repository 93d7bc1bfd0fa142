"""The peer benchmark's fitted scikit-learn pipelines and their sklearn2pmml documents (cached).

One-hot for the categorical columns, numeric columns imputed and passed through, on the
synthetic CTR data (examples/generate_ctr.py): RF 100 trees depth 8, GBT 50 trees depth 5,
logistic regression.
"""
from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODELS = ("random forest (100 trees, depth 8)", "GBT (50 trees, depth 5)", "logistic regression")


def _estimator(name: str) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    if name.startswith("random forest"):
        return RandomForestClassifier(n_estimators=100, max_depth=8, random_state=1, n_jobs=1)
    if name.startswith("GBT"):
        return GradientBoostingClassifier(n_estimators=50, max_depth=5, random_state=1)
    return LogisticRegression(max_iter=500)


def pipeline(name: str) -> Any:
    """An unfitted PMMLPipeline: imputed numbers passed through, imputed categories one-hot."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder
    from sklearn2pmml.pipeline import PMMLPipeline

    from examples.generate_ctr import CATEGORICAL, NUMERIC

    encode = ColumnTransformer([
        ("num", SimpleImputer(strategy="median"), list(NUMERIC)),
        ("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
    ], sparse_threshold=0.0)
    return PMMLPipeline([("encode", encode), ("estimator", _estimator(name))])


def raw_rows(n: int, seed: int) -> pd.DataFrame:
    """n raw CTR rows: about 4% of each number missing; every category present.

    A missing category is left out: JPMML-SkLearn maps an imputed category's one-hot column to
    ``isMissing(field)`` after the replacement, so PMML and scikit-learn answer such rows
    differently, and this benchmark compares speeds of agreeing answers.
    """
    from examples.generate_ctr import CATEGORICAL, NUMERIC, generate

    df = generate(n, seed)[list(NUMERIC) + list(CATEGORICAL)]
    for c in CATEGORICAL:  # the generator writes a missing category as ""
        df[c] = df[c].mask(df[c] == "", df[c].iloc[0])
    return df


def fitted(out: Path, *, train_rows: int = 20_000) -> dict[str, tuple[Any, bytes]]:
    """Every model as (fitted pipeline, PMML bytes), fitted and converted once per ``out`` folder."""
    from sklearn2pmml import sklearn2pmml

    from examples.generate_ctr import LABEL, generate

    out.mkdir(parents=True, exist_ok=True)
    models = {}
    train = None
    for i, name in enumerate(MODELS):
        pkl, pmml = out / f"peer{i}_{train_rows}.pkl", out / f"peer{i}_{train_rows}.pmml"
        if not (pkl.exists() and pmml.exists()):
            if train is None:
                train = raw_rows(train_rows, 1).assign(**{LABEL: generate(train_rows, 1)[LABEL]})
            pipe = pipeline(name).fit(train.drop(columns=[LABEL]), train[LABEL])
            if not name.startswith("logistic"):
                pipe.configure(compact=False)  # JPMML-SkLearn 1.9 cannot compact splits on one-hot columns
            sklearn2pmml(pipe, str(pmml))
            pkl.write_bytes(pickle.dumps(pipe))
            print(f"fitted and converted {name}", file=sys.stderr)
        models[name] = (pickle.loads(pkl.read_bytes()), pmml.read_bytes())
    return models
