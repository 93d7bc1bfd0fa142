"""spark-submit entry point: train a spec with the session spark-submit made.

    spark-submit --jars "$(ls jars/*.jar | paste -sd,)" spark_jobs/train_job.py spec.yaml --repo s3://bucket/models
"""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train a pmmlkit spec on this Spark cluster and publish it.")
    parser.add_argument("spec", help="training spec (YAML or JSON)")
    parser.add_argument("--repo", default=None, help="model repository root (default: env PMMLKIT_REPO or ./models)")
    parser.add_argument("--name", default=None, help="override the model name")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    from pmmlkit.errors import PmmlkitError
    from pmmlkit.spark.training import train

    # spark-submit already configured master, jars and resources: use its session as is.
    spark = SparkSession.builder.getOrCreate()
    try:
        version = train(args.spec, repo=args.repo, overrides={"name": args.name}, spark=spark)
    except PmmlkitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"published {version.ref}")
    for metric, value in version.manifest.metrics.items():
        print(f"  {metric} = {value:.6g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
