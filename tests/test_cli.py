"""The score, inspect and validate commands, run for real on temp folders."""
from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from pmmlkit.cli import main
from pmmlkit.repository.store import Repository
from tests.docs import logistic_pmml


def _published(tmp_path) -> str:
    root = str(tmp_path / "models")
    Repository(root).publish("churn", logistic_pmml(), manifest={})
    return root


def test_score_from_repository(tmp_path):
    root = _published(tmp_path)
    (tmp_path / "in.csv").write_text("id,x1,x2,device\n1,0.5,3,ios\n2,1.5,4,web\n3,x,4,web\n")
    r = CliRunner().invoke(main, ["score", str(tmp_path / "in.csv"), "-m", "churn", "-o",
                                  str(tmp_path / "out.csv"), "--keep", "id", "--repo", root,
                                  "--max-errors", "1", "--backend", "jpmml"])
    assert r.exit_code == 0, r.output
    assert "3 rows in, 2 scored, 1 rejected" in r.output
    assert pd.read_csv(tmp_path / "out.csv")["id"].tolist() == [1, 2]
    r = CliRunner().invoke(main, ["score", str(tmp_path / "in.csv"), "-m", "churn:1", "-o",
                                  str(tmp_path / "out.csv"), "--repo", root, "--backend", "jpmml"])
    assert r.exit_code == 1
    assert "1 row(s) rejected, 0 allowed" in r.output


def test_inspect_json(tmp_path):
    (tmp_path / "m.pmml").write_bytes(logistic_pmml())
    r = CliRunner().invoke(main, ["inspect", str(tmp_path / "m.pmml"), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["model_type"] == "RegressionModel"
    assert [f["name"] for f in info["inputs"]] == ["x1", "x2", "device"]
    assert info["inputs"][2]["values"] == ["android", "ios", "web"]


def test_validate_passes_and_fails(tmp_path):
    row = ('<ModelVerification><VerificationFields>'
           '<VerificationField field="x1"/><VerificationField field="x2"/><VerificationField field="device"/>'
           '<VerificationField field="probability(yes)" precision="1e-9"/></VerificationFields>'
           '<InlineTable><row><x1>0.5</x1><x2>3</x2><device>ios</device>'
           '<probability(yes)>{p}</probability(yes)></row></InlineTable></ModelVerification>')
    # XML names cannot hold parentheses; use a column alias as JPMML does.
    row = row.replace('field="probability(yes)"', 'field="probability(yes)" column="p_yes"') \
             .replace("<probability(yes)>", "<p_yes>").replace("</probability(yes)>", "</p_yes>")
    from tests.docs import logistic_expected
    good = logistic_pmml(verification=row.format(p=repr(logistic_expected(0.5, 3, "ios"))))
    bad = logistic_pmml(verification=row.format(p="0.9"))
    (tmp_path / "good.pmml").write_bytes(good)
    (tmp_path / "bad.pmml").write_bytes(bad)
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "good.pmml"), "--backend", "jpmml"])
    assert r.exit_code == 0, r.output
    assert "1 ModelVerification record(s) reproduced" in r.output
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "bad.pmml"), "--backend", "jpmml"])
    assert r.exit_code == 1
    assert "field 'probability(yes)': expected '0.9'" in r.output
    r = CliRunner().invoke(main, ["score", str(tmp_path / "x.csv"), "-m", str(tmp_path / "bad.pmml"),
                                  "-o", str(tmp_path / "o.csv"), "--backend", "jpmml"])
    assert r.exit_code == 1 and "does not reproduce its ModelVerification" in r.output
