"""One corrupt entry affects only itself; links are refused; killed publishes are swept (issue 13)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from pmmlkit.cli import main
from pmmlkit.durable import host_tag
from pmmlkit.errors import IntegrityError, RepositoryError


def versioned_pmml(i: int) -> bytes:
    return f"<PMML version='4.4'><Header description='v{i}'/></PMML>".encode()  # stored, never parsed


def _publish(repo, name: str, count: int) -> None:
    for i in range(1, count + 1):
        repo.publish(name, versioned_pmml(i))


def _cli(repo, *args: str):
    return CliRunner().invoke(main, [*args, "--repo", repo.root])


def test_a_corrupt_old_manifest_affects_only_its_version(repo):
    _publish(repo, "ctr", 3)
    with open(os.path.join(repo.root, "ctr", "1", "manifest.json"), "w") as f:
        f.write('{"sha256": ')
    scan = repo.scan_versions("ctr")
    assert [v.number for v in scan.versions] == [2, 3]
    [problem] = scan.problems
    assert (problem.ref, problem.number) == ("ctr:1", 1)
    assert "ctr/1/manifest.json: not a valid manifest" in problem.error
    assert repo.publish("ctr", versioned_pmml(4)).number == 4  # new versions are published and resolved
    assert repo.resolve("ctr").number == 4
    assert [v.number for v in repo.versions("ctr")] == [2, 3, 4]
    with pytest.raises(IntegrityError, match="not a valid manifest"):
        repo.resolve("ctr:1")
    listed = _cli(repo, "models", "list")
    assert listed.exit_code == 0, listed.output
    assert "ctr   4       3" in listed.output and "problem: ctr:1: " in listed.output


def test_a_corrupt_labels_file_breaks_neither_listing_nor_label_nor_delete(repo, caplog):
    _publish(repo, "ctr", 3)
    _publish(repo, "other", 1)
    labels = os.path.join(repo.root, "ctr", "labels.json")
    with open(labels, "w") as f:
        f.write("{not json")
    listed = _cli(repo, "models", "list")
    assert listed.exit_code == 0, listed.output
    assert "other  1" in listed.output and "ctr    3       3         (unreadable)" in listed.output
    assert "problem: " in listed.output and "labels.json is not a valid labels file" in listed.output
    deleted = _cli(repo, "models", "delete", "ctr", "1")
    assert deleted.exit_code == 0, deleted.output
    assert "deleting ctr:1 without checking its labels" in caplog.text
    labelled = _cli(repo, "models", "label", "ctr", "stable", "2")
    assert labelled.exit_code == 0, labelled.output
    assert repo.labels("ctr") == {"stable": 2}
    [kept] = [p for p in os.listdir(os.path.dirname(labels)) if p.startswith("labels.json.corrupt-")]
    assert open(os.path.join(repo.root, "ctr", kept)).read() == "{not json"  # nothing lost
    assert f"kept as {os.path.join(repo.root, 'ctr', kept)} and started afresh" in caplog.text
    assert repo.resolve("ctr@stable").number == 2


def test_a_linked_version_folder_is_refused_everywhere(repo, tmp_path):
    _publish(repo, "ctr", 2)
    outside = tmp_path / "outside"
    os.rename(os.path.join(repo.root, "ctr", "2"), outside)
    os.symlink(outside, os.path.join(repo.root, "ctr", "2"))
    with pytest.raises(IntegrityError, match="ctr:2: .*/ctr/2 is a symbolic link .*does not follow links"):
        repo.resolve("ctr:2")
    assert repo.resolve("ctr").number == 1  # the latest *version*; the link is none
    scan = repo.scan_versions("ctr")
    assert [v.number for v in scan.versions] == [1]
    assert [p.number for p in scan.problems] == [2] and "symbolic link" in scan.problems[0].error
    assert "problem: ctr:2: " in _cli(repo, "models", "list").output
    assert repo.publish("ctr", versioned_pmml(3)).number == 3  # the linked number stays taken
    with pytest.raises(IntegrityError, match="symbolic link"):
        repo.set_label("ctr", "stable", 2)


def test_a_linked_model_file_is_refused(repo, tmp_path):
    _publish(repo, "ctr", 1)
    model = os.path.join(repo.root, "ctr", "1", "model.pmml")
    os.rename(model, tmp_path / "model.pmml")
    os.symlink(tmp_path / "model.pmml", model)
    with pytest.raises(IntegrityError, match="model.pmml is a symbolic link"):
        repo.resolve("ctr:1")
    assert repo.scan_versions("ctr").versions == [] and repo.scan_versions("ctr").problems[0].number == 1


def test_leftovers_of_killed_publishes_are_swept_by_the_next_publish(repo):
    _publish(repo, "ctr", 1)
    base = os.path.join(repo.root, "ctr")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale_dead = os.path.join(base, f".tmp-{host_tag()}~{dead.pid}~ab12")
    stale_old = os.path.join(base, ".tmp-0123456789abcdef")  # the old naming: no owner, only an age
    live = os.path.join(base, f".tmp-{host_tag()}~{os.getpid()}~cd34")
    labels_tmp = os.path.join(base, f"labels.json.tmp-{host_tag()}~{dead.pid}~ef56")
    for folder in (stale_dead, stale_old, live):
        os.makedirs(folder)
        with open(os.path.join(folder, "model.pmml"), "wb") as f:
            f.write(b"x" * 1000)
    open(labels_tmp, "w").close()
    two_hours_ago = time.time() - 7200
    os.utime(os.path.join(stale_old, "model.pmml"), (two_hours_ago, two_hours_ago))
    os.utime(stale_old, (two_hours_ago, two_hours_ago))
    assert repo.publish("ctr", versioned_pmml(2)).number == 2
    left = sorted(p for p in os.listdir(base) if "tmp" in p)
    assert left == [os.path.basename(live)]


def test_an_os_error_while_publishing_is_a_repository_error(repo):
    os.makedirs(repo.root)
    open(os.path.join(repo.root, "ctr"), "w").close()  # a file where the model folder goes
    with pytest.raises(RepositoryError, match="publishing 'ctr' in .* failed: .*nothing was published"):
        repo.publish("ctr", versioned_pmml(1))


def test_labels_written_by_earlier_versions_still_read(repo):
    _publish(repo, "ctr", 2)
    with open(os.path.join(repo.root, "ctr", "labels.json"), "w") as f:
        json.dump({"stable": 1}, f)
    repo.set_label("ctr", "canary", 2)
    assert repo.labels("ctr") == {"canary": 2, "stable": 1}
