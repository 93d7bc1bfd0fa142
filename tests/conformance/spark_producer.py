"""pyspark2pmml as the producer: fit each Spark pipeline, export it with pmmlkit's own path, build its Case."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .harness import Case
from .rows import on_thresholds
from .spark_models import MODELS

CATS = ["north", "south", "east", "west", "center"]
WORDS = ["good", "bad", "fast", "slow", "cheap", "the", "a", "price", "item", "great", "poor"]
THRESHOLD_ROWS = 60


def frame(n: int, *, seed: int) -> pd.DataFrame:
    """Integer, double, boolean, string and integer-category inputs with nulls, text, and labels."""
    rng = np.random.default_rng(seed)

    def holes(values: list, p: float = 0.1) -> list:
        return [None if rng.random() < p else v for v in values]

    i_num = rng.integers(0, 100, n)
    d_num = rng.normal(0, 1, n)
    b_flag = rng.random(n) < 0.4
    s_cat = rng.choice(CATS, n)
    c_int = rng.integers(1, 5, n)
    text = [" ".join(rng.choice(WORDS, rng.integers(2, 7))) for _ in range(n)]
    score = i_num / 50 + d_num + b_flag * 0.8 + (s_cat == "north") * 1.0 - (c_int == 2) * 0.7 \
        + np.array([t.count("good") - t.count("bad") for t in text]) * 0.5
    noisy = score + rng.normal(0, 0.4, n)
    return pd.DataFrame({
        "i_num": pd.Series(holes(i_num.tolist()), dtype=object),
        "d_num": pd.Series(holes(d_num.tolist()), dtype=object),
        "b_flag": pd.Series(holes(b_flag.tolist()), dtype=object),
        "s_cat": pd.Series(holes(s_cat.tolist()), dtype=object),
        "c_int": pd.Series(c_int.tolist(), dtype=object),
        "text": pd.Series(text, dtype=object),
        "y_bin": (noisy > np.median(noisy)).astype(float),
        "y_multi": np.where(noisy < np.quantile(noisy, 0.33), "low", np.where(noisy < np.quantile(noisy, 0.66),
                                                                           "mid", "high")).astype(object),
        "y_reg": noisy,
        "y_count": rng.poisson(np.exp(np.clip(score / 3, -2, 2))).astype(float),
        "y_pos": np.exp(noisy / 3),
    })


LABELS = ["y_bin", "y_multi", "y_reg", "y_count", "y_pos"]


def spark_frame(spark: Any, df: pd.DataFrame) -> Any:
    from pyspark.sql.types import BooleanType, DoubleType, IntegerType, StringType, StructField, StructType

    types = {"i_num": IntegerType(), "d_num": DoubleType(), "b_flag": BooleanType(), "s_cat": StringType(),
             "c_int": IntegerType(), "text": StringType(), "y_bin": DoubleType(), "y_multi": StringType(),
             "y_reg": DoubleType(), "y_count": DoubleType(), "y_pos": DoubleType()}
    schema = StructType([StructField(c, types[c], True) for c in df.columns])
    rows = [tuple(None if _na(v) else v for v in r) for r in df.itertuples(index=False, name=None)]
    return spark.createDataFrame(rows, schema)


def _na(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def score_frame() -> tuple[pd.DataFrame, np.ndarray]:
    """Held-out rows (nulls included), plus unseen categories; the mask marks rows without either."""
    rows = frame(100, seed=22)
    clean = rows[["i_num", "d_num", "b_flag", "s_cat"]].notna().all(axis=1).to_numpy()
    unseen = rows.iloc[:3].copy()
    unseen["s_cat"] = "nowhere"
    unseen2 = rows.iloc[3:6].copy()
    unseen2["c_int"] = 9
    rows = pd.concat([rows, unseen, unseen2], ignore_index=True)
    return rows, np.concatenate([clean, np.zeros(6, dtype=bool)])


def build_case(name: str, spark: Any, train: Any) -> Case:
    from pyspark.ml import Pipeline

    from pmmlkit.spark.export import to_pmml

    label, make = MODELS[name]
    model = Pipeline(stages=make()).fit(train)
    raw = to_pmml(model, train)
    base, clean = score_frame()
    extra = on_thresholds(raw, _as_float(base[clean]), n=THRESHOLD_ROWS, seed=len(name))
    rows = (pd.concat([base, extra.astype(object)], ignore_index=True) if len(extra) else base).drop(columns=LABELS)
    clean = np.concatenate([clean, np.ones(len(extra), dtype=bool)])
    return Case(name, "pyspark2pmml", raw, rows, expected(model, spark, rows, clean, label=label))


def _as_float(df: pd.DataFrame) -> pd.DataFrame:
    """d_num as a float column, so threshold values can be set on it."""
    out = df.copy()
    out["d_num"] = out["d_num"].astype(float)
    return out


def expected(model: Any, spark: Any, rows: pd.DataFrame, clean: np.ndarray, *, label: str) -> dict[str, list]:
    """Spark's own prediction (and probabilities) for the clean rows, by PMML result name."""
    if not label:
        return {}
    full = rows.copy()
    for c in LABELS:
        full[c] = 0.0 if c != "y_multi" else "low"
    scored = model.transform(spark_frame(spark, full[clean].reset_index(drop=True))).toPandas()
    labels = _label_values(model, label)
    out: dict[str, list] = {}
    positions = np.flatnonzero(clean)

    def spread(values: list) -> list:
        column: list = [None] * len(rows)
        for i, v in zip(positions, values):
            column[i] = v
        return column

    predicted = scored["prediction"].tolist()
    last = model.stages[-1]
    if getattr(last, "getFamily", lambda: "")() == "binomial":  # a GLR's prediction is the mean
        return {"probability(1)": spread(predicted)}
    out[label] = spread([labels[int(p)] if labels else p for p in predicted])
    if "probability" in scored.columns:
        names = labels or ["0", "1"]
        for j, value in enumerate(names):
            out[f"probability({value})"] = spread([float(p[j]) for p in scored["probability"]])
    return out


def _label_values(model: Any, label: str) -> list[str] | None:
    """The string labels of an indexed label column, by index; None for a numeric label."""
    from pyspark.ml.feature import StringIndexerModel

    for stage in model.stages:
        if isinstance(stage, StringIndexerModel) and stage.isSet(stage.inputCol) and stage.getInputCol() == label:
            return list(stage.labels)
    return None


def build_all(spark: Any) -> tuple[dict[str, Case], dict[str, str]]:
    train = spark_frame(spark, frame(300, seed=21)).cache()
    cases: dict[str, Case] = {}
    failures: dict[str, str] = {}
    for name in MODELS:
        try:
            cases[name] = build_case(name, spark, train)
        except Exception as e:  # noqa: BLE001 - reported per model by the tests
            failures[name] = f"{type(e).__name__}: {str(e)[:800]}"
    train.unpersist()
    return cases, failures
