"""Small Spark pipelines exported through JPMML-SparkML, for the native backend's conformance tests.

Every estimator JPMML-SparkML converts is fitted once on generated rows with
missing numbers (NaN), missing categories (None), and scored on rows that also
carry categories never seen in training.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

NUMERIC = ("x1", "x2", "x3")
CATEGORICAL = ("c1", "c2")
INPUTS = NUMERIC + CATEGORICAL


def make_frame(n_rows: int, *, seed: int, unseen: bool = False) -> pd.DataFrame:
    """Generated rows; labels depend on the features so models learn real structure."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0.0, 1.0, n_rows)
    x2 = rng.uniform(0.0, 10.0, n_rows)
    x3 = rng.normal(5.0, 2.0, n_rows).round(3)
    c1_values = ["red", "green", "blue"] + (["purple"] if unseen else [])
    c2_values = ["a", "b", "c", "d"] + (["zzz"] if unseen else [])
    c1 = rng.choice(c1_values, n_rows).astype(object)
    c2 = rng.choice(c2_values, n_rows).astype(object)
    effect = {"red": 0.8, "green": -0.5, "blue": 0.0, "purple": 0.3}
    logit = 1.2 * x1 - 0.3 * x2 + 0.2 * x3 + np.array([effect[v] for v in c1]) + (c2 == "a") * 0.7
    y_bin = (rng.uniform(size=n_rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    y_multi = np.where(logit > 0.8, "hi", np.where(logit < -0.8, "lo", "mid")).astype(object)
    y = 3.0 + 2.0 * x1 + 0.5 * x2 - 0.1 * x3 + rng.normal(0, 0.3, n_rows) + (c2 == "b") * 1.5
    x1[rng.uniform(size=n_rows) < 0.1] = np.nan
    x2[rng.uniform(size=n_rows) < 0.1] = np.nan
    c1[rng.uniform(size=n_rows) < 0.1] = None
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "c1": c1, "c2": c2,
                         "y_bin": y_bin, "y_multi": y_multi, "y": y, "y_pos": np.exp(y / 4.0)})


def _features(*, one_hot: bool, nonneg: bool = False) -> tuple[list, str]:
    """Shared preprocessing: StringIndexer(keep) [+ OneHotEncoder], Imputer, VectorAssembler."""
    from pyspark.ml.feature import Imputer, OneHotEncoder, StringIndexer, VectorAssembler

    stages: list = [StringIndexer(inputCols=list(CATEGORICAL), outputCols=[f"{c}_idx" for c in CATEGORICAL],
                                  handleInvalid="keep")]
    cat_cols = [f"{c}_idx" for c in CATEGORICAL]
    if one_hot:
        stages.append(OneHotEncoder(inputCols=cat_cols, outputCols=[f"{c}_vec" for c in CATEGORICAL]))
        cat_cols = [f"{c}_vec" for c in CATEGORICAL]
    numeric = ["x2"] if nonneg else list(NUMERIC)
    stages.append(Imputer(inputCols=numeric, outputCols=[f"{c}_imp" for c in numeric], strategy="mean"))
    stages.append(VectorAssembler(inputCols=[f"{c}_imp" for c in numeric] + cat_cols, outputCol="features"))
    return stages, "features"


def _indexed_label(col: str) -> list:
    from pyspark.ml.feature import StringIndexer

    return [StringIndexer(inputCol=col, outputCol="label")]


def _estimators() -> dict[str, Callable[[], tuple[list, bool, bool]]]:
    """name -> () -> (stages after features, one_hot, nonneg)."""
    from pyspark.ml import classification as c
    from pyspark.ml import clustering as k
    from pyspark.ml import regression as r

    return {
        "logreg_binary": lambda: ([c.LogisticRegression(featuresCol="features", labelCol="y_bin", maxIter=30)],
                                  True, False),
        "logreg_multi": lambda: (_indexed_label("y_multi") + [c.LogisticRegression(
            featuresCol="features", labelCol="label", family="multinomial", maxIter=30)], True, False),
        "linreg": lambda: ([r.LinearRegression(featuresCol="features", labelCol="y")], True, False),
        "tree_clf": lambda: (_indexed_label("y_multi") + [c.DecisionTreeClassifier(
            featuresCol="features", labelCol="label", maxDepth=5)], False, False),
        "tree_reg": lambda: ([r.DecisionTreeRegressor(featuresCol="features", labelCol="y", maxDepth=6)],
                             False, False),
        "forest_clf": lambda: ([c.RandomForestClassifier(featuresCol="features", labelCol="y_bin", numTrees=12,
                                                         maxDepth=5, seed=3)], False, False),
        "forest_reg": lambda: ([r.RandomForestRegressor(featuresCol="features", labelCol="y", numTrees=10,
                                                        maxDepth=5, seed=3)], True, False),
        "gbt_clf": lambda: ([c.GBTClassifier(featuresCol="features", labelCol="y_bin", maxIter=10, maxDepth=3,
                                             seed=3)], False, False),
        "gbt_reg": lambda: ([r.GBTRegressor(featuresCol="features", labelCol="y", maxIter=10, maxDepth=3,
                                            seed=3)], True, False),
        "naive_bayes": lambda: (_indexed_label("y_multi") + [c.NaiveBayes(featuresCol="features",
                                                                           labelCol="label")], True, True),
        "mlp": lambda: (_indexed_label("y_multi") + [c.MultilayerPerceptronClassifier(
            featuresCol="features", labelCol="label", layers=[10, 5, 3], maxIter=40, seed=3)], True, False),
        "linear_svc": lambda: ([c.LinearSVC(featuresCol="features", labelCol="y_bin", maxIter=20)], True, False),
        "glm_poisson": lambda: ([r.GeneralizedLinearRegression(featuresCol="features", labelCol="y_pos",
                                                               family="poisson", link="log")], True, False),
        "glm_gamma_inverse": lambda: ([r.GeneralizedLinearRegression(
            featuresCol="features", labelCol="y_pos", family="gamma", link="inverse")], True, True),
        "glm_binomial": lambda: ([r.GeneralizedLinearRegression(featuresCol="features", labelCol="y_bin",
                                                                family="binomial", link="logit")], True, False),
        "kmeans": lambda: ([k.KMeans(featuresCol="features", k=4, seed=3)], True, False),
    }


def estimator_names() -> tuple[str, ...]:
    return ("logreg_binary", "logreg_multi", "linreg", "tree_clf", "tree_reg", "forest_clf", "forest_reg",
            "gbt_clf", "gbt_reg", "naive_bayes", "mlp", "linear_svc", "glm_poisson", "glm_gamma_inverse",
            "glm_binomial", "kmeans")


def fit_pmml(spark, name: str, train: pd.DataFrame) -> bytes:
    """Fit one named pipeline on `train` and export it as PMML bytes."""
    from pyspark.ml import Pipeline
    from pyspark2pmml import PMMLBuilder

    stages, one_hot, nonneg = _estimators()[name]()
    features, _ = _features(one_hot=one_hot, nonneg=nonneg)
    target = {"y", "y_pos", "y_bin", "y_multi"}
    label_cols = [s.getOrDefault("labelCol") for s in stages if s.hasParam("labelCol")]
    raw_label = [s.getInputCol() for s in stages if s.hasParam("inputCol") and s.isSet("inputCol")]
    keep = list(INPUTS) + sorted(target & set(label_cols + raw_label))
    df = spark.createDataFrame(train[keep])
    model = Pipeline(stages=features + stages).fit(df)
    return bytes(PMMLBuilder(df, model).buildByteArray())
