"""Scorecard speed: the native backend vs JPMML-Evaluator, and the cost of explain=True.

Two documents: what a real producer writes (optbinning's Scorecard exported by sklearn2pmml:
5 Characteristics, 42 Attributes, no reason codes) and the PMML 4.4 specification's example
(reason codes ranked, a ComplexPartialScore). Batches through ``predict_batch``, records
through ``predict``; medians of ``--repeats`` batch runs and of ``--records`` record calls.

    .venv/bin/python -m benchmarks bench_scorecard
    .venv/bin/python -m benchmarks.bench_scorecard --rows 20000 --records 100   # a short dev run
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.timing import median_seconds, record_latency_us

DMG = Path(__file__).resolve().parents[1] / "tests/evaluator/native_data/scorecards/dmg_example.pmml"


def _optbinning() -> tuple[bytes, pd.DataFrame] | None:
    """The fitted optbinning Scorecard as PMML, and its inputs; None without optbinning."""
    try:
        from optbinning import BinningProcess, Scorecard
    except ImportError:
        return None
    from sklearn.linear_model import LogisticRegression
    from sklearn2pmml.pipeline import PMMLPipeline

    from tests.conformance.sklearn_producer import SkLearn2PMML
    from tests.evaluator.test_scorecard_optbinning import FIELDS, _data

    X, y = _data()
    card = Scorecard(binning_process=BinningProcess(FIELDS, categorical_variables=["grade"]),
                     estimator=LogisticRegression(), scaling_method="min_max",
                     scaling_method_params={"min": 300, "max": 850})
    pipeline = PMMLPipeline([("scorecard", card)]).fit(X, pd.Series(y, name="malignant"))
    converter = SkLearn2PMML(Path(tempfile.mkdtemp(prefix="bench-scorecard-")))
    try:
        return converter.convert(pipeline, "optbinning"), X
    finally:
        converter.close()


def _dmg_rows(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"department": rng.choice(np.array(["marketing", "engineering", "business", None],
                                                           dtype=object), n),
                         "age": rng.integers(15, 70, n).astype(float),
                         "income": rng.uniform(0, 4000, n).round(2)})




def _measure(raw: bytes, rows: pd.DataFrame, backend: str, args: argparse.Namespace,
             explain: bool = False) -> tuple[float, float]:
    """(rows per second of a batch, record p50 in µs)."""
    from pmmlkit import Evaluator

    ev = Evaluator.from_bytes(raw, backend=backend)
    ev.predict_batch(rows.head(100), errors="column", explain=explain)  # warm: JVM, memos
    batch = median_seconds(lambda: ev.predict_batch(rows, errors="column", explain=explain), args.repeats)
    records = [{k: (None if v != v else v) for k, v in r.items()} for r in rows.head(args.records).to_dict("records")]
    return len(rows) / batch, record_latency_us(lambda r: ev.predict(r, explain=explain), records, warm=0)[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_scorecard")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    docs = {"PMML 4.4 example (reason codes)": (DMG.read_bytes(), _dmg_rows(args.rows))}
    found = _optbinning()
    if found is not None:
        raw, X = found
        docs["optbinning via sklearn2pmml"] = (raw, pd.concat([X] * (args.rows // len(X) + 1),
                                                              ignore_index=True).head(args.rows))
    else:
        print("(optbinning is not installed: its document is left out)\n")
    print(f"{args.rows} rows a batch (median of {args.repeats}), record p50 over {args.records} records\n")
    print("| document | native rows/s | jpmml rows/s | native / jpmml | native record p50 (µs) | "
          "jpmml record p50 (µs) | native explain=True rows/s | explain record p50 (µs) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (raw, rows) in docs.items():
        native, jpmml = _measure(raw, rows, "native", args), _measure(raw, rows, "jpmml", args)
        explained = _measure(raw, rows, "native", args, explain=True)
        print(f"| {name} | {native[0]:,.0f} | {jpmml[0]:,.0f} | {native[0] / jpmml[0]:.1f}x | {native[1]:.0f} | "
              f"{jpmml[1]:.0f} | {explained[0]:,.0f} | {explained[1]:.0f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
