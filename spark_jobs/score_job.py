"""spark-submit entry point: score a CSV/Parquet input on this cluster with a pmmlkit model.

    spark-submit --conf spark.pyspark.python=/path/to/venv/bin/python \
        spark_jobs/score_job.py INPUT -m ctr@stable -o OUTPUT [--repo s3://bucket/models]

Executors run pmmlkit's Python Evaluator (no jar needed); their Python must have pmmlkit.
"""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score a file on this Spark cluster with a pmmlkit model.")
    parser.add_argument("input", help="CSV or Parquet file/folder")
    parser.add_argument("-m", "--model", required=True, help="NAME, NAME:VERSION, NAME@LABEL or a .pmml path")
    parser.add_argument("-o", "--output", required=True, help="output folder (.parquet suffix = Parquet, else CSV)")
    parser.add_argument("--rejects", default=None, help="rejects folder (default: OUTPUT_rejects)")
    parser.add_argument("--keep", action="append", default=[], help="input column to pass through (repeatable)")
    parser.add_argument("--max-errors", type=int, default=0, help="rejected rows allowed before exit status 1")
    parser.add_argument("--backend", default="auto", help="Evaluator backend on the executors")
    parser.add_argument("--repo", default=None, help="model repository root (default: env PMMLKIT_REPO or ./models)")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    from pmmlkit.errors import PmmlkitError
    from pmmlkit.evaluator import read_ref
    from pmmlkit.scoring.spark import score_spark

    # spark-submit already configured master and resources: use its session as is.
    spark = SparkSession.builder.getOrCreate()
    try:
        raw, source, _ = read_ref(args.model, repo=args.repo)
        s = score_spark(raw, args.input, args.output, spark=spark, source=source, backend=args.backend,
                        rejects_path=args.rejects, keep=tuple(args.keep), max_errors=args.max_errors)
    except PmmlkitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{s.input_rows} rows in, {s.output_rows} scored, {s.rejected_rows} rejected in {s.seconds:.2f}s")
    print(f"output: {s.output_path}" + (f"\nrejects: {s.rejects_path}" if s.rejects_path else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
