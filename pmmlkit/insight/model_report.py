"""The training report of a model version: curves, errors, importances, schema and data profile.

``report_files`` turns what training knows (holdout answers, metrics, importances, the input
schema and the training profile) into report.html, profile.json and one SVG per chart, ready to
be written into the version folder. Pictures first, numbers second: every chart is also a file.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import curves, page, plots
from .profile import Profile

MAX_CLASS_CURVES = 10   # one-vs-rest curves past this many classes are unreadable
MAX_IMPORTANCES = 25
MAX_POINTS = 5000       # scatter points drawn (a sample of the holdout)


@dataclass(frozen=True)
class Holdout:
    """The holdout's answers: true labels, predictions, and per-class probabilities (classifiers)."""

    actual: np.ndarray
    predicted: np.ndarray
    probabilities: Mapping[str, np.ndarray] | None = None  # class label -> P(class) per row


def report_files(title: str, *, task: str, metrics: Mapping[str, float], rows: Mapping[str, int],
                 inputs: Sequence[Mapping[str, Any]], holdout: Holdout | None, profile: Profile,
                 importances: Mapping[str, float] | None = None) -> dict[str, bytes]:
    """report.html, profile.json and plots/*.svg for a version; ``task`` is classification|regression."""
    charts: dict[str, str] = {}
    areas: dict[str, float] = {}
    if holdout is not None and len(holdout.actual):
        charts.update(_classification(holdout, areas) if task == "classification" else _regression(holdout))
    if importances:
        top = sorted(importances.items(), key=lambda kv: -abs(kv[1]))[:MAX_IMPORTANCES]
        charts["importances"] = plots.bars("feature importance", [k for k, _ in top], [v for _, v in top],
                                           xlabel="importance")
    sections = [
        page.Section("Holdout metrics", page.table([{"metric": k, "value": float(v)} for k, v in metrics.items()])
                     + page.table([{"rows": k, "count": int(v)} for k, v in rows.items()])),
        page.Section("Charts", page.gallery([page.figure(svg, name) for name, svg in charts.items()])
                     if charts else
                     page.paragraph("no holdout: train with a validation fraction to see charts", note=True)),
        page.Section("Input schema", page.table([dict(f) for f in inputs])),
        page.Section("Training data profile", _profile_table(profile)),
    ]
    out = {"report.html": page.render(title, sections).encode("utf-8"),
           "profile.json": profile.to_json().encode("utf-8"),
           "report.json": (json.dumps({"task": task, "metrics": dict(metrics), "rows": dict(rows),
                                       "curves": areas,
                                       "charts": [f"plots/{n}.svg" for n in charts]}, indent=1) + "\n").encode()}
    for name, svg in charts.items():
        out[f"plots/{name}.svg"] = svg.encode("utf-8")
    return out


def _classification(h: Holdout, areas: dict[str, float]) -> dict[str, str]:
    """The classifier charts; ``areas`` gets each curve's area (``roc_auc[<class>]``...) for report.json."""
    actual = np.asarray([str(v) for v in h.actual])
    predicted = np.asarray([str(v) for v in h.predicted])
    labels = sorted(set(actual) | set(predicted))
    out = {"confusion": plots.heatmap("confusion matrix", curves.confusion(actual, predicted, labels), labels,
                                      xlabel="predicted", ylabel="actual")}
    probs = {str(k): np.asarray(v, dtype=np.float64) for k, v in (h.probabilities or {}).items()}
    classes = [c for c in labels if c in probs]
    if not classes:
        return out
    # Binary: the curves of the second class (the positive one by convention); else one-vs-rest.
    shown = classes[1:2] if len(classes) == 2 else classes[:MAX_CLASS_CURVES]
    rocs = {c: curves.roc(actual == c, probs[c]) for c in shown}
    prs = {c: curves.precision_recall(actual == c, probs[c]) for c in shown}
    out["roc"] = plots.lines("ROC", [(f"{c} (AUC {r.area:.3f})", r.x, r.y) for c, r in rocs.items()],
                             xlabel="false positive rate", ylabel="true positive rate", diagonal=True)
    out["precision_recall"] = plots.lines(
        "precision-recall", [(f"{c} (AP {p.area:.3f})", p.x, p.y) for c, p in prs.items()],
        xlabel="recall", ylabel="precision")
    for c in shown:
        areas[f"roc_auc[{c}]"], areas[f"average_precision[{c}]"] = rocs[c].area, prs[c].area
    gains = {c: curves.cumulative_gain(actual == c, probs[c]) for c in shown}
    out["gain"] = plots.lines("cumulative gain (lift)", [(c, g.x, g.y) for c, g in gains.items()],
                              xlabel="share of rows, highest scores first", ylabel="share of positives found",
                              diagonal=True)
    series = []
    for c in shown:
        predicted_p, observed, _ = curves.calibration(actual == c, probs[c])
        series.append((c, predicted_p, observed))
    out["calibration"] = plots.lines("calibration", series, xlabel="mean predicted probability",
                                     ylabel="observed frequency", diagonal=True)
    return out


def _regression(h: Holdout) -> dict[str, str]:
    actual = np.asarray(h.actual, dtype=np.float64)
    predicted = np.asarray(h.predicted, dtype=np.float64)
    sample = np.random.default_rng(0).permutation(len(actual))[:MAX_POINTS]
    return {
        "predicted_vs_actual": plots.scatter("predicted vs actual", actual[sample], predicted[sample],
                                             xlabel="actual", ylabel="predicted", diagonal=True),
        "residuals": plots.histogram("residuals (actual - predicted)", actual - predicted, xlabel="residual"),
    }


def _profile_table(profile: Profile) -> str:
    rows = []
    for name, col in profile.columns.items():
        if col.kind == "numeric":
            s = col.stats
            detail = (f"min {s['min']:.4g}, mean {s['mean']:.4g}, max {s['max']:.4g}" if s else "no values")
        else:
            top = ", ".join(f"{c} ({n})" for c, n in zip(col.categories[:5], col.counts[:5]))
            detail = f"{int(col.stats.get('distinct', 0))} distinct; top: {top}"
        rows.append({"field": name, "kind": col.kind, "missing": col.missing / max(col.rows, 1), "values": detail})
    return page.table(rows)
