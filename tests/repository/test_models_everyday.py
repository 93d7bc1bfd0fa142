"""Issue 18: a missing repository root is an error; versions listed, compared, annotated, unlabelled."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from pmmlkit.cli import main
from pmmlkit.errors import ModelNotFoundError, RepositoryNotFound
from pmmlkit.repository.store import Repository, open_repository
from tests.docs import COEF, logistic_expected, logistic_pmml

PMML = b'<PMML version="4.4"><Header/></PMML>'


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("args", [("list",), ("list", "ctr"), ("show", "-m", "ctr"), ("label", "ctr@x", "1"),
                                  ("label", "ctr@x", "--remove"), ("delete", "ctr:1"),
                                  ("compare", "ctr:1", "ctr:2")])
def test_a_missing_root_is_one_line_not_an_empty_table(tmp_path, args):
    missing = tmp_path / "no" / "such" / "dir"
    result = run("models", *args, "--repo", str(missing))
    assert result.exit_code == 1, result.output
    assert result.output == (f"Error: model repository {missing} not found (no such folder); check --repo or "
                             "PMMLKIT_REPO for a typo (pmmlkit train creates a repository when it first "
                             "publishes)\n")
    assert not missing.exists()  # reading never creates it


def test_open_repository_must_exist_or_create(tmp_path):
    root = tmp_path / "models"
    assert Repository(str(root)).models() == []  # the library default is unchanged: empty
    with pytest.raises(RepositoryNotFound, match="not found"):
        open_repository(str(root), must_exist=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(RepositoryNotFound):  # a file is not a repository either
        open_repository(str(tmp_path / "file"), must_exist=True)
    created = open_repository(str(root), create=True)
    assert root.is_dir() and created.models() == []
    assert open_repository(str(root), must_exist=True).root == str(root)


def test_list_name_shows_versions_with_metrics_labels_tags_and_description(repo):
    repo.publish("ctr", PMML, manifest={"metrics": {"auc": 0.81234, "accuracy": 0.7}, "row_count": 400,
                                        "description": "first try", "tags": {"team": "ads"}})
    repo.publish("ctr", PMML, manifest={"metrics": {"auc": 0.83}, "row_count": 500,
                                        "description": "more trees and a much longer description than fits"})
    repo.publish("other", PMML)
    repo.set_label("ctr", "stable", 1)
    repo.set_label("ctr", "serving", 1)
    result = run("models", "list", "ctr", "--repo", repo.root)
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["VERSION", "CREATED", "LABELS", "ACCURACY", "AUC", "ROWS", "TAGS", "DESCRIPTION"]
    created = [repo.resolve(f"ctr:{n}").manifest.created for n in (1, 2)]
    assert rows[0].split() == ["1", created[0], "serving,stable", "0.7", "0.8123", "400", "team=ads", "first",
                               "try"]
    assert rows[1].split()[:7] == ["2", created[1], "-", "-", "0.83", "500", "-"]
    assert rows[1].endswith("more trees and a much longer descript...")
    unknown = run("models", "list", "nope", "--repo", repo.root)
    assert unknown.exit_code == 1 and unknown.output == (
        f"Error: no model 'nope' in {repo.root}; models: [ctr, other]\n")


def test_label_remove_in_both_forms(repo):
    for _ in range(2):
        repo.publish("ctr", PMML)
    repo.set_label("ctr", "stable", 1)
    repo.set_label("ctr", "serving", 2)
    result = run("models", "label", "ctr@stable", "--remove", "--repo", repo.root)
    assert result.exit_code == 0 and result.output == "removed ctr@stable (was ctr:1)\n"
    assert repo.labels("ctr") == {"serving": 2}
    result = run("models", "label", "ctr", "serving", "--remove", "--repo", repo.root)
    assert result.exit_code == 0 and "removed ctr@serving (was ctr:2)" in result.output
    assert repo.labels("ctr") == {}
    again = run("models", "label", "ctr@stable", "--remove", "--repo", repo.root)
    assert again.exit_code == 1 and again.output == "Error: model 'ctr' has no label 'stable'; labels: {}\n"
    for args in (("ctr@stable", "1", "--remove"), ("ctr", "--remove")):
        usage = run("models", "label", *args, "--repo", repo.root)
        assert usage.exit_code == 2 and "expected NAME@LABEL --remove" in usage.output, usage.output
    with pytest.raises(ModelNotFoundError, match="no model 'nope'"):
        repo.remove_label("nope", "stable")


def test_rollback_is_moving_a_label(repo):
    for _ in range(3):
        repo.publish("ctr", PMML)
    assert run("models", "label", "ctr@serving", "3", "--repo", repo.root).exit_code == 0
    assert repo.resolve("ctr@serving").number == 3
    assert run("models", "label", "ctr@serving", "2", "--repo", repo.root).exit_code == 0
    assert repo.resolve("ctr@serving").number == 2


def test_manifest_annotations_round_trip(repo):
    version = repo.publish("ctr", PMML, manifest={
        "description": "d", "tags": {"k": "v"}, "run_id": "abc", "git_commit": "f" * 40, "git_dirty": False,
        "input_example": {"x1": 0.5, "device": "ios"}})
    shown = json.loads(run("models", "show", "-m", "ctr", "--repo", repo.root).output)
    assert {k: shown[k] for k in ("description", "tags", "run_id", "git_commit", "git_dirty", "input_example")} == {
        "description": "d", "tags": {"k": "v"}, "run_id": "abc", "git_commit": "f" * 40, "git_dirty": False,
        "input_example": {"x1": 0.5, "device": "ios"}}
    assert repo.resolve("ctr:1").manifest == version.manifest
    old = repo.publish("ctr", PMML).manifest  # manifests without them still load
    assert (old.description, old.tags, old.input_example) == (None, {}, None)


def test_compare_metrics_and_predictions(repo, tmp_path):
    shifted = {**COEF, "intercept": COEF["intercept"] + 1.0}
    repo.publish("churn", logistic_pmml(), manifest={"metrics": {"auc": 0.75}, "description": "base"})
    repo.publish("churn", logistic_pmml(shifted), manifest={"metrics": {"auc": 0.8, "accuracy": 0.9}})
    rows = [(x1, x2, device) for x1 in (-2.0, -0.5, 0.1, 0.7, 1.5, 3.0) for x2 in (0, 33)
            for device in ("android", "ios", "web")]
    lines = ["x1,x2,device", *(f"{x1},{x2},{d}" for x1, x2, d in rows), "1.0,5,tablet"]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")

    result = run("models", "compare", "churn:1", "churn:2", str(tmp_path / "data.csv"), "--repo", repo.root,
                 "--backend", "native")
    assert result.exit_code == 0, result.output
    table = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line.strip()}
    assert table["auc"] == ["0.75", "0.8", "(+0.05)"] and table["accuracy"] == ["-", "0.9"]
    assert table["description"] == ["base", "-"]
    assert f"{len(rows)} of {len(rows) + 1} rows scored by both (1 rejected by churn:1, 1 by churn:2)" \
        in result.output

    pa = np.array([logistic_expected(*r) for r in rows])
    pb = np.array([logistic_expected(*r, coef=shifted) for r in rows])
    changed_labels = np.mean((pa > 0.5) != (pb > 0.5))
    assert 0 < changed_labels < 1
    assert table["predicted_y"] == [f"{changed_labels:.2%}", "-"]
    assert table["probability(yes)"] == ["100.00%", f"{np.mean(np.abs(pb - pa)):.6g}"]

    as_json = json.loads(run("models", "compare", "churn:1", "churn:2", str(tmp_path / "data.csv"), "--json",
                             "--repo", repo.root, "--backend", "native").output)
    outputs = {o["name"]: o for o in as_json["predictions"]["outputs"]}
    assert outputs["probability(no)"]["mean_abs_delta"] == pytest.approx(np.mean(np.abs(pb - pa)), rel=1e-9)
    assert outputs["predicted_y"]["changed"] == pytest.approx(changed_labels)
