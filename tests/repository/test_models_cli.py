"""`pmmlkit models ...` through click's CliRunner against a real repository folder."""
from __future__ import annotations

import json

from click.testing import CliRunner

from pmmlkit.cli import main

PMML = b'<PMML version="4.4"><Header/></PMML>'


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_list_table(repo):
    repo.create_root()  # an empty repository lists an empty table (a missing root is an error)
    assert run("models", "list", "--repo", repo.root).output.split() == \
        ["NAME", "LATEST", "VERSIONS", "LABELS", "CREATED"]
    for _ in range(3):
        repo.publish("ctr", PMML)
    churn = repo.publish("churn", PMML)
    repo.set_label("ctr", "stable", 2)
    repo.set_label("ctr", "canary", 3)
    repo.delete("ctr", 1)
    result = run("models", "list", "--repo", repo.root)
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["NAME", "LATEST", "VERSIONS", "LABELS", "CREATED"]
    assert [r.split() for r in rows] == [
        ["churn", "1", "1", "-", churn.manifest.created],
        ["ctr", "3", "2", "canary=3,stable=2", repo.resolve("ctr:3").manifest.created],
    ]
    assert header.index("LATEST") == rows[0].index("1")  # columns line up


def test_repo_from_environment(repo):
    repo.publish("ctr", PMML)
    result = run("models", "list", env={"PMMLKIT_REPO": repo.root})
    assert result.exit_code == 0 and result.output.splitlines()[1].split()[:3] == ["ctr", "1", "1"]


def test_show_prints_manifest_json(repo):
    repo.publish("ctr", PMML, manifest={"metrics": {"auc": 0.81}, "row_count": 10})
    v2 = repo.publish("ctr", PMML + b" ")
    repo.set_label("ctr", "stable", 1)
    for ref, number in (("ctr", 2), ("ctr:1", 1), ("ctr@stable", 1)):
        result = run("models", "show", "-m", ref, "--repo", repo.root)
        assert result.exit_code == 0, result.output
        shown = json.loads(result.output)
        assert (shown["name"], shown["version"]) == ("ctr", number)
        assert shown["uri"] == repo.resolve(f"ctr:{number}").uri
    assert shown["metrics"] == {"auc": 0.81} and shown["row_count"] == 10
    shown = json.loads(run("models", "show", "-m", "ctr:2", "--repo", repo.root).output)
    assert shown["sha256"] == v2.manifest.sha256 and shown["size"] == len(PMML) + 1


def test_label_takes_name_at_label_and_delete_takes_name_colon_version(repo):
    for _ in range(2):
        repo.publish("ctr", PMML)
    result = run("models", "label", "ctr@stable", "2", "--repo", repo.root)
    assert result.exit_code == 0 and "ctr@stable -> ctr:2" in result.output
    assert repo.labels("ctr") == {"stable": 2}
    result = run("models", "delete", "ctr:1", "--repo", repo.root)
    assert result.exit_code == 0 and "deleted ctr:1" in result.output
    assert [v.number for v in repo.versions("ctr")] == [2]


def test_label_and_delete(repo):
    for _ in range(2):
        repo.publish("ctr", PMML)
    result = run("models", "label", "ctr", "stable", "2", "--repo", repo.root)
    assert result.exit_code == 0 and "ctr@stable -> ctr:2" in result.output
    assert repo.labels("ctr") == {"stable": 2}
    refused = run("models", "delete", "ctr", "2", "--repo", repo.root)
    assert refused.exit_code == 1 and "carries label(s) ['stable']" in refused.output
    result = run("models", "delete", "ctr", "1", "--repo", repo.root)
    assert result.exit_code == 0 and "deleted ctr:1" in result.output
    assert [v.number for v in repo.versions("ctr")] == [2]


def test_errors_are_clean_messages(repo):
    repo.publish("ctr", PMML)
    cases = [(("show", "-m", "ctr:7"), "model 'ctr' has versions [1]; no version 7"),
             (("show", "-m", "../etc"), "invalid model name '../etc'"),
             (("label", "ctr@stable", "5"), "no version 5"),
             (("label", "ctr@../x", "1"), "invalid label '../x'"),
             (("delete", "nope:1"), "no model 'nope'"),
             (("label", "ctr", "stable", "5"), "no version 5"),
             (("delete", "nope", "1"), "no model 'nope'")]
    for args, message in cases:
        result = run("models", *args, "--repo", repo.root)
        assert result.exit_code == 1, (args, result.output)
        assert result.output.startswith("Error: ") and message in result.output
    for args in (("label", "ctr", "stable", "0"), ("label", "ctr@stable", "x"), ("delete", "ctr", "0")):
        bad_number = run("models", *args, "--repo", repo.root)
        assert bad_number.exit_code == 2 and "is not a version number" in bad_number.output, bad_number.output
    for args in (("label", "ctr", "1"), ("label", "ctr:1", "1"), ("delete", "ctr"), ("delete", "ctr@stable")):
        usage = run("models", *args, "--repo", repo.root)
        assert usage.exit_code == 2 and "expected NAME" in usage.output, (args, usage.output)


def test_label_on_unknown_model_is_one_line(repo):
    repo.publish("ctr", PMML)
    result = CliRunner().invoke(main, ["models", "label", "nosuch", "stable", "1", "--repo", repo.root])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # no traceback
    assert result.output.strip().startswith(f"Error: no model 'nosuch' in {repo.root}; models: ")
