"""`pmmlkit train` publishes a training report and a data profile with every version."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from pmmlkit.cli import main
from pmmlkit.insight.profile import Profile
from pmmlkit.spark.training import train
from tests.insight.browser import browser, render  # noqa: F401 - the fixture

from .test_spark_training import SMALL_GBT

CLASSIFIER_CHARTS = {"confusion", "roc", "precision_recall", "gain", "calibration", "importances"}


@pytest.mark.parametrize("estimator,label,charts", [
    (SMALL_GBT, "clicked", CLASSIFIER_CHARTS),
    ({"type": "linear_regression", "params": {"maxIter": 5}}, "bid_price", {"predicted_vs_actual", "residuals",
                                                                            "importances"}),
])
def test_train_publishes_report_and_profile(spark, repo, ctr, ctr_spec, tmp_path, browser,  # noqa: F811
                                            estimator, label, charts):
    numeric = [c for c in ctr.NUMERIC if c != label]
    version = train({**ctr_spec, "label": label, "numeric": numeric, "estimator": estimator}, repo=repo, spark=spark)
    files = version.manifest.files
    assert {"report.html", "report.json", "profile.json"} <= set(files)
    assert {f[len("plots/"):-4] for f in files if f.startswith("plots/")} == charts

    profile = Profile.from_json(repo.read_file(version, "profile.json"))
    inputs = {f["name"] for f in version.manifest.input_schema}  # the fields the model uses
    assert set(profile.columns) == inputs and inputs <= set(numeric) | set(ctr.CATEGORICAL)
    assert all(c.rows > 0 for c in profile.columns.values())
    report = json.loads(repo.read_file(version, "report.json"))
    assert report["metrics"] == pytest.approx(version.manifest.metrics)
    if "auc" in report["metrics"]:  # the PMML scored natively gives Spark's own AUC on the same holdout
        assert report["curves"]["roc_auc[1]"] == pytest.approx(report["metrics"]["auc"], abs=0.01)

    page = tmp_path / "report.html"
    page.write_bytes(repo.read_file(version, "report.html"))
    seen = render(browser, page, tmp_path / "report.png")
    assert seen.console_errors == [] and seen.images == len(charts) == seen.images_loaded


def test_training_data_does_not_drift_from_its_own_profile(spark, repo, ctr_spec, ctr_csv, tmp_path):
    train({**ctr_spec, "estimator": SMALL_GBT}, repo=repo, spark=spark)
    result = CliRunner().invoke(main, ["drift", "-m", "ctr", ctr_csv, "--repo", repo.root, "-o", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert re.search(r"\n0 of [1-9] field\(s\) drifted", result.output), result.output
