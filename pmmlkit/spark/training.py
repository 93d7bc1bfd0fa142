"""Train a spec on Spark, measure it on a holdout, export PMML and publish it.

pyspark is imported inside functions: the CLI imports this module for every command.
"""
from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, TrainingError
from ..formats import data_format
from . import spec as specs
from .pipeline import CLASSIFICATION, CLUSTERING, ESTIMATORS, REGRESSION
from .spec import TrainingSpec

if TYPE_CHECKING:
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.sql import DataFrame, SparkSession

    from ..repository.store import Repository, Version


@dataclass
class Fitted:
    """Everything a training run produced before publishing."""

    spec: TrainingSpec
    model: PipelineModel
    data: DataFrame          # the prepared input: label + feature columns
    train: DataFrame
    holdout: DataFrame
    pmml: bytes
    row_count: int
    metrics: dict[str, float] = field(default_factory=dict)


# --- Spark session and data -------------------------------------------------

def read_data(spark: SparkSession, path: str, *, fmt: str) -> DataFrame:
    """CSV (header, inferred types, empty field = missing) or Parquet."""
    from .export import spark_errors

    try:
        if fmt == "csv":
            return spark.read.csv(path, header=True, inferSchema=True)
        return spark.read.parquet(path)
    except spark_errors() as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"data {path!r}: cannot read it as {fmt} ({first})") from None


def prepare(spec: TrainingSpec, df: DataFrame) -> DataFrame:
    """Keep the label and feature columns, typed: numeric -> double, categorical -> string."""
    from pyspark.sql import functions as F

    from .datacheck import check_data

    needed = [c for c in (spec.label, *spec.features) if c is not None]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ConfigError(f"data {spec.data!r}: column(s) {', '.join(map(repr, missing))} named in the spec "
                          f"are not in the data; its columns are: {', '.join(df.columns)}")
    if spec.pipeline is not None:
        return df  # a user pipeline picks its own columns
    task = ESTIMATORS[spec.estimator.type].task if spec.estimator is not None else None
    check_data(spec, df, task=task)  # before the casts below, which fail on text in Spark's own words
    cols = [F.col(c).cast("double").alias(c) for c in spec.numeric]
    cols += [F.col(c).cast("string").alias(c) for c in spec.categorical]
    if spec.label is None:  # clustering without a label
        return df.select(*cols)
    label = F.col(spec.label).cast("double") if task == REGRESSION else F.col(spec.label)
    df = df.select(label.alias(spec.label), *cols)
    if task == CLUSTERING:
        return df
    # Spark refuses to fit on a missing label; such rows teach nothing, so they are left out.
    unlabelled = F.col(spec.label).isNull()
    if task == REGRESSION:
        unlabelled = unlabelled | F.isnan(F.col(spec.label))
    return df.filter(~unlabelled)


# --- Pipelines ----------------------------------------------------------------

def user_pipeline(ref: str, spec: TrainingSpec) -> Pipeline:
    """Call `module:function` (with the spec if it takes an argument); it must return a Pipeline."""
    from pyspark.ml import Pipeline

    module_name, _, func_name = ref.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # a console script does not put the cwd on sys.path
    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except ImportError as e:
        raise ConfigError(f"spec key 'pipeline': cannot import module {module_name!r} ({e})") from None
    except AttributeError:
        raise ConfigError(f"spec key 'pipeline': module {module_name!r} has no function {func_name!r}") from None
    pipeline = func(spec) if inspect.signature(func).parameters else func()
    if not isinstance(pipeline, Pipeline):
        raise ConfigError(f"spec key 'pipeline': {ref} returned {type(pipeline).__name__}, "
                          "expected an unfitted pyspark.ml.Pipeline")
    return pipeline


def task_of(model: PipelineModel) -> str | None:
    """What the last stage does: classification, regression, clustering (or None)."""
    from pyspark.ml.classification import ClassificationModel
    from pyspark.ml.clustering import KMeansModel
    from pyspark.ml.regression import GeneralizedLinearRegressionModel, RegressionModel

    last = model.stages[-1] if model.stages else None
    if isinstance(last, ClassificationModel):
        return CLASSIFICATION
    if isinstance(last, (RegressionModel, GeneralizedLinearRegressionModel)):
        return REGRESSION
    if isinstance(last, KMeansModel):
        return CLUSTERING
    return None


def holdout_metrics(model: PipelineModel, holdout: DataFrame) -> dict[str, float]:
    """AUC (binary) and accuracy; RMSE and R²; or silhouette, on the holdout rows."""
    from pyspark.ml import evaluation as ev

    task = task_of(model)
    if task is None or holdout.isEmpty():
        return {}
    last: Any = model.stages[-1]  # the fitted estimator: its getters depend on its type
    scored = model.transform(holdout)
    if task == CLUSTERING:
        ce = ev.ClusteringEvaluator(featuresCol=last.getFeaturesCol(), predictionCol=last.getPredictionCol())
        return {"silhouette": ce.evaluate(scored)}
    label, prediction = last.getLabelCol(), last.getPredictionCol()
    if task == REGRESSION:
        re_ = ev.RegressionEvaluator(labelCol=label, predictionCol=prediction)
        return {m: re_.evaluate(scored, {re_.metricName: m}) for m in ("rmse", "r2")}
    metrics = {"accuracy": ev.MulticlassClassificationEvaluator(
        labelCol=label, predictionCol=prediction, metricName="accuracy").evaluate(scored)}
    if last.numClasses == 2:
        metrics["auc"] = ev.BinaryClassificationEvaluator(
            labelCol=label, rawPredictionCol=last.getRawPredictionCol()).evaluate(scored)
    return metrics


# --- Training -------------------------------------------------------------------

def fit(spec: TrainingSpec, *, spark: SparkSession) -> Fitted:
    """Read, split, fit, measure and export; nothing is published."""
    from .export import spark_failures, to_pmml
    from .pipeline import build_pipeline

    with spark_failures(f"training {spec.name!r}"):  # bad data fails in several ways
        data = prepare(spec, read_data(spark, spec.data, fmt=spec.format)).cache()
        row_count = data.count()
        if row_count == 0:
            raise ConfigError(f"data {spec.data!r} has no rows")
        v = spec.validation
        train_df, holdout = data.randomSplit([1 - v.fraction, v.fraction], seed=v.seed)
        pipeline = user_pipeline(spec.pipeline, spec) if spec.pipeline else build_pipeline(spec, train_df)
        model = pipeline.fit(train_df)
        metrics = holdout_metrics(model, holdout)
    sample = holdout.limit(spec.verify_rows) if spec.verify_rows else None
    pmml = to_pmml(model, train_df, verify=sample)
    return Fitted(spec, model, data, train_df, holdout, pmml, row_count, metrics)


def build_manifest(pmml: bytes, *, spark_version: str, metrics: Mapping[str, float], data_source: str,
                   row_count: int, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest fields the training side knows; the repository adds hashes and times."""
    from ..evaluator.names import result_schema
    from ..pmml.loader import parse
    from .export import jpmml_sparkml_version

    schema = parse(pmml, source="exported PMML").schema
    return {
        "spark_version": spark_version,
        "jpmml_sparkml_version": jpmml_sparkml_version(pmml),
        "input_schema": [f.as_dict() for f in schema.inputs],
        "output_schema": result_schema(schema),  # published names: predicted_<target>, outputs
        "metrics": {k: float(v) for k, v in metrics.items()},
        "data_source": data_source,
        "row_count": int(row_count),
        "spec": dict(spec),
    }


def train(spec_or_path: TrainingSpec | Mapping[str, Any] | str | os.PathLike, *,
          repo: Repository | str | None = None, master: str | None = None,
          overrides: Mapping[str, Any] | None = None, spark: SparkSession | None = None,
          description: str | None = None, tags: Mapping[str, str] | None = None) -> Version:
    """Train a spec (object, mapping or YAML/JSON path) and publish its PMML; returns the Version.

    Everything that can be checked without Spark is checked first: the spec, the estimator's
    parameter names and types, the repository, the master's address.
    """
    from ..repository.store import open_repository
    from .pipeline import check_params
    from .progress import spark_progress
    from .provenance import run_info
    from .session import require_jpmml, spark_session

    spec = specs.with_overrides(_spec_of(spec_or_path), overrides)
    if spec.estimator is not None:
        check_params(spec.estimator.type, spec.estimator.params)
    repository = open_repository(repo)  # fail on a bad repository before spending time on Spark
    spec_dir = None if isinstance(spec_or_path, (TrainingSpec, Mapping)) else os.path.dirname(
        os.path.abspath(spec_or_path))
    run = run_info(spec_dir=spec_dir, description=description, tags=tags)
    with spark_session(spark, master=master) as session:
        require_jpmml(session)  # spark-submit without --jars: say so now, not after training
        with spark_progress(session, f"training {spec.name}"):
            fitted = fit(spec, spark=session)
            manifest = {**run, **_trained_manifest(fitted, session.version)}
            files = _report_files(fitted)
        return repository.publish(spec.name, fitted.pmml, manifest=manifest, files=files)


def _spec_of(spec_or_path: TrainingSpec | Mapping[str, Any] | str | os.PathLike) -> TrainingSpec:
    if isinstance(spec_or_path, TrainingSpec):
        return spec_or_path
    if isinstance(spec_or_path, Mapping):
        return specs.from_dict(spec_or_path)
    return specs.load(spec_or_path)


def _trained_manifest(fitted: Fitted, spark_version: str) -> dict[str, Any]:
    """build_manifest's keys plus an input example taken from the training data."""
    from .export import spark_failures
    from .provenance import input_example

    spec = fitted.spec
    manifest = build_manifest(fitted.pmml, spark_version=spark_version, metrics=fitted.metrics,
                              data_source=spec.data, row_count=fitted.row_count, spec=spec.to_dict())
    with spark_failures(f"reading an input example for {spec.name!r}"):
        inputs = [f["name"] for f in manifest["input_schema"]]
        manifest["input_example"] = input_example(fitted.data, inputs)
    return manifest


def _report_files(fitted: Fitted) -> dict[str, bytes]:
    from ..evaluator.explaining import BACKGROUND_FILE
    from .export import spark_failures
    from .report import version_files

    spec = fitted.spec
    with spark_failures(f"writing the training report of {spec.name!r}"):
        files = version_files(fitted.pmml, title=f"{spec.name}: training report", train=fitted.train,
                              holdout=fitted.holdout, label=spec.label, metrics=fitted.metrics,
                              rows={"all rows": fitted.row_count, "holdout": fitted.holdout.count()},
                              model=fitted.model)
    with spark_failures(f"sampling the explanation background of {spec.name!r}"):
        files[BACKGROUND_FILE] = _background(fitted.pmml, fitted.train)
    return files


def _background(pmml: bytes, data: DataFrame) -> bytes:
    """background.parquet: BACKGROUND_ROWS rows of ``data`` (seeded), the model's inputs, for explanations."""
    import io

    from pyspark.sql import functions as F

    from ..evaluator.explaining import BACKGROUND_ROWS, BACKGROUND_SEED
    from ..pmml.loader import parse

    inputs = [f for f in parse(pmml, source="exported PMML").schema.input_names if f in data.columns]
    # Spark's top-k by a seeded random key: the same rows for the same data, without a full sort.
    rows: Any = data.select(*inputs).orderBy(F.rand(BACKGROUND_SEED)).limit(BACKGROUND_ROWS).toPandas()
    buf = io.BytesIO()
    rows.to_parquet(buf, index=False)
    return buf.getvalue()


# --- Converting a saved PipelineModel -----------------------------------------------

def schema_from_file(path: str | os.PathLike) -> Any:
    """A StructType from Spark's schema JSON, or from a {column: type} JSON mapping."""
    import json

    from pyspark.sql.types import StructType, _parse_datatype_string

    try:
        with open(path, encoding="utf-8") as fh:
            d = json.load(fh)
    except (OSError, ValueError) as e:
        raise ConfigError(f"--schema {path}: cannot read a JSON schema ({e})") from None
    if isinstance(d, dict) and d.get("type") == "struct":
        try:
            return StructType.fromJson(d)
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"--schema {path}: not a valid Spark StructType JSON ({e})") from None
    if not isinstance(d, dict) or not d:
        raise ConfigError(f"--schema {path}: expected Spark StructType JSON or a {{column: type}} mapping")
    from pyspark.sql.types import StructField

    fields = []
    for col, typ in d.items():
        try:
            fields.append(StructField(col, _parse_datatype_string(str(typ)), True))
        except Exception:  # noqa: BLE001 - Spark's parser raises several types; all mean the same here
            raise ConfigError(f"--schema {path}: column {col!r}: unknown Spark type {typ!r} "
                              "(use e.g. double, int, string, boolean)") from None
    return StructType(fields)


def load_pipeline_model(path: str | os.PathLike) -> PipelineModel:
    """PipelineModel.load that also knows JPMML-SparkML's own stages (domains, densifiers...).

    A saved stage is named by its Java class; PySpark imports a Python module of that
    name to rebuild it. For org.jpmml.sparkml.feature.* that module only exists once
    pyspark2pmml's wrappers have registered it, so without this import a pipeline with
    a CategoricalDomain fails with "No module named 'org'".
    """
    import pyspark2pmml.ml.feature  # noqa: F401 - registers org.jpmml.sparkml.feature.*
    from pyspark.ml import PipelineModel

    try:
        return PipelineModel.load(str(path))
    except ImportError as e:  # a stage whose Python wrapper no installed package provides
        raise TrainingError(f"loading the PipelineModel at {path} failed: a stage's Python class cannot be "
                            f"imported ({e}); install the package that provides that stage's Python "
                            "wrapper") from None


def convert(pipeline_dir: str | os.PathLike, *, name: str, schema: str | os.PathLike | None = None,
            sample: str | os.PathLike | None = None, repo: Repository | str | None = None,
            verify_rows: int = 10, spark: SparkSession | None = None,
            master: str | None = None) -> Version:
    """Export a saved PipelineModel folder to PMML and publish it. Needs `schema` or `sample` data."""
    from ..repository.store import open_repository
    from .export import java_failure, spark_errors, spark_failures, to_pmml
    from .progress import spark_progress
    from .session import require_jpmml, spark_session

    if (schema is None) == (sample is None):
        raise ConfigError("convert needs exactly one of --schema (JSON schema) or --sample (CSV/Parquet data)")
    repository = open_repository(repo)
    with spark_session(spark, master=master) as session:
        require_jpmml(session)
        try:
            model = load_pipeline_model(pipeline_dir)
        except spark_errors(ValueError, OSError) as e:
            raise java_failure(e, f"loading the PipelineModel at {pipeline_dir}") from None
        verify, rows, source = None, 0, ""
        if sample is not None:
            df = read_data(session, str(sample), fmt=data_format(str(sample), what="--sample"))
            with spark_failures(f"reading --sample {sample}"):
                rows, source = df.count(), str(sample)
            verify, struct = (df.limit(verify_rows) if verify_rows else None), df
        else:
            assert schema is not None  # exactly one of the two, checked above
            struct = schema_from_file(schema)
        with spark_progress(session, f"converting {name}"):
            pmml = to_pmml(model, struct, verify=verify)
        manifest = build_manifest(pmml, spark_version=session.version, metrics={}, data_source=source,
                                  row_count=rows, spec={"converted_from": str(pipeline_dir)})
        files: dict[str, bytes] = {}
        if sample is not None:  # the sample is the background of explanations, as training data is
            from ..evaluator.explaining import BACKGROUND_FILE

            with spark_failures(f"sampling the explanation background of {name!r}"):
                files[BACKGROUND_FILE] = _background(pmml, df)
        return repository.publish(name, pmml, manifest=manifest, files=files)
