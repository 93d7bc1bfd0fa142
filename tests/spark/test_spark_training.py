"""train() and convert() end to end: real Spark, real repository, real evaluator."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pmmlkit import Evaluator
from pmmlkit.cli import main
from pmmlkit.errors import ConfigError, TrainingError
from pmmlkit.spark.export import jpmml_sparkml_version
from pmmlkit.spark.session import jpmml_jars
from pmmlkit.spark.training import convert, fit, train

SMALL_GBT = {"type": "gbt_classifier", "params": {"maxIter": 3, "maxDepth": 2, "seed": 1}}


def test_train_publishes_pmml_with_a_full_manifest(spark, repo, ctr, ctr_spec):
    version = train({**ctr_spec, "estimator": SMALL_GBT}, repo=repo, spark=spark)
    assert (version.name, version.number) == ("ctr", 1)
    m = version.manifest
    assert m.spark_version == spark.version
    assert m.jpmml_sparkml_version and m.jpmml_sparkml_version == jpmml_sparkml_version()
    # JPMML keeps only the columns the fitted trees use, in the spec's order.
    inputs = [f["name"] for f in m.input_schema]
    assert inputs and inputs == [c for c in ctr.NUMERIC + ctr.CATEGORICAL if c in inputs]
    assert {f["name"] for f in m.output_schema} >= {"predicted_clicked", "probability(0)", "probability(1)"}
    assert all(f["opType"] == "continuous" for f in m.input_schema if f["name"] in ctr.NUMERIC)
    assert set(m.metrics) == {"auc", "accuracy"} and 0 <= m.metrics["accuracy"] <= 1
    assert (m.data_source, m.row_count) == (ctr_spec["data"], 400)
    assert m.spec["estimator"] == SMALL_GBT
    assert len(m.sha256) == 64 and m.size > 1000

    again = train({**ctr_spec, "estimator": SMALL_GBT}, repo=repo, spark=spark)
    assert again.number == 2
    ev = Evaluator.load("ctr:2", repo=repo.root, backend="pypmml")
    out = ev.predict({"hour": 20, "age": None, "bid_price": 1.2, "ctr_history": 0.3, "position": 1,
                      "device": "ios", "site_category": "games", "ad_category": "gaming", "country": "US"})
    assert out["predicted_clicked"] in (0, 1)
    assert out["probability(0)"] + out["probability(1)"] == pytest.approx(1, abs=1e-12)


def test_the_example_spec_learns_something(spark, repo, ctr, tmp_path):
    """examples/ctr_spec.yaml on 3000 generated rows beats chance clearly."""
    data = tmp_path / "ctr.csv"
    ctr.generate(3000, seed=42).to_csv(data, index=False)
    spec = Path(__file__).resolve().parents[2] / "examples" / "ctr_spec.yaml"
    version = train(spec, repo=repo, spark=spark, overrides={"data": str(data), "params": {"maxIter": 10}})
    assert version.ref == "ctr:1"
    assert version.manifest.metrics["auc"] > 0.65, version.manifest.metrics


def test_a_module_function_pipeline(spark, repo, ctr_spec, tmp_path, monkeypatch):
    (tmp_path / "my_pipelines.py").write_text(
        "from pyspark.ml import Pipeline\n"
        "from pyspark.ml.classification import DecisionTreeClassifier\n"
        "from pyspark.ml.feature import Imputer, VectorAssembler\n"
        "def make(spec):\n"
        "    cols = ['age', 'bid_price', 'ctr_history']\n"
        "    imputed = [c + '_i' for c in cols]\n"
        "    return Pipeline(stages=[Imputer(inputCols=cols, outputCols=imputed),\n"
        "                            VectorAssembler(inputCols=imputed, outputCol='f'),\n"
        "                            DecisionTreeClassifier(featuresCol='f', labelCol=spec.label, maxDepth=3)])\n"
        "def not_a_pipeline():\n"
        "    return 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = {k: v for k, v in ctr_spec.items() if k not in ("numeric", "categorical")}
    version = train({**spec, "name": "custom", "pipeline": "my_pipelines:make"}, repo=repo, spark=spark)
    assert {f["name"] for f in version.manifest.input_schema} <= {"age", "bid_price", "ctr_history"}
    assert set(version.manifest.metrics) == {"auc", "accuracy"}
    with pytest.raises(ConfigError, match="returned int, expected an unfitted pyspark.ml.Pipeline"):
        train({**spec, "name": "custom", "pipeline": "my_pipelines:not_a_pipeline"}, repo=repo, spark=spark)
    with pytest.raises(ConfigError, match="has no function 'nope'"):
        train({**spec, "name": "custom", "pipeline": "my_pipelines:nope"}, repo=repo, spark=spark)
    sys.modules.pop("my_pipelines", None)


def test_data_problems_are_config_errors(spark, repo, ctr_spec, tmp_path):
    with pytest.raises(ConfigError, match=r"column\(s\) 'nope' named in the spec are not in the data"):
        train({**ctr_spec, "numeric": ["nope"], "estimator": SMALL_GBT}, repo=repo, spark=spark)
    with pytest.raises(ConfigError, match="cannot read it as csv"):
        train({**ctr_spec, "data": str(tmp_path / "absent.csv"), "estimator": SMALL_GBT}, repo=repo, spark=spark)
    with pytest.raises(ConfigError, match=r"estimator.params.depth: gbt_classifier \(GBTClassifier\) has no "
                                          r"parameter 'depth'; valid: .*maxDepth"):
        train({**ctr_spec, "estimator": {"type": "gbt_classifier", "params": {"depth": 3}}},
              repo=repo, spark=spark)
    assert repo.models() == []


def test_parquet_data(spark, repo, ctr, tmp_path):
    df = ctr.generate(300, seed=4)
    df.to_parquet(tmp_path / "ctr.parquet")  # keeps "" categories as "", not null
    version = train({"name": "pq", "data": str(tmp_path / "ctr.parquet"), "label": "clicked",
                     "numeric": ["age", "ctr_history"], "categorical": ["device", "country"],
                     "estimator": {"type": "logistic_regression", "params": {"maxIter": 10}}},
                    repo=repo, spark=spark)
    assert version.manifest.row_count == 300
    ev = Evaluator.load("pq", repo=repo.root, backend="pypmml")
    record = {"age": 30.0, "ctr_history": 0.05, "country": "US"}
    empty, missing = ev.predict({**record, "device": ""}), ev.predict({**record, "device": None})
    assert empty == missing  # both are the "__missing__" category the model learned
    assert empty != ev.predict({**record, "device": "web"})


def test_a_string_label_is_indexed_and_mapped_back(spark, ctr, tmp_path):
    df = ctr.generate(300, seed=3)
    df["clicked"] = df["clicked"].map({0: "no", 1: "yes"})
    df.to_csv(tmp_path / "s.csv", index=False)
    from pmmlkit.spark import spec as specs

    spec = specs.from_dict({"name": "s", "data": str(tmp_path / "s.csv"), "label": "clicked",
                            "numeric": ["age", "ctr_history"], "categorical": ["device"],
                            "estimator": {"type": "logistic_regression", "params": {"maxIter": 10}},
                            "verify_rows": 3})
    fitted = fit(spec, spark=spark)
    ev = Evaluator.from_bytes(fitted.pmml, backend="pypmml")
    assert set(ev.target_fields[0].values) == {"no", "yes"}
    scored = fitted.model.transform(fitted.holdout).toPandas()
    labels = fitted.model.stages[0].labels  # the label indexer: index -> string
    out = ev.predict_batch(scored[list(spec.features)])
    assert out["predicted_clicked"].tolist() == [labels[int(i)] for i in scored["prediction"]]


@pytest.fixture(scope="module")
def saved_pipeline(spark, ctr_csv, tmp_path_factory):
    """A PipelineModel saved by plain Spark code, plus its holdout as pandas."""
    from pmmlkit.spark import spec as specs

    spec = specs.from_dict({"name": "saved", "data": ctr_csv, "label": "clicked", "numeric": ["age", "bid_price"],
                            "categorical": ["country"],
                            "estimator": {"type": "random_forest_classifier",
                                          "params": {"numTrees": 3, "maxDepth": 3, "seed": 2}}})
    fitted = fit(spec, spark=spark)
    path = tmp_path_factory.mktemp("saved") / "pipeline"
    fitted.model.write().save(str(path))
    return path, fitted


@pytest.mark.parametrize("how", ["struct_json", "mapping_json", "sample_csv"])
def test_convert_a_saved_pipeline_model(spark, repo, saved_pipeline, tmp_path, how):
    path, fitted = saved_pipeline
    kwargs = {}
    if how == "struct_json":
        (tmp_path / "schema.json").write_text(fitted.data.schema.json())
        kwargs["schema"] = tmp_path / "schema.json"
    elif how == "mapping_json":
        (tmp_path / "schema.json").write_text(json.dumps({"clicked": "int", "age": "double",
                                                          "bid_price": "double", "country": "string"}))
        kwargs["schema"] = tmp_path / "schema.json"
    else:
        fitted.holdout.toPandas().to_csv(tmp_path / "sample.csv", index=False)
        kwargs["sample"] = tmp_path / "sample.csv"
    version = convert(path, name="converted", repo=repo, spark=spark, **kwargs)
    assert version.ref == "converted:1"
    assert [f["name"] for f in version.manifest.input_schema] == ["age", "bid_price", "country"]
    ev = Evaluator.load("converted", repo=repo.root, backend="pypmml")
    assert (ev.schema.verification is not None) == (how == "sample_csv")
    scored = fitted.model.transform(fitted.holdout).toPandas()
    out = ev.predict_batch(scored[["age", "bid_price", "country"]])
    assert out["predicted_clicked"].astype(float).tolist() == scored["prediction"].tolist()
    np.testing.assert_allclose(out["probability(1)"].to_numpy(float),
                               [p[1] for p in scored["probability"]], rtol=1e-9, atol=1e-9)


def test_convert_refuses_bad_inputs(spark, repo, saved_pipeline, tmp_path):
    path, _ = saved_pipeline
    with pytest.raises(ConfigError, match="exactly one of --schema"):
        convert(path, name="x", repo=repo, spark=spark)
    (tmp_path / "s.json").write_text(json.dumps({"age": "decimalish"}))
    with pytest.raises(ConfigError, match="column 'age': unknown Spark type 'decimalish'"):
        convert(path, name="x", schema=tmp_path / "s.json", repo=repo, spark=spark)
    (tmp_path / "s.json").write_text(json.dumps({"age": "double"}))  # columns missing
    with pytest.raises(TrainingError, match="PMML export"):
        convert(path, name="x", schema=tmp_path / "s.json", repo=repo, spark=spark)
    with pytest.raises(TrainingError, match="loading the PipelineModel"):
        convert(tmp_path, name="x", schema=tmp_path / "s.json", repo=repo, spark=spark)


def test_cli_train_and_convert(spark, ctr_spec, saved_pipeline, tmp_path):
    root = str(tmp_path / "models")
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps({**ctr_spec, "estimator": SMALL_GBT}))
    runner = CliRunner()
    result = runner.invoke(main, ["train", str(spec_path), "--repo", root, "--name", "ctr_cli",
                                  "--param", "maxIter=2", "--param", "stepSize=0.2"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("published ctr_cli:1\n")
    assert "  auc = " in result.output and "  accuracy = " in result.output
    shown = json.loads(runner.invoke(main, ["models", "show", "-m", "ctr_cli", "--repo", root]).output)
    assert shown["spec"]["estimator"]["params"] == {"maxIter": 2, "maxDepth": 2, "seed": 1, "stepSize": 0.2}

    bad = runner.invoke(main, ["train", str(spec_path), "--repo", root, "--estimator", "nope"])
    assert bad.exit_code == 1 and "unknown estimator 'nope'; supported:" in bad.output
    assert "Traceback" not in bad.output

    path, fitted = saved_pipeline
    fitted.holdout.toPandas().to_csv(tmp_path / "sample.csv", index=False)
    result = runner.invoke(main, ["convert", str(path), "--sample", str(tmp_path / "sample.csv"),
                                  "--name", "saved", "--repo", root])
    assert result.exit_code == 0, result.output
    assert result.output == "published saved:1\n"


def test_spark_submit_entry_point(spark, ctr_spec, tmp_path, capsys):
    import importlib.util

    job = Path(__file__).resolve().parents[2] / "spark_jobs" / "train_job.py"
    module_spec = importlib.util.spec_from_file_location("train_job", job)
    train_job = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(train_job)
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps({**ctr_spec, "estimator": SMALL_GBT}))
    assert train_job.main([str(spec_path), "--repo", str(tmp_path / "m"), "--name", "job"]) == 0
    assert capsys.readouterr().out.startswith("published job:1\n")
    assert train_job.main([str(tmp_path / "missing.yaml"), "--repo", str(tmp_path / "m")]) == 1


def test_session_excludes_xgboost_and_lightgbm_jars(spark):
    jars = spark.sparkContext.getConf().get("spark.jars").split(",")
    assert jars == jpmml_jars() and any("pmml-sparkml-" in j for j in jars)
    assert not [j for j in jars if "xgboost" in j.lower() or "lightgbm" in j.lower()]
    assert spark.sparkContext.getConf().get("spark.ui.enabled") == "false"


def test_jpmml_numeric_expected_names_the_column(spark, repo, ctr_csv, tmp_path):
    """JPMML says "Expected numeric data type, got string" and no more: the error names the column."""
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    from pmmlkit.spark import spec as specs
    from pmmlkit.spark.export import to_pmml

    spec = specs.from_dict({"name": "r", "data": ctr_csv, "label": "clicked", "numeric": ["age"],
                            "estimator": {"type": "decision_tree_regressor", "params": {"maxDepth": 2}}})
    fitted = fit(spec, spark=spark)
    schema = StructType([StructField("clicked", StringType()), StructField("age", DoubleType())])
    with pytest.raises(TrainingError) as caught:
        to_pmml(fitted.model, schema)
    assert str(caught.value) == (
        "PMML export (JPMML-SparkML) failed: column(s) 'clicked' (read by DecisionTreeRegressionModel) have type "
        "string but the pipeline uses them as numbers; give them a numeric type (double) in the data or in "
        "--schema, or encode them as categories (JPMML: Expected numeric data type, got string)")
