"""TreeSHAP speed: pmmlkit's exact interventional TreeSHAP of a PMML ensemble vs shap's TreeExplainer.

Both explain the same fitted scikit-learn model (sklearn2pmml for pmmlkit), the same rows and
the same background, exactly (shap: ``feature_perturbation="interventional"``). The table
gives medians of ``--repeats`` runs and pmmlkit's time over shap's.

    .venv/bin/python -m benchmarks bench_explain
    .venv/bin/python -m benchmarks.bench_explain --rows 200 --trees 20   # a short dev run
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N_FEATURES = 10


def _data(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, N_FEATURES)), columns=[f"x{i}" for i in range(N_FEATURES)])
    signal = X.x0 + X.x1 * X.x2 - 0.5 * X.x3 ** 2 + 0.3 * X.x4
    return X, pd.Series((signal + rng.normal(0, 0.5, n) > 0).astype(int), name="y"), signal.rename("y")


def _models(trees: int, depth: int) -> dict[str, tuple[str, Any]]:
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier

    return {
        f"GBT regressor ({trees} trees, depth {depth})": ("reg", GradientBoostingRegressor(
            n_estimators=trees, max_depth=depth, random_state=1)),
        f"GBT classifier ({trees} trees, depth {depth}), log-odds": ("cls", GradientBoostingClassifier(
            n_estimators=trees, max_depth=depth, random_state=1)),
        f"random forest ({trees} trees, depth {depth}), probability": ("cls", RandomForestClassifier(
            n_estimators=trees, max_depth=depth, random_state=1, n_jobs=1)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_explain")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--background", type=int, default=100)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from sklearn2pmml.pipeline import PMMLPipeline

    from pmmlkit import Evaluator
    from tests.conformance.sklearn_producer import SkLearn2PMML

    X, y_bin, y_reg = _data(5000, 1)
    rows, background = X.iloc[-args.rows:], X.iloc[:args.background]
    converter = SkLearn2PMML(Path(tempfile.mkdtemp(prefix="bench-explain-")))
    print(f"{args.rows} rows explained over {args.background} background rows, {N_FEATURES} numeric inputs; "
          f"median of {args.repeats} runs\n")
    print("| model | pmmlkit TreeSHAP (s) | shap TreeExplainer (s) | pmmlkit / shap | max abs diff |")
    print("|---|---|---|---|---|")
    try:
        for name, (task, estimator) in _models(args.trees, args.depth).items():
            pipeline = PMMLPipeline([("model", estimator)])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pipeline.fit(X, y_bin if task == "cls" else y_reg)
            ev = Evaluator.from_bytes(converter.convert(pipeline, "bench"), backend="native")
            print(_row(name, ev, estimator, rows, background, args.repeats), flush=True)
    finally:
        converter.close()


def _row(name: str, ev: Any, estimator: Any, rows: pd.DataFrame, background: pd.DataFrame, repeats: int) -> str:
    import shap

    from benchmarks.bench_peers import timed
    from pmmlkit.evaluator.native.explain.trees import explain_trees

    cols, bg = ev.contract.check_frame(rows).columns, ev.contract.check_frame(background).columns
    explainer = shap.TreeExplainer(estimator, data=background, feature_perturbation="interventional",
                                   model_output="raw")
    stats = timed({"pmmlkit": lambda: explain_trees(ev.backend, cols, len(rows), bg, len(background)),
                    "shap": lambda: explainer.shap_values(rows, check_additivity=False)}, repeats)
    (ours_times, e), (their_times, sv) = stats["pmmlkit"], stats["shap"]
    ours_s, theirs_s = statistics.median(ours_times), statistics.median(their_times)
    sv = np.asarray(sv)
    sv = sv[..., 1] if sv.ndim == 3 else sv
    ours = np.column_stack([e.contributions[c] for c in rows.columns])
    return f"| {name} | {ours_s:.2f} | {theirs_s:.2f} | {ours_s / theirs_s:.2f} | {np.abs(ours - sv).max():.1e} |"

if __name__ == "__main__":
    main(sys.argv[1:])
