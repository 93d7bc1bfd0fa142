"""`pmmlkit score` end to end against pyarrow's raw read + write of the same file, in one run.

    python -m benchmarks bench_score
    python benchmarks/bench_score.py [--rows 100000,1000000,5000000] [--repeats 3] [--threads N]

CTR data (examples/generate_ctr.py) as CSV and as Parquet; two models trained by `pmmlkit
train` on 20k rows and cached under benchmarks/out/score_models/: logistic regression, and
the demo's GBT (examples/ctr_spec.yaml: 20 trees, depth 4). Every run is a fresh process:
`pmmlkit score` is timed from the command to its exit (interpreter start, imports, model load
included; the "startup" column is the same command on a 1,000-row file); pyarrow's baseline is
its read + write calls alone, so the ratio is conservative. Peak RSS is each process's own.
Medians of ``--repeats`` (5M rows: one run).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "benchmarks" / "out"
SIZES = (100_000, 1_000_000, 5_000_000)
GENERATE_STEP = 250_000

# A fresh parent per run, so the peak RSS it reports is this run's alone.
_PROBE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
          "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
          "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
# pyarrow's raw read + write, timed around the two calls only (imports excluded).
_RAW = """
import resource, sys, time
import pyarrow.csv as pacsv, pyarrow.parquet as pq
src, dst = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if src.endswith(".csv"):
    pacsv.write_csv(pacsv.read_csv(src), dst)
else:
    pq.write_table(pq.read_table(src), dst)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def csv_data(rows: int) -> Path:
    """benchmarks/out/ctr_ROWS.csv, generated once in slices (flat memory)."""
    from examples.generate_ctr import generate

    data = OUT / f"ctr_{rows}.csv"
    if not data.exists():
        tmp = data.with_suffix(".csv.tmp")
        for k, start in enumerate(range(0, rows, GENERATE_STEP)):
            generate(min(GENERATE_STEP, rows - start), 100 + start).to_csv(tmp, mode="a", header=k == 0, index=False)
        tmp.rename(data)
    return data


def parquet_data(rows: int) -> Path:
    """The same rows as Parquet, typed as pyarrow reads the CSV, converted in streaming."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    data = OUT / f"ctr_{rows}.parquet"
    if not data.exists():
        tmp = data.with_suffix(".parquet.tmp")
        reader = pacsv.open_csv(csv_data(rows))
        with pq.ParquetWriter(tmp, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
        tmp.rename(data)
    return data


def models() -> dict[str, Path]:
    """Logistic regression and the demo's GBT as PMML, trained once (Spark) and cached."""
    import yaml

    demo = yaml.safe_load((ROOT / "examples" / "ctr_spec.yaml").read_text())
    estimators = {"logistic regression": ("lr", {"type": "logistic_regression", "params": {"maxIter": 50}}),
                  "GBT (demo ctr: 20 trees, depth 4)": ("gbt_demo", demo["estimator"])}
    folder = OUT / "score_models"
    paths = {name: folder / f"{key}.pmml" for name, (key, _) in estimators.items()}
    missing = {name: est for name, (_, est) in estimators.items() if not paths[name].exists()}
    if missing:
        _train(folder, missing, paths, demo)
    return paths


def _train(folder: Path, estimators: dict, paths: dict[str, Path], demo: dict) -> None:
    from examples.generate_ctr import generate
    from pmmlkit.repository.store import Repository
    from pmmlkit.spark.session import get_session
    from pmmlkit.spark.training import train

    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "ctr_train.csv"
    generate(20_000, 1).to_csv(data, index=False)
    repo = Repository(str(folder / "repo"))
    spark = get_session(master="local[2]", app_name="pmmlkit-bench-score")
    for i, (name, estimator) in enumerate(estimators.items()):
        spec = {**demo, "name": f"score{i}", "data": str(data), "estimator": estimator}
        paths[name].write_bytes(repo.read_pmml(train(spec, repo=repo, spark=spark)))
        print(f"trained {name}", file=sys.stderr)


def _measured(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of ``cmd``, in a fresh process."""
    answer = subprocess.run([sys.executable, "-c", _PROBE, *cmd], check=True, capture_output=True, text=True,
                            cwd=ROOT)
    seconds, kib = answer.stdout.split()
    return float(seconds), int(kib) / 1024


def run_score(data: Path, model: Path, fmt: str, threads: int | None) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "pmmlkit", "score", str(data), "-m", str(model), "-o",
           str(OUT / f"scored.{fmt}"), "--max-errors", str(10 ** 9)]
    return _measured(cmd + (["--threads", str(threads)] if threads else []))


def run_pyarrow(data: Path, fmt: str) -> tuple[float, float]:
    answer = subprocess.run([sys.executable, "-c", _RAW, str(data), str(OUT / f"raw.{fmt}")], check=True,
                            capture_output=True, text=True)
    seconds, kib = answer.stdout.split()
    return float(seconds), int(kib) / 1024


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(str(s) for s in SIZES),
                        help="comma-separated input sizes (e.g. 20000 for a quick run)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell below 5M rows (median)")
    parser.add_argument("--threads", type=int, default=None, help="pmmlkit score --threads [all cores]")
    parser.add_argument("--formats", default="csv,parquet")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.rows.split(",") if s.strip()]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    OUT.mkdir(parents=True, exist_ok=True)
    paths = models()
    lines = []
    for fmt in formats:
        tiny = csv_data(1_000) if fmt == "csv" else parquet_data(1_000)
        startup = {name: _median([run_score(tiny, model, fmt, args.threads) for _ in range(args.repeats)])[0]
                   for name, model in paths.items()}
        for rows in sizes:
            data = csv_data(rows) if fmt == "csv" else parquet_data(rows)
            repeats = 1 if rows >= 5_000_000 else args.repeats
            raw_s, raw_mib = _median([run_pyarrow(data, fmt) for _ in range(repeats)])
            for name, model in paths.items():
                score_s, score_mib = _median([run_score(data, model, fmt, args.threads) for _ in range(repeats)])
                lines.append(f"| {name} | {fmt} | {rows:,} | {score_s:.2f} | {startup[name]:.2f} | "
                             f"{rows / score_s:,.0f} | {raw_s:.2f} | {score_s / raw_s:.1f}× | {score_mib:.0f} | "
                             f"{raw_mib:.0f} |")
                print(lines[-1], file=sys.stderr, flush=True)
    print("\n| model | format | rows | `pmmlkit score` (s) | of which startup (s) | rows/s | "
          "pyarrow read + write (s) | ratio | score peak RSS (MiB) | pyarrow peak RSS (MiB) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
