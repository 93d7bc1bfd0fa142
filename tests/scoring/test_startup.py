"""What `pmmlkit score` costs besides scoring: the modules it imports, how it writes Parquet (issue 19)."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq

from pmmlkit import Evaluator
from pmmlkit.scoring.batch import score_file
from tests.docs import logistic_pmml

# Nothing of training, serving or reporting, and no progress bar when stderr is not a terminal.
_NOT_NEEDED = ("tqdm", "pyspark", "py4j", "starlette", "uvicorn", "pmmlkit.spark", "pmmlkit.serving.app",
               "pmmlkit.repository.store")
_RUN = """
import runpy, sys
sys.argv = ["pmmlkit", "score", sys.argv[1], "-m", sys.argv[2], "-o", sys.argv[3]]
try:
    runpy.run_module("pmmlkit", run_name="__main__")
except SystemExit as e:
    assert not e.code, e.code
print("imported:", *sorted(m for m in sys.modules if m.startswith({not_needed!r})))
"""


def _input(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("x1,x2,device\n0.5,3,ios\n1.5,4,web\n2.5,5,android\n")
    model = tmp_path / "m.pmml"
    model.write_bytes(logistic_pmml())
    return src, model


def test_score_imports_nothing_of_training_serving_or_the_progress_bar(tmp_path):
    src, model = _input(tmp_path)
    code = _RUN.format(not_needed=_NOT_NEEDED)
    done = subprocess.run([sys.executable, "-c", code, str(src), str(model), str(tmp_path / "out.parquet")],
                          capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    assert done.stdout.splitlines()[-1] == "imported:"
    assert (tmp_path / "out.parquet").exists()


def test_parquet_scores_are_written_without_a_dictionary_and_categories_with_one(tmp_path):
    src, model = _input(tmp_path)
    out = tmp_path / "out.parquet"
    ev = Evaluator.load(model, backend="native", threads=1)
    score_file(ev, str(src), str(out), keep=("device",), progress=False)
    meta = pq.ParquetFile(out).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(meta.num_columns)}
    assert not any("DICTIONARY" in e for e in encodings["probability(yes)"]), encodings
    assert any("DICTIONARY" in e for e in encodings["device"]), encodings
    expected = ev.predict_batch(pd.read_csv(src, dtype=str))["probability(yes)"]
    assert pq.read_table(out).column("probability(yes)").to_pylist() == expected.tolist()
