"""Files as people have them (issue 18.3): compressed, ;- or tab-separated, to stdout, named clearly."""
from __future__ import annotations

import bz2
import gzip
import lzma
import os

import pandas as pd
import pytest
from click.testing import CliRunner

from pmmlkit import Evaluator
from pmmlkit.cli import main
from pmmlkit.errors import ConfigError, InputFileError
from pmmlkit.scoring.batch import score_file
from tests.docs import logistic_pmml

ROWS = "id,x1,x2,device\n1,0.5,3,ios\n2,0.25,4,web\n3,0.5,3,tablet\n"


@pytest.fixture(scope="module")
def ev():
    return Evaluator.from_bytes(logistic_pmml(), backend="native")


def _plain(ev, tmp_path) -> str:
    (tmp_path / "plain.csv").write_text(ROWS)
    score_file(ev, str(tmp_path / "plain.csv"), str(tmp_path / "plain.out.csv"), keep=("id",), max_errors=1)
    return (tmp_path / "plain.out.csv").read_text()


def _arrow_codec(codec: str):
    def compress(data: bytes) -> bytes:
        import pyarrow as pa

        sink = pa.BufferOutputStream()
        with pa.CompressedOutputStream(sink, codec) as out:
            out.write(data)
        return sink.getvalue().to_pybytes()
    return compress


@pytest.mark.parametrize("suffix,compress", [(".gz", gzip.compress), (".bz2", bz2.compress),
                                             (".xz", lzma.compress), (".zst", _arrow_codec("zstd")),
                                             (".lz4", _arrow_codec("lz4"))])
def test_compressed_csv_scores_as_the_plain_file(tmp_path, ev, suffix, compress):
    src = tmp_path / f"in.csv{suffix}"
    src.write_bytes(compress(ROWS.encode()))
    s = score_file(ev, str(src), str(tmp_path / "out.csv"), keep=("id",), max_errors=1)
    assert (s.input_rows, s.output_rows, s.rejected_rows) == (3, 2, 1)
    assert (tmp_path / "out.csv").read_text() == _plain(ev, tmp_path)
    assert pd.read_csv(tmp_path / "out.rejects.csv")["row"].tolist() == [2]  # rows count from 0


def test_a_truncated_or_empty_compressed_file_is_one_line(tmp_path, ev):
    src = tmp_path / "in.csv.gz"
    src.write_bytes(gzip.compress((ROWS + "4,0.5,3,ios\n" * 500_000).encode())[:-200])  # past the first block
    with pytest.raises(InputFileError, match=r"in.csv.gz: cannot read the gzip-compressed CSV .*complete"):
        score_file(ev, str(src), str(tmp_path / "out.csv"), max_errors=10 ** 6)
    assert not (tmp_path / "out.csv").exists()
    src.write_bytes(gzip.compress(b""))
    with pytest.raises(InputFileError, match="is empty: a CSV input needs a header line"):
        score_file(ev, str(src), str(tmp_path / "out.csv"))
    src.write_bytes(b"not gzip at all")
    with pytest.raises(InputFileError, match="cannot read it as gzip-compressed data"):
        score_file(ev, str(src), str(tmp_path / "out.csv"))


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_delimiter_is_sniffed_and_said(tmp_path, ev, delimiter):
    src = tmp_path / "in.csv"
    src.write_text(ROWS.replace(",", delimiter))
    s = score_file(ev, str(src), str(tmp_path / "out.csv"), keep=("id",), max_errors=1)
    assert "(detected; --delimiter to choose another)" in s.input_note and repr(delimiter) in s.input_note
    assert (tmp_path / "out.csv").read_text() == _plain(ev, tmp_path)


def test_an_explicit_delimiter_wins_and_a_bad_one_is_refused(tmp_path, ev):
    src = tmp_path / "in.csv"
    src.write_text(ROWS.replace(",", ";").replace("0.5", "0,5").replace("0.25", "0,25"))
    with pytest.raises(ConfigError, match="--delimiter"):
        score_file(ev, str(src), str(tmp_path / "out.csv"), delimiter=";;")
    s = score_file(ev, str(src), str(tmp_path / "out.csv"), keep=("id",), delimiter=";", max_errors=3)
    assert s.input_note.endswith("(given)")
    assert s.rejected_rows == 3  # "0,5" is not a number: the decimal comma is the user's to fix


def test_unknown_or_compressed_output_names_are_refused_before_anything_is_written(tmp_path, ev):
    (tmp_path / "in.csv").write_text(ROWS)
    for name, message in (("x.json", "cannot tell the format of the output '.*x.json' from its extension"),
                          ("x.csv.gz", "asks for gzip compression")):
        with pytest.raises(ConfigError, match=message):
            score_file(ev, str(tmp_path / "in.csv"), str(tmp_path / name), max_errors=1)
        assert not (tmp_path / name).exists()
    with pytest.raises(ConfigError, match="cannot tell the format of the input '.*x.json'"):
        score_file(ev, str(tmp_path / "x.json"), str(tmp_path / "out.csv"))


def test_dash_writes_csv_to_stdout_and_the_summary_to_stderr(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.pmml").write_bytes(logistic_pmml())
    (tmp_path / "in.csv").write_text(ROWS.replace(",", "\t"))
    result = CliRunner().invoke(main, ["score", "in.csv", "-m", "m.pmml", "-o", "-", "--keep", "id",
                                                       "--backend", "native", "--max-errors", "1"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "id,predicted_y,probability(yes),probability(no)"
    assert len(result.stdout.splitlines()) == 3
    assert "delimiter tab '\\t' (detected" in result.stderr and "3 rows in, 2 scored, 1 rejected" in result.stderr
    assert not os.path.exists("-")
    assert pd.read_csv("in.rejects.csv")["row"].tolist() == [2]  # rows count from 0


def test_the_command_takes_a_typed_backslash_t_for_a_tab(tmp_path):
    (tmp_path / "m.pmml").write_bytes(logistic_pmml())
    (tmp_path / "in.tsv").write_text(ROWS.replace(",", "\t"))
    result = CliRunner().invoke(main, ["score", str(tmp_path / "in.tsv"), "-m", str(tmp_path / "m.pmml"), "-o",
                                       str(tmp_path / "out.csv"), "--delimiter", "\\t", "--max-errors", "1"])
    assert result.exit_code == 0, result.output
    assert "delimiter tab '\\t' (given)" in result.stdout and "3 rows in, 2 scored, 1 rejected" in result.stdout


def test_diff_reads_data_as_score_does(tmp_path):
    (tmp_path / "m.pmml").write_bytes(logistic_pmml())
    (tmp_path / "in.csv").write_text(ROWS.replace(",", ";"))
    result = CliRunner().invoke(main, ["diff", "-m", str(tmp_path / "m.pmml"), str(tmp_path / "in.csv"),
                                       "--backends", "native,native"])
    assert result.exit_code == 0, result.output
    assert "3 rows, reference backend native" in result.output
