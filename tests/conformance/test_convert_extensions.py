"""`pmmlkit convert` on a saved pipeline with JPMML-SparkML's own stages (issue 12.4).

A saved stage is named by its Java class. Before the fix, PipelineModel.load failed on
org.jpmml.sparkml.feature.* with ``ModuleNotFoundError: No module named 'org'`` unless
the user had happened to import pyspark2pmml's wrappers first. The test forgets those
modules, as a fresh `pmmlkit convert` process has never seen them.
"""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pmmlkit import Evaluator
from pmmlkit.cli import main

from .harness import same


@pytest.fixture(scope="module")
def saved_with_extensions(spark, tmp_path_factory):
    """CategoricalDomain + ContinuousDomain + VectorDensifier in a fitted, saved pipeline."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import OneHotEncoder, StringIndexer, VectorAssembler
    from pyspark2pmml.ml.feature import CategoricalDomain, ContinuousDomain, VectorDensifier

    rng = np.random.default_rng(12)
    n = 200
    x = rng.normal(0, 1, n)
    color = rng.choice(["red", "green", "blue"], n)
    label = ((x + (color == "red") * 1.5 + rng.normal(0, 0.5, n)) > 0.5).astype(float)
    df = spark.createDataFrame(pd.DataFrame({"x": x, "color": color, "label": label}))
    pipeline = Pipeline(stages=[
        CategoricalDomain(inputCols=["color"], outputCols=["color_d"]),
        ContinuousDomain(inputCols=["x"], outputCols=["x_d"], missingValueTreatment="asValue",
                         missingValueReplacement=0.0),
        StringIndexer(inputCol="color_d", outputCol="color_i"),
        OneHotEncoder(inputCol="color_i", outputCol="color_v"),
        VectorAssembler(inputCols=["x_d", "color_v"], outputCol="sparse"),
        VectorDensifier(inputCol="sparse", outputCol="features"),
        LogisticRegression(featuresCol="features", labelCol="label", maxIter=20),
    ])
    model = pipeline.fit(df)
    path = tmp_path_factory.mktemp("extensions") / "pipeline"
    model.write().save(str(path))
    schema = tmp_path_factory.mktemp("extensions_schema") / "schema.json"
    schema.write_text(df.schema.json())
    return path, schema, model, df


def _forget_jpmml_wrappers(monkeypatch):
    """As in a fresh process: no org.jpmml.* module and no pyspark2pmml.ml wrappers imported."""
    for name in [m for m in sys.modules if m == "org" or m.startswith("org.") or m.startswith("pyspark2pmml.ml")]:
        monkeypatch.delitem(sys.modules, name)


def test_convert_a_pipeline_with_jpmml_sparkml_stages(spark, saved_with_extensions, tmp_path, monkeypatch):
    path, schema, model, df = saved_with_extensions
    _forget_jpmml_wrappers(monkeypatch)
    root = str(tmp_path / "models")
    result = CliRunner().invoke(main, ["convert", str(path), "--schema", str(schema), "--name", "ext",
                                       "--repo", root])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert result.output == "published ext:1\n"

    scored = model.transform(df).toPandas()
    for backend in ("auto", "jpmml"):
        out = Evaluator.load("ext", repo=root, backend=backend).predict_batch(scored[["x", "color"]])
        assert out["predicted_label"].astype(float).tolist() == scored["prediction"].tolist(), backend
        spark_p1 = [p[1] for p in scored["probability"]]
        bad = [i for i, (a, b) in enumerate(zip(out["probability(1)"], spark_p1)) if not same(a, b, "double")]
        assert not bad, f"{backend}: rows {bad[:5]} differ from Spark's probability"


def test_a_stage_without_a_python_wrapper_is_named(spark, saved_with_extensions, tmp_path):
    """A stage class no installed package wraps: a TrainingError naming the module, not a traceback."""
    import json
    import shutil

    path, schema, _, _ = saved_with_extensions
    broken = tmp_path / "broken"
    shutil.copytree(path, broken)
    folder = next((broken / "stages").glob("5_*")) / "metadata"
    meta = next(p for p in folder.glob("part-*") if p.stat().st_size)
    for crc in folder.glob(".*.crc"):
        crc.unlink()  # Hadoop would refuse the edited file against its old checksum
    record = json.loads(meta.read_text())
    record["class"] = "com.example.sparkml.NoSuchStage"
    meta.write_text(json.dumps(record) + "\n")
    result = CliRunner().invoke(main, ["convert", str(broken), "--schema", str(schema), "--name", "x",
                                       "--repo", str(tmp_path / "models")])
    assert result.exit_code == 1
    assert "a stage's Python class cannot be imported (" in result.output, result.output
    assert "NoSuchStage" in result.output or "'com'" in result.output, result.output
    assert "Traceback" not in result.output


def test_a_java_error_without_a_message_is_still_reported():
    """JPMML-SparkML throws IllegalArgumentException() with no message (e.g. an Imputer over a
    SQLTransformer column); the error text used to be indexed blindly and raised IndexError."""
    from pyspark.errors import PySparkException

    from pmmlkit.errors import TrainingError
    from pmmlkit.spark.export import java_failure

    silent = PySparkException(message="")
    err = java_failure(silent, "PMML export (JPMML-SparkML)")
    assert isinstance(err, TrainingError)
    hint = " (pmmlkit --verbose shows the full trace)"
    assert str(err) == ("PMML export (JPMML-SparkML) failed: PySparkException: "
                        "(no message; see the Spark driver log)" + hint)
    try:
        raise silent from ValueError("the cause says why")
    except PySparkException as chained:
        assert str(java_failure(chained, "export")).endswith("PySparkException: the cause says why" + hint)
