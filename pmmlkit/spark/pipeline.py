"""Training spec -> unfitted Spark ML Pipeline, through a registry of estimators.

The registry is plain data so that spec validation can list the supported names
without importing pyspark; the classes are imported when a pipeline is built.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from pyspark.ml import Pipeline
    from pyspark.ml.pipeline import PipelineStage
    from pyspark.sql import DataFrame

    from .spec import TrainingSpec

FEATURES = "features"
# Spark's StringIndexer(handleInvalid="keep") puts nulls in the unseen-category bucket,
# but the exported PMML treats a missing value as missing (a tree then returns no
# prediction). Mapping null and "" to this category inside the pipeline (so the PMML
# carries the same rule) makes both sides agree, and lets models learn from missingness.
MISSING_CATEGORY = "__missing__"
CLASSIFICATION, REGRESSION, CLUSTERING = "classification", "regression", "clustering"


@dataclass(frozen=True)
class EstimatorKind:
    """How to build one estimator: its class, its task, and how it wants categories encoded."""

    cls: str
    task: str
    one_hot: bool  # linear, neural and count-based models need one column per category
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def load_class(self) -> type:
        module, _, name = self.cls.rpartition(".")
        cls: type = getattr(importlib.import_module(module), name)
        return cls


_C, _R = "pyspark.ml.classification", "pyspark.ml.regression"
ESTIMATORS: dict[str, EstimatorKind] = {
    "logistic_regression": EstimatorKind(f"{_C}.LogisticRegression", CLASSIFICATION, True),
    "decision_tree_classifier": EstimatorKind(f"{_C}.DecisionTreeClassifier", CLASSIFICATION, False),
    "random_forest_classifier": EstimatorKind(f"{_C}.RandomForestClassifier", CLASSIFICATION, False),
    "gbt_classifier": EstimatorKind(f"{_C}.GBTClassifier", CLASSIFICATION, False),
    # Multinomial naive Bayes counts features: one-hot keeps them non-negative.
    "naive_bayes": EstimatorKind(f"{_C}.NaiveBayes", CLASSIFICATION, True),
    "multilayer_perceptron": EstimatorKind(f"{_C}.MultilayerPerceptronClassifier", CLASSIFICATION, True),
    "linear_svc": EstimatorKind(f"{_C}.LinearSVC", CLASSIFICATION, True),
    "linear_regression": EstimatorKind(f"{_R}.LinearRegression", REGRESSION, True),
    "decision_tree_regressor": EstimatorKind(f"{_R}.DecisionTreeRegressor", REGRESSION, False),
    "random_forest_regressor": EstimatorKind(f"{_R}.RandomForestRegressor", REGRESSION, False),
    "gbt_regressor": EstimatorKind(f"{_R}.GBTRegressor", REGRESSION, False),
    "generalized_linear_regression": EstimatorKind(f"{_R}.GeneralizedLinearRegression", REGRESSION, True),
    "kmeans": EstimatorKind("pyspark.ml.clustering.KMeans", CLUSTERING, True, {"k": 2}),
}


def estimator_kind(name: str) -> EstimatorKind:
    try:
        return ESTIMATORS[name]
    except KeyError:
        raise ConfigError(f"unknown estimator {name!r}; supported: {', '.join(sorted(ESTIMATORS))}") from None


# Parameters pmmlkit reads itself, before the Spark estimator sees the rest.
_OWN_PARAMS = {"multilayer_perceptron": {"hidden_layers"}}


def check_params(estimator: str, params: Mapping[str, Any]) -> None:
    """Refuse an unknown parameter name or a value of the wrong type without starting Spark.

    PySpark declares its Params on the class, each with a type converter: both can be
    checked before a session exists. Ranges (maxDepth >= 0...) are Spark's to check.
    """
    from pyspark.ml.param import Param

    kind = estimator_kind(estimator)
    cls = kind.load_class()
    declared = {n: p for n in dir(cls) if isinstance(p := getattr(cls, n, None), Param)}
    for name, value in params.items():
        if name in _OWN_PARAMS.get(estimator, ()):
            continue
        if name not in declared:
            raise ConfigError(f"estimator.params.{name}: {estimator} ({cls.__name__}) has no parameter {name!r}; "
                              f"valid: {', '.join(sorted(declared))}")
        try:
            declared[name].typeConverter(value)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"estimator.params.{name}={value!r}: not a valid value for {estimator} "
                              f"({declared[name].doc}): {e}") from None


def indexed_label(spec: TrainingSpec) -> str:
    """Column the estimator reads its label from when a string label is indexed."""
    return f"{spec.label}__idx"


def feature_stages(spec: TrainingSpec, *, one_hot: bool) -> list[PipelineStage]:
    """Imputer for numeric columns, StringIndexer (+ OneHotEncoder) for categories, VectorAssembler."""
    from pyspark.ml.feature import Imputer, OneHotEncoder, SQLTransformer, StringIndexer, VectorAssembler

    stages: list[PipelineStage] = []
    assembled: list[str] = []
    if spec.numeric:
        imputed = [f"{c}__imp" for c in spec.numeric]
        stages.append(Imputer(inputCols=list(spec.numeric), outputCols=imputed, strategy=spec.imputer))
        assembled += imputed
    if spec.categorical:
        filled = [f"{c}__cat" for c in spec.categorical]
        # Nested IFs, not OR: PMML evaluates both sides of an "or", and "equal" refuses a missing value.
        fill = ", ".join(f"IF(`{c}` IS NULL, '{MISSING_CATEGORY}', IF(`{c}` = '', '{MISSING_CATEGORY}', `{c}`))"
                         f" AS `{f}`" for c, f in zip(spec.categorical, filled))
        stages.append(SQLTransformer(statement=f"SELECT *, {fill} FROM __THIS__"))
        indexed = [f"{c}__idx" for c in spec.categorical]
        # "keep": categories unseen in training get their own index instead of failing the row.
        stages.append(StringIndexer(inputCols=filled, outputCols=indexed, handleInvalid="keep"))
        if one_hot:
            encoded = [f"{c}__ohe" for c in spec.categorical]
            stages.append(OneHotEncoder(inputCols=indexed, outputCols=encoded))
            assembled += encoded
        else:
            assembled += indexed
    stages.append(VectorAssembler(inputCols=assembled, outputCol=FEATURES))
    return stages


def _feature_size(stages: list[PipelineStage], df: DataFrame) -> int:
    """Length of the assembled feature vector: the MLP's input layer."""
    from pyspark.ml import Pipeline

    model = Pipeline(stages=stages).fit(df)
    row = model.transform(df.limit(1)).select(FEATURES).first()
    if row is None:
        raise ConfigError("cannot size the multilayer_perceptron input layer: the training data is empty")
    return int(row[0].size)


def _class_count(df: DataFrame, label: str) -> int:
    """Output layer size: distinct strings for an indexed label, else the largest class id + 1."""
    from pyspark.sql import functions as F

    if dict(df.dtypes)[label] == "string":
        return df.select(label).distinct().count()
    row = df.agg(F.max(F.col(label))).first()
    top = row[0] if row is not None else None
    if top is None:
        raise ConfigError(f"label column {label!r} has no values")
    return int(top) + 1


def _mlp_layers(params: dict[str, Any], stages: list[PipelineStage], df: DataFrame, label: str) -> dict[str, Any]:
    """`layers` given as is, or derived from `hidden_layers` (default [8]) and the data."""
    if "layers" in params:
        params.pop("hidden_layers", None)
        return params
    hidden = params.pop("hidden_layers", [8])
    if isinstance(hidden, int):
        hidden = [hidden]
    if not isinstance(hidden, list) or not all(isinstance(h, int) and h > 0 for h in hidden):
        raise ConfigError(f"estimator.params.hidden_layers: expected a list of positive integers, got {hidden!r}")
    params["layers"] = [_feature_size(stages, df), *hidden, _class_count(df, label)]
    return params


# JPMML-SparkML needs GLR's link set explicitly; these are Spark's own defaults per family.
_GLR_LINKS = {"gaussian": "identity", "binomial": "logit", "poisson": "log", "gamma": "inverse"}


def _glr_params(params: dict[str, Any]) -> dict[str, Any]:
    family = str(params.get("family", "gaussian")).lower()
    if "link" not in params and family in _GLR_LINKS:
        params["link"] = _GLR_LINKS[family]
    return params


def make_estimator(kind: EstimatorKind, params: Mapping[str, Any], *, label: str | None) -> PipelineStage:
    """Instantiate the estimator; an unknown parameter is a ConfigError listing the valid ones."""
    cls = kind.load_class()
    try:
        est = cls(**{**kind.defaults, **params})
    except (TypeError, ValueError) as e:
        valid = sorted(p.name for p in cls().params)
        raise ConfigError(f"estimator {cls.__name__}: bad params {dict(params)!r} ({e}); "
                          f"valid params: {', '.join(valid)}") from None
    est.setFeaturesCol(FEATURES)
    if label is not None:
        est.setLabelCol(label)
    return est


def build_pipeline(spec: TrainingSpec, df: DataFrame) -> Pipeline:
    """The unfitted pipeline for a spec. `df` is the training data (label type, MLP sizes)."""
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import StringIndexer

    if spec.estimator is None:
        raise ConfigError("the spec has no 'estimator' (and no 'pipeline')")
    kind = estimator_kind(spec.estimator.type)
    stages = feature_stages(spec, one_hot=kind.one_hot)
    label: str | None = None if kind.task == CLUSTERING else spec.label
    if kind.task != CLUSTERING and spec.label is None:  # the spec check refuses this already
        raise ConfigError(f"estimator {spec.estimator.type} needs a 'label' column")
    if kind.task == CLASSIFICATION and spec.label is not None and dict(df.dtypes)[spec.label] == "string":
        # Spark classifiers need numeric labels; JPMML maps the index back to the strings.
        stages.insert(0, StringIndexer(inputCol=spec.label, outputCol=indexed_label(spec)))
        label = indexed_label(spec)
    params = dict(spec.estimator.params)
    if spec.estimator.type == "multilayer_perceptron" and spec.label is not None:
        params = _mlp_layers(params, feature_stages(spec, one_hot=True), df, spec.label)
    elif spec.estimator.type == "generalized_linear_regression":
        params = _glr_params(params)
    stages.append(make_estimator(kind, params, label=label))
    return Pipeline(stages=stages)


def task_of(spec: TrainingSpec) -> str | None:
    """classification / regression / clustering, or None for a user pipeline."""
    return estimator_kind(spec.estimator.type).task if spec.estimator is not None else None
