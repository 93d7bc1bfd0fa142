"""Distributed scoring on the shared local[2] session equals local streaming scoring, row for row."""
from __future__ import annotations

import glob
import os

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pmmlkit.evaluator import Evaluator
from pmmlkit.scoring.batch import score_file
from pmmlkit.scoring.spark import score_spark
from tests import docs

PMML = docs.versioned_pmml(1)
PROB_TOL = 1e-12  # the same Evaluator code on both sides; only float text round trips differ


def _input_frame(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"id": [f"r{i}" for i in range(n)],
                       "x1": rng.normal(size=n).round(6).astype(str),
                       "x2": rng.normal(size=n).astype(str),
                       "color": rng.choice(["red", "green", "blue"], n)})
    bad = {(7, "x1"): "abc",          # not a number
           (1500, "color"): "purple",  # invalid value: returnInvalid
           (2999, "x2"): "nan",        # NaN is not a number to the contract
           (12, "x2"): ""}             # missing: scores as missing, not rejected
    for (row, col), value in bad.items():
        if row < n:
            df.loc[row, col] = value
    return df


@pytest.fixture()
def small_partitions(spark):
    """Several partitions from one small file, so row numbering crosses partition borders."""
    key = "spark.sql.files.maxPartitionBytes"
    before = spark.conf.get(key)
    spark.conf.set(key, "24k")
    yield
    spark.conf.set(key, before)


def _read_dir(path: str, fmt: str) -> pd.DataFrame:
    parts = sorted(glob.glob(os.path.join(path, f"part-*.{fmt}")) + glob.glob(os.path.join(path, f"part-*.{fmt}.*")))
    assert parts, f"no part files in {path}: {os.listdir(path)}"
    if fmt == "parquet":
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts], ignore_index=True)


def _floats(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column.replace("", np.nan)).to_numpy(dtype=float)  # CSV: missing is ""


def _assert_same_results(local: pd.DataFrame, dist: pd.DataFrame) -> None:
    assert list(dist.columns) == list(local.columns)
    assert len(dist) == len(local)
    for col in local.columns:
        if col.startswith("probability"):
            np.testing.assert_allclose(_floats(dist[col]), _floats(local[col]), rtol=0, atol=PROB_TOL)
        else:
            assert dist[col].astype(str).tolist() == local[col].astype(str).tolist(), col


@pytest.mark.parametrize("out_fmt", ["parquet", "csv"])
def test_spark_scoring_equals_local_scoring(spark, small_partitions, tmp_path, out_fmt):
    src = tmp_path / "in.csv"
    _input_frame().to_csv(src, index=False)
    ev = Evaluator.from_bytes(PMML, backend="auto")
    local = score_file(ev, str(src), str(tmp_path / f"local.{out_fmt}"), keep=("id",), max_errors=10)
    out = str(tmp_path / f"dist.{out_fmt}")
    dist = score_spark(PMML, str(src), out, spark=spark, keep=("id",), max_errors=10)
    assert spark.read.csv(str(src), header=True).rdd.getNumPartitions() > 1  # the border case is exercised
    assert (dist.input_rows, dist.output_rows, dist.rejected_rows) == (3000, 2997, 3)
    assert dist.input_rows == dist.output_rows + dist.rejected_rows
    assert (local.input_rows, local.output_rows, local.rejected_rows) == (3000, 2997, 3)
    local_out = (pd.read_parquet(local.output_path) if out_fmt == "parquet"
                 else pd.read_csv(local.output_path, dtype=str, keep_default_na=False))
    _assert_same_results(local_out, _read_dir(out, out_fmt))
    local_rejects = pd.read_csv(local.rejects_path, dtype=str, keep_default_na=False)
    dist_rejects = _read_dir(dist.rejects_path, "csv")
    assert dist.rejects_path == out + "_rejects"
    assert dist_rejects["row"].tolist() == ["7", "1500", "2999"]  # the frame's own index: rows count from 0
    pd.testing.assert_frame_equal(dist_rejects, local_rejects[dist_rejects.columns])
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]  # temp folders renamed or removed


def test_a_folder_of_files_numbers_rows_within_each_file(spark, small_partitions, tmp_path):
    """Spark splits the bigger files and packs blocks of several files per partition; reject
    row numbers still count the lines of their own file, as local scoring of that file does."""
    folder = tmp_path / "day"
    folder.mkdir()
    ev = Evaluator.from_bytes(PMML, backend="auto")
    local_out, local_rejects = [], []
    for k, (name, n) in enumerate({"a.csv": 3000, "b.csv": 400, "c.csv": 1700}.items()):
        df = _input_frame(n, seed=10 + k)
        df["id"] = [f"{name}:{i + 1}" for i in range(n)]
        df.to_csv(folder / name, index=False)
        local = score_file(ev, str(folder / name), str(tmp_path / f"{name}.out.csv"), keep=("id",), max_errors=10)
        local_out.append(pd.read_csv(local.output_path, dtype=str, keep_default_na=False))
        rejects = pd.read_csv(local.rejects_path, dtype=str, keep_default_na=False)
        local_rejects.append(rejects.assign(file=name))
    assert spark.read.csv(str(folder), header=True).rdd.getNumPartitions() > 3
    out = str(tmp_path / "dist.csv")
    dist = score_spark(PMML, str(folder), out, spark=spark, keep=("id",), max_errors=10)
    assert (dist.input_rows, dist.rejected_rows) == (5100, 3 + 1 + 2)
    dist_rejects = _read_dir(dist.rejects_path, "csv")
    assert list(dist_rejects.columns[:3]) == ["file", "row", "error"]
    dist_rejects["file"] = dist_rejects["file"].map(os.path.basename)
    expected = pd.concat(local_rejects, ignore_index=True)[dist_rejects.columns]
    pd.testing.assert_frame_equal(dist_rejects, expected)  # ordered by file, then row
    by_id = lambda frame: frame.sort_values("id").reset_index(drop=True)  # noqa: E731
    _assert_same_results(by_id(pd.concat(local_out, ignore_index=True)), by_id(_read_dir(out, "csv")))


def test_parquet_input_keeps_stored_types_like_local(spark, tmp_path):
    df = _input_frame(200).drop(index=[7, 12]).reset_index(drop=True)
    df["x1"], df["x2"] = df["x1"].astype(float), df["x2"].astype(float)
    src = str(tmp_path / "in.parquet")
    df.to_parquet(src, index=False)
    ev = Evaluator.from_bytes(PMML, backend="auto")
    local = score_file(ev, src, str(tmp_path / "local.parquet"), max_errors=10)
    dist = score_spark(PMML, src, str(tmp_path / "dist.parquet"), spark=spark, max_errors=10)
    assert (dist.input_rows, dist.output_rows, dist.rejected_rows) == (198, 198, 0)
    _assert_same_results(pd.read_parquet(local.output_path), _read_dir(dist.output_path, "parquet"))


def test_malformed_csv_lines_are_rejected_with_their_line_numbers(spark, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("x1,x2,color\n1,2,red\n3,4\n5,6,blue,extra\n\n7,8,green\n")
    out = str(tmp_path / "out.csv")
    s = score_spark(PMML, str(src), out, spark=spark, max_errors=2)
    assert (s.input_rows, s.output_rows, s.rejected_rows) == (4, 2, 2)
    rejects = _read_dir(s.rejects_path, "csv")
    assert rejects["row"].tolist() == ["1", "2"]  # data rows from 0; the blank line is skipped, as locally
    assert rejects["error"].tolist() == ["malformed CSV line: expected 3 fields, found 2",
                                         "malformed CSV line: expected 3 fields, found 4"]
    assert rejects["raw"].tolist() == ["3,4", "5,6,blue,extra"]
    local = score_file(Evaluator.from_bytes(PMML), str(src), str(tmp_path / "local.csv"), max_errors=2)
    pd.testing.assert_frame_equal(rejects, pd.read_csv(local.rejects_path, dtype=str, keep_default_na=False))
    _assert_same_results(pd.read_csv(local.output_path, dtype=str, keep_default_na=False), _read_dir(out, "csv"))


def test_too_many_rejects_fails_after_writing(spark, tmp_path):
    from pmmlkit.errors import TooManyRejectsError

    src = tmp_path / "in.csv"
    _input_frame(50).to_csv(src, index=False)
    with pytest.raises(TooManyRejectsError):
        score_spark(PMML, str(src), str(tmp_path / "out.csv"), spark=spark, max_errors=0)
    assert os.path.isdir(tmp_path / "out.csv_rejects")


def test_cli_engine_spark_reuses_the_active_session(spark, repo, tmp_path):
    repo.publish("clf", PMML)
    src = tmp_path / "in.csv"
    _input_frame(100).to_csv(src, index=False)
    out = str(tmp_path / "scored")
    result = CliRunner().invoke(
        __import__("pmmlkit.cli", fromlist=["main"]).main,
        ["score", str(src), "-m", "clf", "-o", out, "--engine", "spark", "--repo", repo.root,
         "--max-errors", "5", "--keep", "id"])
    assert result.exit_code == 0, result.output
    assert "100 rows in, 99 scored, 1 rejected" in result.output
    assert _read_dir(out, "csv")["id"].tolist() == [f"r{i}" for i in range(100) if i != 7]


def test_score_job_entry_point_uses_the_submitted_session(spark, repo, tmp_path, capsys):
    """spark_jobs/score_job.py as spark-submit runs it; getOrCreate returns the session already running."""
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), "..", "..", "spark_jobs", "score_job.py")
    module_spec = importlib.util.spec_from_file_location("score_job", path)
    job = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(job)
    repo.publish("clf", PMML)
    src = tmp_path / "in.csv"
    _input_frame(60).to_csv(src, index=False)
    out = str(tmp_path / "scored.parquet")
    assert job.main([str(src), "-m", "clf:1", "-o", out, "--repo", repo.root, "--keep", "id",
                     "--max-errors", "1"]) == 0
    assert "60 rows in, 59 scored, 1 rejected" in capsys.readouterr().out
    assert len(_read_dir(out, "parquet")) == 59
    assert job.main([str(src), "-m", "clf:1", "-o", out, "--repo", repo.root]) == 1  # 1 reject > 0 allowed
