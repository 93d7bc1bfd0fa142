"""Issue 18 on the training side: bad data in one line, checks before Spark, progress, provenance."""
from __future__ import annotations

import io
import json
import socket
import subprocess
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from pmmlkit import Evaluator
from pmmlkit.cli import main
from pmmlkit.errors import ConfigError, DataError, TrainingError
from pmmlkit.spark import session as sessions
from pmmlkit.spark.export import spark_failures
from pmmlkit.spark.progress import StageProgress, progress_line, spark_progress
from pmmlkit.spark.training import fit, train

SMALL_GBT = {"type": "gbt_classifier", "params": {"maxIter": 2, "maxDepth": 2, "seed": 1}}


def _spec(ctr_spec, data, **changes):
    from pmmlkit.spark import spec as specs

    return specs.from_dict({**ctr_spec, "data": str(data), "estimator": SMALL_GBT, **changes})


@pytest.fixture()
def bad_age(ctr, tmp_path):
    """CTR data whose row 17 (the 18th data row) has age 'abc'."""
    df = ctr.generate(60, seed=3)
    df["age"] = df["age"].astype(object)
    df.loc[17, "age"] = "abc"
    df.loc[17, "hour"] = 7
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    return path, int(df["age"].notna().sum())


def test_text_in_a_numeric_column_is_one_line_with_row_and_value(spark, ctr_spec, bad_age):
    path, filled = bad_age
    with pytest.raises(DataError) as caught:
        fit(_spec(ctr_spec, path), spark=spark)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"data '{path}': column 'age' is listed as numeric but 1 of {filled} rows hold "
                              "values that are not numbers, e.g. 'abc' in row 17 (0 = the first data row): "
                              "{'age': 'abc', 'hour': 7.0, ")
    assert message.endswith("; fix those values or leave them empty (missing values are imputed), "
                            "or list 'age' under 'categorical'")


def test_a_text_column_listed_as_numeric_and_a_text_label_for_a_regressor(spark, ctr, ctr_spec, tmp_path):
    path = tmp_path / "ctr.csv"
    ctr.generate(40, seed=4).to_csv(path, index=False)
    numeric = [*ctr_spec["numeric"], "device"]
    categorical = [c for c in ctr_spec["categorical"] if c != "device"]
    with pytest.raises(DataError, match=r"column 'device' is listed as numeric but holds text, e\.g\. '\w+' in "
                                        r"row 0 \(0 = the first data row\): .*; list it under 'categorical' "
                                        r"instead$"):
        fit(_spec(ctr_spec, path, numeric=numeric, categorical=categorical), spark=spark)
    regressor = {"type": "gbt_regressor", "params": {"maxIter": 2}}
    with pytest.raises(DataError, match=r"the label 'country' must be a number for gbt_regressor, but 40 of 40 "
                                        r"rows hold text, e\.g\. '\w+' in row 0 .*use a classifier"):
        fit(_spec(ctr_spec, path, label="country", estimator=regressor,
                  categorical=[c for c in ctr_spec["categorical"] if c != "country"]), spark=spark)


def test_a_spark_failure_is_one_line_and_keeps_the_trace_for_verbose(spark):
    with pytest.raises(TrainingError) as caught:
        with spark_failures("training 'x'"):
            spark.sql("SELECT CAST('abc' AS DOUBLE) AS v").collect()
    message = str(caught.value)
    assert "\n" not in message and message.startswith("training 'x' failed: ")
    assert "CAST_INVALID_INPUT" in message and message.endswith("(pmmlkit --verbose shows the full trace)")
    assert caught.value.__context__ is not None  # what --verbose prints


def test_verbose_prints_the_trace_and_the_default_does_not(tmp_path, monkeypatch):
    monkeypatch.setenv(sessions.VERBOSE_ENV, "0")  # restored (unset) after the test, whatever --verbose sets
    quiet = CliRunner().invoke(main, ["models", "list", "--repo", str(tmp_path / "nope")])
    assert quiet.exit_code == 1 and "Traceback" not in quiet.output
    loud = CliRunner().invoke(main, ["--verbose", "models", "list", "--repo", str(tmp_path / "nope")])
    assert loud.exit_code == 1 and "Traceback (most recent call last)" in loud.output
    assert "RepositoryNotFound" in loud.output and loud.output.rstrip().splitlines()[-1].startswith("Error: ")


def _no_spark(monkeypatch):
    def refuse(**kwargs):
        raise AssertionError("Spark was started")
    monkeypatch.setattr(sessions, "get_session", refuse)
    monkeypatch.setattr(sessions, "active_session", lambda: None)


def test_params_are_checked_before_spark_starts(ctr_spec, tmp_path, monkeypatch):
    _no_spark(monkeypatch)
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps({**ctr_spec, "estimator": SMALL_GBT}))
    cases = [("maxDeph=3", "estimator.params.maxDeph: gbt_classifier (GBTClassifier) has no parameter 'maxDeph'; "
                           "valid: "),
             ("maxDepth=abc", "estimator.params.maxDepth='abc': not a valid value for gbt_classifier "),
             ("maxIter=2.5", "Could not convert 2.5 to int")]
    for param, message in cases:
        started = time.monotonic()
        result = CliRunner().invoke(main, ["train", str(spec_path), "--repo", str(tmp_path / "m"),
                                           "--param", param])
        assert result.exit_code == 1 and result.output.startswith("Error: ") and message in result.output
        assert len(result.output.splitlines()) == 1 and time.monotonic() - started < 10


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_an_unreachable_master_fails_fast_in_one_line(ctr_spec, tmp_path, monkeypatch):
    _no_spark(monkeypatch)
    port = _closed_port()
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps({**ctr_spec, "estimator": SMALL_GBT}))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["train", str(spec_path), "--repo", str(tmp_path / "m"),
                                       "--master", f"spark://127.0.0.1:{port}"])
    assert result.exit_code == 1 and time.monotonic() - started < 15
    assert result.output.startswith(f"Error: --master spark://127.0.0.1:{port}: cannot connect within 5s "
                                    f"(127.0.0.1:{port}: Connection refused); check the host and port")
    with pytest.raises(ConfigError, match="cannot read 'host:x' as host:port"):
        sessions.check_master("spark://host:x")
    assert sessions._master_addresses("k8s://https://api.example:6443") == [("api.example", 6443)]
    assert sessions._master_addresses("spark://a:7077,b") == [("a", 7077), ("b", 7077)]
    assert sessions._master_addresses("yarn") == [] and sessions._master_addresses("local[2]") == []


def test_missing_jpmml_jars_are_found_before_training(spark, ctr_spec, tmp_path, monkeypatch):
    sessions.require_jpmml(spark)  # the test session has them
    monkeypatch.setattr(sessions, "JPMML_BUILDER", "org.jpmml.sparkml.NoSuchBuilder")
    monkeypatch.setattr("pmmlkit.spark.training.fit", lambda *a, **k: pytest.fail("training started"))
    with pytest.raises(ConfigError, match=r"JPMML-SparkML \(org\.jpmml\.sparkml\.NoSuchBuilder\) is not on this "
                                          r"Spark session's classpath.*run `pmmlkit jars` and pass the --jars"):
        train({**ctr_spec, "estimator": SMALL_GBT}, repo=str(tmp_path / "m"), spark=spark)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only(spark):
    def job():
        spark.sparkContext.parallelize(range(4), 4).map(lambda x: time.sleep(0.4) or x).collect()

    tty = _Terminal()
    with spark_progress(spark, "training ctr", stream=tty, interval=0.05):
        job()
    drawn = tty.getvalue()
    assert "\rtraining ctr: stage " in drawn and "/4 tasks (" in drawn
    assert drawn.endswith("\r")  # the line is blanked at the end
    piped = io.StringIO()
    with spark_progress(spark, "training ctr", stream=piped, interval=0.05):
        job()
    assert piped.getvalue() == ""
    assert progress_line("t", [StageProgress(3, 8, 2, 1), StageProgress(4, 2, 0, 1)]) == \
        "t: stage 3,4 [====>                   ] 2/10 tasks (2 running)"


def test_kmeans_needs_no_label_and_the_manifest_says_where_it_came_from(spark, ctr, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    ctr.generate(80, seed=6).drop(columns=["clicked"]).to_csv(folder / "points.csv", index=False)
    (folder / "spec.yaml").write_text("name: segments\ndata: points.csv\nnumeric: [age, bid_price]\n"
                                      "categorical: [device]\nestimator: {type: kmeans, params: {k: 3, seed: 1}}\n")
    git = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "spec"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()

    version = train(folder / "spec.yaml", repo=str(tmp_path / "m"), spark=spark, description="three segments",
                    tags={"team": "ads"})
    m = version.manifest
    assert set(m.metrics) == {"silhouette"}
    assert (m.description, m.tags, m.git_commit, m.git_dirty) == ("three segments", {"team": "ads"}, head, False)
    assert len(m.run_id) == 32
    assert set(m.input_example) == {f["name"] for f in m.input_schema} and None not in m.input_example.values()
    ev = Evaluator.load("segments", repo=str(tmp_path / "m"))
    assert ev.predict(m.input_example)  # the example is a valid request
    other = train(folder / "spec.yaml", repo=str(tmp_path / "m"), spark=spark)
    assert other.manifest.run_id != m.run_id


def test_kmeans_spec_without_label_parses_and_classifiers_still_need_one():
    from pmmlkit.spark import spec as specs

    base = {"name": "s", "data": "x.csv", "numeric": ["a"]}
    assert specs.from_dict({**base, "estimator": "kmeans"}).label is None
    with pytest.raises(ConfigError, match="key 'label' is required"):
        specs.from_dict({**base, "estimator": "gbt_classifier"})


def test_input_example_prefers_a_complete_row(spark):
    from pmmlkit.spark.provenance import input_example

    df = spark.createDataFrame(pd.DataFrame({"a": [None, 2.0, float("nan")], "b": ["x", None, "z"],
                                             "c": [1.0, 2.0, 3.0]}))
    assert input_example(df, ["a", "b", "absent"]) is not None
    assert input_example(df.limit(1), ["a", "b"]) == {"a": None, "b": "x"}  # none complete: the first
    full = spark.createDataFrame(pd.DataFrame({"a": [None, 2.5], "b": ["x", "y"]}))
    assert input_example(full, ["a", "b"]) == {"a": 2.5, "b": "y"}


def test_a_cli_train_prints_no_noise_a_user_cannot_act_on(ctr, tmp_path):
    """A real `pmmlkit train` process: no SparkR banner, no netlib-blas line, no ERROR logs, no JSON logs."""
    import sys

    ctr.generate(60, seed=8).to_csv(tmp_path / "ctr.csv", index=False)
    (tmp_path / "spec.yaml").write_text(
        "name: quiet\ndata: ctr.csv\nlabel: clicked\nnumeric: [age, bid_price]\ncategorical: [device]\n"
        "estimator: {type: logistic_regression, params: {maxIter: 3}}\nverify_rows: 3\n")
    done = subprocess.run([sys.executable, "-m", "pmmlkit", "train", str(tmp_path / "spec.yaml"), "--repo",
                           str(tmp_path / "m")], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("published quiet:1\n")
    # The JVM itself announces the vector incubator module Spark enables; nothing else may appear.
    noise = [line for line in done.stderr.splitlines() if "Using incubator modules" not in line]
    assert noise == []
