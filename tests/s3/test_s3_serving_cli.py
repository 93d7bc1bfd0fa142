"""Serving and the CLI over a repository on S3 (moto server): the same URL works everywhere."""
from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from pmmlkit.cli import main
from tests import docs

TOL = 1e-9  # one logistic in double precision on each side


@pytest.fixture()
def published(s3_repo):
    s3_repo.publish("clf", docs.versioned_pmml(1))
    return s3_repo


@pytest.mark.anyio
async def test_server_loads_and_switches_versions_from_s3(published):
    import httpx

    from pmmlkit.serving import ServerConfig, create_app

    app = create_app(published, config=ServerConfig(backend="jpmml", poll_seconds=0))
    rec = docs.color_record(x1=0.5, x2=-1.0, color="green")
    try:
        app.state.models.poll()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            r = await client.post("/v1/models/clf:predict", json={"instances": [rec]})
            assert r.status_code == 200, r.text
            assert r.json()["model_version"] == "1"
            assert r.json()["predictions"][0]["probability(1)"] == pytest.approx(
                docs.versioned_p1(rec, 1), abs=TOL)
            published.publish("clf", docs.versioned_pmml(2))
            app.state.models.poll()
            r = await client.post("/v1/models/clf:predict", json={"instances": [rec]})
            assert r.json()["model_version"] == "2"
            assert r.json()["predictions"][0]["probability(1)"] == pytest.approx(
                docs.versioned_p1(rec, 2), abs=TOL)
    finally:
        app.state.models.close()


def test_cli_lists_and_scores_from_s3(published, s3_root, tmp_path):
    runner = CliRunner()
    listed = runner.invoke(main, ["models", "list", "--repo", s3_root])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[1].split()[:3] == ["clf", "1", "1"]
    recs = [docs.color_record(x1=float(i), x2=1.0 - i, color=c)
            for i, c in enumerate(["red", "green", "blue", "red"])]
    pd.DataFrame(recs).to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "out.csv"
    scored = runner.invoke(main, ["score", str(tmp_path / "in.csv"), "-m", "clf", "-o", str(out),
                                  "--repo", s3_root, "--backend", "jpmml"])
    assert scored.exit_code == 0, scored.output
    assert "4 rows in, 4 scored, 0 rejected" in scored.output
    got = pd.read_csv(out)["probability(1)"].tolist()
    assert got == pytest.approx([docs.versioned_p1(r, 1) for r in recs], abs=TOL)


def test_fsspec_endpoint_variable_works_too(published, s3_root, s3_endpoint):
    """Either AWS_ENDPOINT_URL (botocore) or FSSPEC_S3_ENDPOINT_URL (fsspec config) points at the server."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env["FSSPEC_S3_ENDPOINT_URL"] = s3_endpoint
    proc = subprocess.run([sys.executable, "-m", "pmmlkit", "models", "show", "-m", "clf:1", "--repo", s3_root],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f'"uri": "{s3_root}/clf/1/model.pmml"' in proc.stdout
