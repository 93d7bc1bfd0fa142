"""Distributed scoring (`--engine spark`, mapInPandas) against local streaming scoring (`score_file`).

    python benchmarks/bench_distributed.py [--sizes 100000,1000000,5000000] [--master local[2]]

Scores the same CTR CSV (examples/generate_ctr.py, generated once into benchmarks/out/)
with a logistic RegressionModel built from the generator's own effects, and prints
rows/s for both engines plus the crossover: the smallest size at which Spark wins.
Spark's session start-up is measured once and left out of the per-size figures
(a cluster job pays it once); the local figures include the Evaluator load.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
OUT = HERE / "out"
SEED = 42
_GENERATE_CHUNK = 500_000  # generate in slices: a 5M-row frame of Python strings would need GBs


def logistic_pmml() -> bytes:
    """A logistic RegressionModel over the CTR features, using the generator's true effects."""
    from examples import generate_ctr as g

    numeric = {"hour": 0.01, "age": -0.015, "bid_price": 0.4, "ctr_history": 18.0, "position": -0.25}
    effects = {"device": g._DEVICE_EFFECT, "site_category": g._SITE_EFFECT, "ad_category": g._AD_EFFECT}
    replacement = {"hour": "12", "age": "36", "bid_price": "1.0", "ctr_history": "0.06", "position": "4",
                   "device": "android", "site_category": "news", "ad_category": "travel"}
    fields = "".join(f'<DataField name="{n}" optype="continuous" dataType="double"/>' for n in numeric)
    fields += "".join(f'<DataField name="{n}" optype="categorical" dataType="string">'
                      + "".join(f'<Value value="{v}"/>' for v in e) + "</DataField>" for n, e in effects.items())
    mining = "".join(f'<MiningField name="{n}" missingValueReplacement="{replacement[n]}"'
                     + (' invalidValueTreatment="asMissing"' if n in effects else "") + "/>"
                     for n in (*numeric, *effects))
    terms = "".join(f'<NumericPredictor name="{n}" coefficient="{w}"/>' for n, w in numeric.items())
    terms += "".join(f'<CategoricalPredictor name="{n}" value="{v}" coefficient="{w}"/>'
                     for n, e in effects.items() for v, w in e.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header description="bench_distributed CTR logistic"/>
<DataDictionary>{fields}<DataField name="clicked" optype="categorical" dataType="integer">
<Value value="0"/><Value value="1"/></DataField></DataDictionary>
<RegressionModel functionName="classification" normalizationMethod="logit">
<MiningSchema><MiningField name="clicked" usageType="target"/>{mining}</MiningSchema>
<Output><OutputField name="probability(1)" optype="continuous" dataType="double" feature="probability" value="1"/>
</Output>
<RegressionTable intercept="-2.4" targetCategory="1">{terms}</RegressionTable>
<RegressionTable intercept="0" targetCategory="0"/></RegressionModel></PMML>""".encode()


def dataset(rows: int) -> Path:
    """benchmarks/out/ctr_<rows>.csv; the smaller files are prefixes of the larger."""
    from examples.generate_ctr import generate

    path = OUT / f"ctr_{rows}.csv"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    done = 0
    while done < rows:
        n = min(_GENERATE_CHUNK, rows - done)
        generate(n, SEED + done).to_csv(tmp, mode="a", header=done == 0, index=False)
        done += n
    os.replace(tmp, path)
    return path


def time_local(raw: bytes, src: Path, backend: str) -> tuple[float, str]:
    from pmmlkit.evaluator import Evaluator
    from pmmlkit.scoring.batch import score_file

    started = time.perf_counter()
    ev = Evaluator.from_bytes(raw, backend=backend)
    s = score_file(ev, str(src), str(OUT / "local_scored.parquet"), max_errors=10**9,
                   progress=False)
    return time.perf_counter() - started, s.backend


def time_spark(raw: bytes, src: Path, spark, backend: str) -> float:
    from pmmlkit.scoring.spark import score_spark

    target = OUT / "spark_scored.parquet"
    started = time.perf_counter()
    score_spark(raw, str(src), str(target), spark=spark, backend=backend, max_errors=10**9)
    seconds = time.perf_counter() - started
    shutil.rmtree(target, ignore_errors=True)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,5000000", help="comma-separated row counts")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--backend", default="auto", help="Evaluator backend on both sides")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    raw = logistic_pmml()
    biggest = dataset(sizes[-1])
    for n in sizes[:-1]:  # prefixes of the biggest file: the same rows at every size
        path = OUT / f"ctr_{n}.csv"
        if not path.exists():
            with open(biggest) as src, open(path.with_suffix(".tmp"), "w") as dst:
                for i, line in enumerate(src):
                    if i > n:
                        break
                    dst.write(line)
            os.replace(path.with_suffix(".tmp"), path)

    from pmmlkit.spark.session import get_session

    started = time.perf_counter()
    spark = get_session(master=args.master, app_name="bench-distributed")
    startup = time.perf_counter() - started
    rows = []
    try:
        time_spark(raw, OUT / f"ctr_{sizes[0]}.csv", spark, args.backend)  # warm-up: JIT, Python workers
        for n in sizes:
            src = OUT / f"ctr_{n}.csv"
            local_s, backend = time_local(raw, src, args.backend)
            spark_s = time_spark(raw, src, spark, args.backend)
            rows.append({"rows": n, "local_s": local_s, "spark_s": spark_s, "local_rps": n / local_s,
                         "spark_rps": n / spark_s, "backend": backend})
            print(f"{n:>9,} rows: local {local_s:7.2f}s  spark {spark_s:7.2f}s", file=sys.stderr, flush=True)
    finally:
        spark.stop()
    print(f"Spark session start-up ({args.master}): {startup:.1f} s (not included below)\n")
    print("| rows | local score_file (s) | local rows/s | spark mapInPandas (s) | spark rows/s | spark/local |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['rows']:,} | {r['local_s']:.2f} | {r['local_rps']:,.0f} | {r['spark_s']:.2f} | "
              f"{r['spark_rps']:,.0f} | {r['spark_rps'] / r['local_rps']:.2f}x |")
    wins = [r["rows"] for r in rows if r["spark_rps"] > r["local_rps"]]
    print(f"\nlocal backend: {rows[0]['backend']}; crossover: "
          + (f"Spark is faster from {wins[0]:,} rows (measured sizes)" if wins
             else "none: local streaming is faster at every measured size"))
    (OUT / "distributed.json").write_text(json.dumps({"master": args.master, "startup_s": startup, "rows": rows},
                                                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
