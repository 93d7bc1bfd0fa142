"""Batch scoring: every row accounted for, order kept, atomic output."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import TooManyRejectsError
from pmmlkit.scoring.batch import score_file
from tests.docs import logistic_expected, logistic_pmml

GOOD = "id,x1,x2,device\n" + "".join(f"{i},{0.1 * i},{i % 100},{['android', 'ios', 'web'][i % 3]}\n"
                                     for i in range(1, 251))


@pytest.fixture(scope="module")
def ev():
    return Evaluator.from_bytes(logistic_pmml(), backend="jpmml")


def test_every_row_scored_in_order_across_chunks(tmp_path, ev):
    src = tmp_path / "in.csv"
    src.write_text(GOOD)
    out = tmp_path / "out.csv"
    s = score_file(ev, str(src), str(out), keep=("id",), chunk_rows=64)
    assert (s.input_rows, s.output_rows, s.rejected_rows) == (250, 250, 0)
    got = pd.read_csv(out)
    assert list(got.columns) == ["id", "predicted_y", "probability(yes)", "probability(no)"]
    assert got["id"].tolist() == list(range(1, 251))
    expected = [logistic_expected(0.1 * i, i % 100, ["android", "ios", "web"][i % 3]) for i in range(1, 251)]
    np.testing.assert_allclose(got["probability(yes)"], expected, rtol=1e-12)
    assert not (tmp_path / "out.rejects.csv").exists()


@pytest.mark.parametrize("chunk_rows", [2, 100_000])
def test_bad_rows_and_malformed_lines_are_rejects_not_crashes(tmp_path, ev, chunk_rows):
    src = tmp_path / "in.csv"
    src.write_text("id,x1,x2,device\n"
                   "1,0.5,3,ios\n"
                   "2,abc,3,ios\n"          # not a number
                   "3,0.5,3,ios,extra\n"    # too many fields
                   "4,0.5,3,tablet\n"       # not a valid category
                   "5,,4,web\n"             # missing x1: replaced, scored
                   "6,0.5\n"                # too few fields
                   "7,0.5,2.5,web\n")       # not an integer
    out = tmp_path / "out.csv"
    rejects = tmp_path / "rejects.csv"
    with pytest.raises(TooManyRejectsError, match="5 row\\(s\\) rejected, 0 allowed"):
        score_file(ev, str(src), str(out), rejects_path=str(rejects), keep=("id",), chunk_rows=chunk_rows)
    good = pd.read_csv(out)
    bad = pd.read_csv(rejects)
    assert len(good) + len(bad) == 7
    assert good["id"].tolist() == [1, 5]
    # Row numbers count from 0 (errors.FIRST_ROW): the line holding id N is row N - 1.
    assert sorted(bad["row"].tolist()) == [1, 2, 3, 5, 6]
    reasons = dict(zip(bad["row"], bad["error"]))
    assert reasons[1] == "row 1: field 'x1': value 'abc' is not a number; expected type double"
    assert reasons[2] == "malformed CSV line: expected 4 fields, found 5"
    assert reasons[3] == "row 3: field 'device': value 'tablet' is not one of ['android', 'ios', 'web']"
    assert reasons[5] == "malformed CSV line: expected 4 fields, found 2"
    assert "is not an integer" in reasons[6]
    row3 = bad[bad["row"] == 3].iloc[0]
    assert (str(row3["x1"]), row3["device"]) == ("0.5", "tablet")  # the input values travel with the reason
    assert bad[bad["row"] == 2].iloc[0]["raw"] == "3,0.5,3,ios,extra"
    s = score_file(ev, str(src), str(out), rejects_path=str(rejects), keep=("id",), max_errors=5,
                   chunk_rows=chunk_rows)
    assert (s.input_rows, s.output_rows, s.rejected_rows) == (7, 2, 5)


def test_row_numbers_hold_across_parser_blocks(tmp_path):
    """A file of several 1 MiB parser blocks, regrouped into chunks that cut across them."""
    ev = Evaluator.from_bytes(logistic_pmml(), backend="native")
    lines, broken = ["id,x1,x2,device,note"], {5_001, 23_456, 47_999}
    for i in range(1, 50_001):
        note = "x" * 40  # long enough that the parser needs several blocks
        lines.append(f"{i},0.5,{i % 7}" if i in broken else f"{i},{i % 13 * 0.1},{i % 7},ios,{note}")
    src = tmp_path / "in.csv"
    src.write_text("\n".join(lines) + "\n")
    assert src.stat().st_size > 2 * (1 << 20)
    out, rejects = tmp_path / "out.csv", tmp_path / "rejects.csv"
    s = score_file(ev, str(src), str(out), rejects_path=str(rejects), keep=("id",), max_errors=3,
                   chunk_rows=7_000)
    assert (s.input_rows, s.output_rows, s.rejected_rows) == (50_000, 49_997, 3)
    good = pd.read_csv(out)
    assert good["id"].tolist() == [i for i in range(1, 50_001) if i not in broken]
    assert sorted(pd.read_csv(rejects)["row"]) == sorted(i - 1 for i in broken)  # id N is row N - 1
    expected = [logistic_expected(i % 13 * 0.1, i % 7, "ios") for i in good["id"]]
    np.testing.assert_allclose(good["probability(yes)"], expected, rtol=1e-12)


def test_failed_run_leaves_no_output_behind(tmp_path, ev):
    src = tmp_path / "in.csv"
    src.write_text(GOOD)
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    with pytest.raises(Exception, match="--keep column"):
        score_file(ev, str(src), str(out), keep=("nope",))
    assert out.read_text() == "previous results\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_parquet_in_and_out(tmp_path, ev):
    df = pd.read_csv(pd.io.common.StringIO(GOOD))
    src = tmp_path / "in.parquet"
    df.to_parquet(src)
    out = tmp_path / "out.parquet"
    s = score_file(ev, str(src), str(out), keep=("id",), chunk_rows=100)
    assert s.output_rows == 250
    got = pd.read_parquet(out)
    assert got["id"].tolist() == list(range(1, 251))
    assert got["probability(yes)"].dtype == np.float64
