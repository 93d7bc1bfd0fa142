"""Training-report curves against scikit-learn, and the report rendered in headless Chromium."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics

from pmmlkit.insight import curves, profile_frame
from pmmlkit.insight.files import write_files
from pmmlkit.insight.model_report import Holdout, report_files

from .browser import browser, render  # noqa: F401 - the fixture
from .test_drift import COLUMNS, frame


def scored(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    positive = rng.random(n) < 0.3
    score = np.clip(0.3 * positive + rng.random(n) * 0.7, 0, 1).round(2)  # rounded: many ties
    return positive, score


def test_roc_matches_scikit_learn_point_for_point() -> None:
    positive, score = scored()
    r = curves.roc(positive, score)
    fpr, tpr, _ = metrics.roc_curve(positive, score, drop_intermediate=False)
    np.testing.assert_allclose(r.x, fpr, rtol=0, atol=1e-15)
    np.testing.assert_allclose(r.y, tpr, rtol=0, atol=1e-15)
    assert r.area == pytest.approx(metrics.roc_auc_score(positive, score), abs=1e-12)


def test_average_precision_matches_scikit_learn() -> None:
    positive, score = scored(seed=1)
    assert curves.precision_recall(positive, score).area == pytest.approx(
        metrics.average_precision_score(positive, score), abs=1e-12)


def test_confusion_and_calibration() -> None:
    actual = np.array(["a", "b", "b", "c", "a"])
    predicted = np.array(["a", "b", "c", "c", "b"])
    np.testing.assert_array_equal(curves.confusion(actual, predicted, ["a", "b", "c"]),
                                  metrics.confusion_matrix(actual, predicted, labels=["a", "b", "c"]))
    positive, score = scored(seed=2)
    mean_p, observed, rows = curves.calibration(positive, score)
    ref_obs, ref_mean = _sklearn_calibration(positive, score)
    np.testing.assert_allclose(mean_p, ref_mean, atol=1e-12)
    np.testing.assert_allclose(observed, ref_obs, atol=1e-12)
    assert rows.sum() == len(score)


def _sklearn_calibration(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.calibration import calibration_curve
    return calibration_curve(positive, score, n_bins=10, strategy="uniform")


def test_gain_reaches_every_positive() -> None:
    positive, score = scored(seed=3)
    g = curves.cumulative_gain(positive, score)
    assert g.x[-1] == 1.0 and g.y[-1] == 1.0 and g.area > 0.5  # better than random


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_training_report_renders(tmp_path, browser, task) -> None:  # noqa: F811
    positive, score = scored(500)
    if task == "classification":
        holdout = Holdout(np.where(positive, "1", "0"), np.where(score > 0.5, "1", "0"),
                          {"0": 1 - score, "1": score})
        expected = {"confusion", "roc", "precision_recall", "gain", "calibration", "importances"}
    else:
        holdout = Holdout(score * 10, score * 10 + np.random.default_rng(0).normal(0, 1, len(score)))
        expected = {"predicted_vs_actual", "residuals", "importances"}
    files = report_files(f"ctr:3 ({task})", task=task, metrics={"auc": 0.71}, rows={"training": 4000, "holdout": 500},
                         inputs=[{"name": "age", "dataType": "double"}, {"name": "os", "dataType": "string"}],
                         holdout=holdout, profile=profile_frame(frame(400, seed=0), COLUMNS),
                         importances={"age": 0.7, "os": 0.3})
    write_files(str(tmp_path), files)
    assert {p[len("plots/"):-4] for p in files if p.startswith("plots/")} == expected
    assert sorted(json.loads(files["report.json"])["charts"]) == sorted(f"plots/{n}.svg" for n in expected)
    seen = render(browser, tmp_path / "report.html", tmp_path / "shot.png")
    assert seen.console_errors == [] and seen.images == len(expected) == seen.images_loaded
    assert seen.screenshot.stat().st_size > 10_000
