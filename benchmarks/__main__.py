"""`make bench`: every benchmark, one after the other, each comparing side by side in one run."""
from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = ("bench_evaluators", "bench_peers", "bench_score", "bench_server", "bench_protocols",
              "bench_distributed", "bench_embeddings", "bench_scorecard", "bench_explain_api",
              "bench_explain")


def main() -> None:
    only = sys.argv[1:] or BENCHMARKS
    for name in only:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n## {name}\n", flush=True)
        start = time.perf_counter()
        module.main([])
        print(f"\n({name} took {time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
