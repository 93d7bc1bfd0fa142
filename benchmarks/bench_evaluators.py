"""Native vs pypmml vs JPMML: batch throughput (100k rows) and single-record latency on CTR models.

    python benchmarks/bench_evaluators.py [--rows 100000] [--repeats 3]

Prints a markdown table; ratios are against pypmml (medians of the repeats).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
BACKENDS = ("native", "pypmml", "jpmml")


def _data(n_rows: int, seed: int) -> tuple[pd.DataFrame, str, list[str], list[str]]:
    try:
        from examples.generate_ctr import CATEGORICAL, LABEL, NUMERIC, generate
        df = generate(n_rows, seed)
        for c in CATEGORICAL:  # the generator writes missing categories as "", Spark wants null
            df[c] = df[c].replace("", None)
        return df, LABEL, list(NUMERIC), list(CATEGORICAL)
    except ImportError:  # the example generator is optional; a small local one stands in
        rng = np.random.default_rng(seed)
        df = pd.DataFrame({"hour": rng.integers(0, 24, n_rows).astype(float), "bid": rng.lognormal(0, .5, n_rows),
                           "device": rng.choice(["android", "ios", "web"], n_rows)})
        df["clicked"] = (rng.uniform(size=n_rows) < 0.15 + 0.1 * (df.device == "ios")).astype(int)
        return df, "clicked", ["hour", "bid"], ["device"]


def _pipelines(label: str, numeric: list[str], categorical: list[str]) -> dict:
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import GBTClassifier, LogisticRegression, RandomForestClassifier
    from pyspark.ml.feature import Imputer, OneHotEncoder, StringIndexer, VectorAssembler

    idx = [f"{c}_idx" for c in categorical]
    imp = [f"{c}_imp" for c in numeric]

    def stages(estimator, one_hot: bool) -> Pipeline:
        pre = [StringIndexer(inputCols=categorical, outputCols=idx, handleInvalid="keep"),
               Imputer(inputCols=numeric, outputCols=imp)]
        cats = idx
        if one_hot:
            cats = [f"{c}_vec" for c in categorical]
            pre.append(OneHotEncoder(inputCols=idx, outputCols=cats))
        return Pipeline(stages=pre + [VectorAssembler(inputCols=imp + cats, outputCol="features"), estimator])

    return {
        "logistic regression": stages(LogisticRegression(labelCol=label, maxIter=50), True),
        "GBT (50 trees, depth 5)": stages(GBTClassifier(labelCol=label, maxIter=50, maxDepth=5, seed=1), False),
        "random forest (100 trees, depth 8)": stages(
            RandomForestClassifier(labelCol=label, numTrees=100, maxDepth=8, seed=1), False),
    }


def _time_batch(ev, df: pd.DataFrame, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ev.predict_batch(df, errors="column")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _time_records(ev, records: list[dict]) -> tuple[float, float]:
    for r in records[:50]:
        ev.predict(r)
    lat = []
    for r in records:
        start = time.perf_counter()
        ev.predict(r)
        lat.append(time.perf_counter() - start)
    lat.sort()
    return lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from pyspark2pmml import PMMLBuilder

    from pmmlkit.evaluator import Evaluator
    from pmmlkit.spark.session import get_session

    train, label, numeric, categorical = _data(args.train_rows, 1)
    score, _, _, _ = _data(args.rows, 2)
    score = score[numeric + categorical]
    records = [{k: (None if pd.isna(v) else v) for k, v in r.items()}
               for r in score.head(args.records).to_dict("records")]
    spark = get_session(master="local[2]", app_name="pmmlkit-bench")
    sdf = spark.createDataFrame(train[numeric + categorical + [label]].astype(object).where(train.notna(), None))
    rows = []
    for model_name, pipeline in _pipelines(label, numeric, categorical).items():
        raw = bytes(PMMLBuilder(sdf, pipeline.fit(sdf)).buildByteArray())
        stats = {}
        for backend in BACKENDS:
            ev = Evaluator.from_bytes(raw, backend=backend, verify=False)
            batch = _time_batch(ev, score, args.repeats)
            p50, p99 = _time_records(ev, records)
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
