"""Native vs pypmml vs JPMML: batch throughput (100k rows) and single-record latency on CTR models.

    python benchmarks/bench_evaluators.py [--rows 100000] [--repeats 3]

Prints a markdown table; ratios are against pypmml (medians of the repeats).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.timing import median_seconds, record_latency_us

BACKENDS = ("native", "pypmml", "jpmml")


SPECS = {
    "logistic regression": {"type": "logistic_regression", "params": {"maxIter": 50}},
    "GBT (50 trees, depth 5)": {"type": "gbt_classifier", "params": {"maxIter": 50, "maxDepth": 5, "seed": 1}},
    "random forest (100 trees, depth 8)": {"type": "random_forest_classifier",
                                           "params": {"numTrees": 100, "maxDepth": 8, "seed": 1}},
}


def _train(out: Path, train_rows: int) -> dict[str, bytes]:
    """The three models, trained the way users train them: `pmmlkit train` on a spec."""
    from examples.generate_ctr import CATEGORICAL, LABEL, NUMERIC, generate
    from pmmlkit.repository.store import Repository
    from pmmlkit.spark.session import get_session
    from pmmlkit.spark.training import train

    data = out / "ctr_train.csv"
    generate(train_rows, 1).to_csv(data, index=False)
    repo = Repository(str(out / "models"))
    spark = get_session(master="local[2]", app_name="pmmlkit-bench")
    models = {}
    for i, (model_name, estimator) in enumerate(SPECS.items()):
        spec = {"name": f"bench{i}", "data": str(data), "label": LABEL, "numeric": list(NUMERIC),
                "categorical": list(CATEGORICAL), "estimator": estimator}
        models[model_name] = repo.read_pmml(train(spec, repo=repo, spark=spark))
        print(f"trained {model_name}", file=sys.stderr)
    return models


def _time_batch(ev, df: pd.DataFrame, repeats: int) -> float:
    return median_seconds(lambda: ev.predict_batch(df, errors="column"), repeats)


def time_records(ev: Any, records: list[dict[str, Any]]) -> tuple[float, float]:
    """Single-record ``predict`` latency over ``records`` after a warm-up: (p50, p99) in µs."""
    return record_latency_us(ev.predict, records)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/out", help="scratch folder")
    args = parser.parse_args(argv)

    from examples.generate_ctr import CATEGORICAL, NUMERIC, generate
    from pmmlkit.evaluator import Evaluator

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    models = _train(out, args.train_rows)
    score = generate(args.rows, 2)[list(NUMERIC) + list(CATEGORICAL)]
    records = [{k: (None if pd.isna(v) else v) for k, v in r.items()}
               for r in score.head(args.records).to_dict("records")]
    rows = []
    for model_name, raw in models.items():
        stats = {}
        for backend in BACKENDS:
            ev = Evaluator.from_bytes(raw, backend=backend, verify=False)
            batch = _time_batch(ev, score, args.repeats)
            p50, p99 = time_records(ev, records)
            stats[backend] = (batch, p50, p99)
            print(f"{model_name} / {backend}: batch {batch:.3f}s, p50 {p50:.0f}µs, p99 {p99:.0f}µs", file=sys.stderr)
        rows.append((model_name, stats))
    print(f"\n| model | backend | batch {args.rows:,} rows (s) | rows/s | vs pypmml | record p50 (µs) | "
          "record p99 (µs) | p50 vs pypmml |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for model_name, stats in rows:
        ref_batch, ref_p50, _ = stats["pypmml"]
        for backend, (batch, p50, p99) in stats.items():
            print(f"| {model_name} | {backend} | {batch:.3f} | {args.rows / batch:,.0f} | {ref_batch / batch:.1f}× | "
                  f"{p50:.0f} | {p99:.0f} | {ref_p50 / p50:.1f}× |")


if __name__ == "__main__":
    main()
