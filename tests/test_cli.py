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
    r = CliRunner().invoke(main, ["inspect", "-m", str(tmp_path / "m.pmml"), "--json"])
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
    r = CliRunner().invoke(main, ["validate", "-m", str(tmp_path / "good.pmml"), "--backend", "jpmml"])
    assert r.exit_code == 0, r.output
    assert "1 ModelVerification record(s) reproduced" in r.output
    r = CliRunner().invoke(main, ["validate", "-m", str(tmp_path / "bad.pmml"), "--backend", "jpmml"])
    assert r.exit_code == 1
    assert "field 'probability(yes)': expected '0.9'" in r.output
    r = CliRunner().invoke(main, ["score", str(tmp_path / "x.csv"), "-m", str(tmp_path / "bad.pmml"),
                                  "-o", str(tmp_path / "o.csv"), "--backend", "jpmml"])
    assert r.exit_code == 1 and "does not reproduce its ModelVerification" in r.output


# --- coherence: one way to name a model, help everywhere, a reference that matches --help ----

def _commands(command=main, path=("pmmlkit",)):
    import click

    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


def test_every_option_has_help_and_every_model_option_is_dash_m():
    import click

    for path, command in _commands():
        assert command.help, f"{path} has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{path} {param.opts} has no help text"
            if param.name == "model_ref":  # the model a command reads: always -m/--model REF
                assert isinstance(param, click.Option) and param.opts == ["-m", "--model"], path


def test_model_reading_commands_take_dash_m(tmp_path):
    root = _published(tmp_path)
    Repository(root).set_label("churn", "stable", 1)
    for args in (["inspect", "-m", "churn:1"], ["validate", "-m", "churn@stable"], ["models", "show", "-m", "churn"]):
        r = CliRunner().invoke(main, [*args, "--repo", root])
        assert r.exit_code == 0, (args, r.output)
    r = CliRunner().invoke(main, ["inspect", "-m", "churn@nolabel", "--repo", root])
    assert r.exit_code == 1 and "model 'churn' has no label 'nolabel'" in r.output


def test_the_readme_command_reference_matches_help():
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "cli_reference.py"
    spec = importlib.util.spec_from_file_location("cli_reference", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    block = module.readme_block(Path(module.README).read_text(encoding="utf-8"))
    assert block is not None, "README.md has no <!-- cli:start --> block"
    assert block == module.reference(), "README.md's command reference is stale: run python scripts/cli_reference.py"


def test_shell_completion_as_documented(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "_PMMLKIT_COMPLETE": "bash_source"}
    code = "from pmmlkit.cli import main; main(prog_name='pmmlkit')"
    source = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert "complete -o nosort -F _pmmlkit_completion pmmlkit" in source.stdout
    env = {**os.environ, "_PMMLKIT_COMPLETE": "bash_complete", "COMP_WORDS": "pmmlkit models la", "COMP_CWORD": "2"}
    words = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert words.stdout.split() == ["plain,label"]


def test_diff_reads_data_by_the_one_format_rule(tmp_path):
    # diff had its own rule: anything not .parquet/.pq was read as CSV (a .json too)
    import gzip

    (tmp_path / "m.pmml").write_bytes(logistic_pmml())
    with gzip.open(tmp_path / "d.csv.gz", "wt") as fh:
        fh.write("x1,x2,device\n0.5,3,ios\n2.0,1,web\n")
    r = CliRunner().invoke(main, ["diff", "-m", str(tmp_path / "m.pmml"), str(tmp_path / "d.csv.gz"),
                                  "--backends", "native,native"])
    assert r.exit_code == 0 and ": 2 rows, reference backend native" in r.output, r.output
    (tmp_path / "d.json").write_text("{}")
    r = CliRunner().invoke(main, ["diff", "-m", str(tmp_path / "m.pmml"), str(tmp_path / "d.json")])
    assert r.exit_code == 1 and "cannot tell the format of the DATA" in r.output, r.output


def test_serve_and_score_refuse_a_repository_root_that_does_not_exist(tmp_path):
    """Issue 18 #5: a typo in --repo is an error, not a server (or a lookup) over nothing."""
    from click.testing import CliRunner

    from pmmlkit.cli import main

    missing = str(tmp_path / "nowhere")
    result = CliRunner().invoke(main, ["serve", "--repo", missing, "--port", "0"])
    assert result.exit_code == 1 and "not found" in result.output and missing in result.output
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    result = CliRunner().invoke(main, ["score", str(data), "-m", "ctr", "-o", str(tmp_path / "o.csv"),
                                       "--repo", missing])
    assert result.exit_code == 1 and "not found" in result.output, result.output
