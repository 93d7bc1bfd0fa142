"""`pmmlkit drift`: flags a shifted batch, passes an unshifted one, reads profiles and request logs."""
from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner

from pmmlkit.cli import main
from pmmlkit.insight import profile_frame

from .test_drift import COLUMNS, frame

PMML = b'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/></PMML>'


@pytest.fixture()
def published(repo):
    profile = profile_frame(frame(3000, seed=0), COLUMNS)
    repo.publish("ctr", PMML, files={"profile.json": profile.to_json().encode()})
    return repo


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_shifted_batch_exits_1_and_writes_the_report(published, tmp_path) -> None:
    data = tmp_path / "new.csv"
    frame(2000, seed=2, mean=52.0, oses=("ios", "android", "tablet")).to_csv(data, index=False)
    out = tmp_path / "report"
    result = run("drift", "-m", "ctr", str(data), "--repo", published.root, "-o", str(out))
    assert result.exit_code == 3, result.output
    assert "DRIFT  os: PSI" in result.output and "unseen value(s)" in result.output
    assert "2 of 2 field(s) drifted" in result.output
    assert json.loads((out / "drift.json").read_text())["drifted"] == ["os", "age"]


def test_unshifted_batch_exits_0(published, tmp_path) -> None:
    data = tmp_path / "same.parquet"
    frame(2000, seed=1).to_parquet(data)
    result = run("drift", "-m", "ctr:1", str(data), "--repo", published.root, "-o", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert "0 of 2 field(s) drifted" in result.output


def test_request_logs_folder_is_read(published, tmp_path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    rows = frame(1500, seed=2, mean=52.0).to_dict("records")
    for i, chunk in enumerate((rows[:700], rows[700:])):
        lines = "".join(json.dumps({"model": "ctr", "version": 1, "inputs": r, "outputs": {}}) + "\n" for r in chunk)
        if i:
            with gzip.open(logs / "requests-2.jsonl.gz", "wt") as fh:
                fh.write(lines)
        else:
            (logs / "requests-1.jsonl").write_text(lines)
    result = run("drift", "-m", "ctr", str(logs), "--repo", published.root, "-o", str(tmp_path / "r"))
    assert result.exit_code == 3 and "DRIFT  age" in result.output
    assert json.loads((tmp_path / "r" / "drift.json").read_text())["rows"] == 1500


def test_a_version_without_profile_says_what_to_do(repo, tmp_path) -> None:
    repo.publish("ctr", PMML)
    data = tmp_path / "x.csv"
    frame(10, seed=0).to_csv(data, index=False)
    result = CliRunner().invoke(main, ["drift", "-m", "ctr", str(data), "--repo", repo.root])
    assert result.exit_code == 1 and "published without a training profile" in result.output
    assert "--profile PATH" in result.output


def test_models_report_writes_the_published_page(repo, tmp_path) -> None:
    repo.publish("ctr", PMML, files={"report.html": b"<html><h1>ctr</h1></html>"})
    repo.publish("ctr", PMML)
    out = tmp_path / "r.html"
    result = run("models", "report", "-m", "ctr:1", "--repo", repo.root, "-o", str(out))
    assert result.exit_code == 0 and out.read_bytes() == b"<html><h1>ctr</h1></html>"
    result = CliRunner().invoke(main, ["models", "report", "-m", "ctr", "--repo", repo.root])
    assert result.exit_code == 1 and "ctr:2 was published without a training report" in result.output
