"""What explain=True costs through the public API, on a linear model (logistic regression, one-hot + scaling).

The model is scikit-learn's, exported by sklearn2pmml (tests/evaluator/explain/linear_models.py).
Rows: ``predict`` on one record (p50 of ``--records`` calls) and ``predict_batch`` on ``--rows`` rows
(median of ``--repeats``), without and with ``explain=True``; then pmmlkit's contributions against
``shap.LinearExplainer`` (interventional) on the same rows and background.

    .venv/bin/python -m benchmarks bench_explain_api
    .venv/bin/python -m benchmarks.bench_explain_api --rows 20000 --records 500   # a short dev run
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from benchmarks.timing import median_seconds, record_latency_us


def _p50_us(fn: Any, record: dict[str, Any], n: int) -> float:
    return record_latency_us(fn, [record] * n)[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_explain_api")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    import shap

    from pmmlkit import Evaluator
    from tests.evaluator.explain.linear_models import Fitted, data, fit_all, shap_values

    fitted = fit_all(Path(tempfile.mkdtemp(prefix="bench-explain-api-")))["logistic"]
    ev = Evaluator.from_bytes(fitted.pmml, backend="native", background=fitted.background)
    rows, _, _ = data(seed=99, n=args.rows)
    record = rows.iloc[0].to_dict()
    print(f"logistic regression over 2 scaled numeric inputs and 1 one-hot category; background "
          f"{len(fitted.background)} rows\n")
    print("| call | plain | explain=True | explain / plain |")
    print("|---|---|---|---|")
    plain, explained = (_p50_us(ev.predict, record, args.records),
                        _p50_us(lambda r: ev.predict(r, explain=True), record, args.records))
    print(f"| predict, one record (p50 of {args.records}) | {plain:.0f} µs | {explained:.0f} µs | "
          f"{explained / plain:.2f} |")
    plain = median_seconds(lambda: ev.predict_batch(rows), args.repeats)
    explained = median_seconds(lambda: ev.predict_batch(rows, explain=True), args.repeats)
    print(f"| predict_batch, {args.rows:,} rows (median of {args.repeats}) | {plain:.3f} s | {explained:.3f} s | "
          f"{explained / plain:.2f} |")

    out = ev.predict_batch(rows, explain=True)
    big = Fitted(fitted.pipeline, fitted.pmml, rows, fitted.background)
    with np.errstate(all="ignore"):
        start = time.perf_counter()
        theirs = shap_values(big, ["a", "b", "c"])
        theirs_s = time.perf_counter() - start
    diff = max(float(np.abs(out[f"contribution_{f}"].to_numpy() - theirs[f]).max()) for f in theirs)
    print(f"\n| {args.rows:,} rows | pmmlkit predict_batch(explain=True) | shap {shap.__version__} LinearExplainer "
          "(transform + shap_values) | max abs diff |")
    print("|---|---|---|---|")
    print(f"| seconds | {explained:.3f} | {theirs_s:.3f} | {diff:.1e} |")


if __name__ == "__main__":
    main(sys.argv[1:])
