"""`pmmlkit score --explain` and score_file(explain=True): explanation columns after the results."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
from click.testing import CliRunner

from pmmlkit import Evaluator
from pmmlkit.cli import main
from pmmlkit.scoring.batch import score_file
from tests.docs import versioned_pmml

COLORS = ["red", "green", "blue"]
EXPLAINED = ["raw_score", "base_score", "contribution_x1", "contribution_x2", "contribution_color"]


def rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": np.arange(n), "x1": rng.normal(0, 1, n).round(3), "x2": rng.normal(1, 2, n).round(3),
                         "color": rng.choice(COLORS, n)})


def test_score_file_explains_every_row_as_predict_batch_does(tmp_path):
    data = rows(300, seed=4)
    data.loc[5, "color"] = "purple"  # a reject: no output row, so no explanation either
    data.to_csv(tmp_path / "in.csv", index=False)
    bg = rows(80, seed=5)
    ev = Evaluator.from_bytes(versioned_pmml(1), backend="native", background=bg)
    for threads, name in ((1, "one.csv"), (2, "two.csv")):
        s = score_file(ev, str(tmp_path / "in.csv"), str(tmp_path / name), keep=("id",), max_errors=1,
                       chunk_rows=64, threads=threads, explain=True)
        assert (s.output_rows, s.rejected_rows) == (299, 1)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    out = pd.read_csv(tmp_path / "one.csv", float_precision="round_trip")
    assert list(out.columns) == ["id", *ev.result_names, *EXPLAINED]
    good = data.drop(index=5)
    want = ev.predict_batch(good.drop(columns="id"), explain=True)
    np.testing.assert_allclose(out[EXPLAINED].to_numpy(), want[EXPLAINED].to_numpy(), rtol=1e-15, atol=0)
    total = out["base_score"] + out[EXPLAINED[2:]].sum(axis=1)
    assert (total - out["raw_score"]).abs().max() < 1e-9


def test_cli_takes_the_versions_background_or_background(tmp_path, repo):
    rows(20, seed=6).to_csv(tmp_path / "in.csv", index=False)
    bg = rows(50, seed=7)
    buf = io.BytesIO()
    bg.drop(columns="id").to_parquet(buf)
    repo.publish("clf", versioned_pmml(1), files={"background.parquet": buf.getvalue()})
    bg.to_csv(tmp_path / "bg.csv", index=False)
    common = ["score", str(tmp_path / "in.csv"), "--repo", repo.root, "--explain", "--keep", "id"]
    first = CliRunner().invoke(main, [*common, "-m", "clf", "-o", str(tmp_path / "a.csv")])
    second = CliRunner().invoke(main, [*common, "-m", "clf", "-o", str(tmp_path / "b.csv"),
                                       "--background", str(tmp_path / "bg.csv")])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert list(a.columns) == ["id", "predicted_y", "probability(0)", "probability(1)", *EXPLAINED]
    pd.testing.assert_frame_equal(a, b)  # the same rows, from the repository or from the file


def test_cli_refusals_are_one_line(tmp_path):
    rows(5, seed=8).to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "m.pmml").write_bytes(versioned_pmml(1))
    base = ["score", str(tmp_path / "in.csv"), "-m", str(tmp_path / "m.pmml"), "-o", str(tmp_path / "o.csv")]
    r = CliRunner().invoke(main, [*base, "--explain"])
    assert r.exit_code != 0 and "needs background rows" in r.output and not (tmp_path / "o.csv").exists()
    r = CliRunner().invoke(main, [*base, "--background", str(tmp_path / "in.csv")])
    assert r.exit_code != 0 and "--background" in r.output and "needs --explain" in r.output
    r = CliRunner().invoke(main, [*base, "--explain", "--engine", "spark"])
    assert r.exit_code != 0 and "--explain" in r.output and "applies to --engine local" in r.output
