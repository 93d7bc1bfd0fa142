"""Distributed scoring follows the own_column rule too: fields named row or error are data (issue 13)."""
from __future__ import annotations

import glob
import os

import pandas as pd

from pmmlkit.scoring.spark import score_spark
from tests.docs import logistic_pmml


def _csv_dir(path: str) -> pd.DataFrame:
    parts = sorted(glob.glob(os.path.join(path, "part-*.csv")))
    return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts], ignore_index=True)


def test_a_target_named_error_and_an_input_named_row(spark, tmp_path):
    pmml = logistic_pmml().replace(b'name="y"', b'name="error"').replace(b'"x1"', b'"row"')
    src = tmp_path / "in.csv"
    src.write_text("row,x2,device,error\n0.5,3,ios,no\n0.5,3,tablet,no\nabc,3,web,yes\n")
    out = tmp_path / "out"
    s = score_spark(pmml, str(src), str(out), spark=spark, keep=("row",), max_errors=2, backend="native")
    assert (s.input_rows, s.output_rows, s.rejected_rows) == (3, 1, 2)
    good = _csv_dir(str(out))
    assert list(good.columns) == ["row", "predicted_error", "probability(yes)", "probability(no)"]
    assert good["predicted_error"].tolist() == ["no"]  # the prediction, under its published name
    bad = _csv_dir(s.rejects_path)
    assert list(bad.columns) == ["_row", "_error", "row", "x2", "device", "error", "raw"]
    assert bad["_row"].tolist() == ["1", "2"] and bad["row"].tolist() == ["0.5", "abc"]
    assert bad["_error"][0] == "row 1: field 'device': value 'tablet' is not one of ['android', 'ios', 'web']"
