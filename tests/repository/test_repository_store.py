"""Repository on a real local filesystem: publish, resolve, labels, delete, names, integrity."""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

import pmmlkit
from pmmlkit.errors import ConfigError, IntegrityError, InvalidModelName, ModelNotFoundError, RepositoryError
from pmmlkit.repository import Manifest, Repository, Version

PMML = b'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/></PMML>'


def payload(i: int) -> bytes:
    return PMML.replace(b"<Header/>", f"<Header description='{i}'/>".encode())


def test_publish_numbers_and_resolve(repo):
    published = [repo.publish("ctr", payload(i)) for i in range(3)]
    assert [v.number for v in published] == [1, 2, 3]
    assert [v.ref for v in published] == ["ctr:1", "ctr:2", "ctr:3"]
    assert repo.resolve("ctr") == published[-1] == repo.latest("ctr")
    assert repo.resolve("ctr:2") == published[1]
    assert [v.number for v in repo.versions("ctr")] == [1, 2, 3]
    for i, v in enumerate(published):
        assert repo.read_pmml(repo.resolve(v.ref)) == payload(i)
    assert published[0].uri == os.path.join(repo.root, "ctr", "1", "model.pmml")
    with open(published[0].uri, "rb") as f:
        assert f.read() == payload(0)


def test_manifest_filled_by_publish(repo):
    given = {"sha256": "forged", "size": 1, "created": "1999-01-01T00:00:00Z",
             "spark_version": "4.2.1", "input_schema": [{"name": "x", "dataType": "double"}],
             "metrics": {"auc": 0.75}, "row_count": 120, "spec": {"estimator": "lr"},
             "lookups": {"emb": "t1"}, "extra": {"owner": "ads"}}
    before = datetime.now(UTC)
    m = repo.publish("ctr", PMML, manifest=given).manifest
    assert m.sha256 == hashlib.sha256(PMML).hexdigest() and m.size == len(PMML)
    created = datetime.fromisoformat(m.created)
    assert created.utcoffset() == timedelta(0) and m.created.endswith("Z")
    assert before - timedelta(seconds=1) <= created <= datetime.now(UTC)
    assert m.pmmlkit_version == pmmlkit.__version__
    assert (m.spark_version, m.row_count, m.metrics) == ("4.2.1", 120, {"auc": 0.75})
    assert m.extra == {"owner": "ads", "lookups": {"emb": "t1"}}  # unknown keys land in extra
    on_disk = json.loads(open(os.path.join(repo.root, "ctr", "1", "manifest.json")).read())
    assert on_disk == m.as_dict()
    assert Manifest.from_json(m.to_json()) == m == repo.resolve("ctr:1").manifest


@pytest.mark.parametrize("bad", [{"input_schema": {"x": 1}}, {"metrics": [1]},
                                 {"extra": "text"}, {"spec": {"f": object()}}])
def test_bad_manifest_is_refused_before_writing(repo, bad):
    with pytest.raises(ConfigError, match="manifest cannot be published"):
        repo.publish("ctr", PMML, manifest=bad)
    assert repo.models() == [] and repo.versions("ctr") == []


@pytest.mark.parametrize("pmml", [b"", "text", None])
def test_publish_needs_bytes(repo, pmml):
    with pytest.raises(RepositoryError, match="non-empty bytes"):
        repo.publish("ctr", pmml)


def test_models_and_empty_repository(repo):
    assert repo.models() == [] and repo.versions("nothing") == []
    for name in ("b-model", "a.model", "C_1"):
        repo.publish(name, PMML)
    assert repo.models() == ["C_1", "a.model", "b-model"]


def test_not_found_messages_list_what_exists(repo):
    repo.publish("ctr", PMML)
    repo.publish("ctr", PMML)
    repo.publish("churn", PMML)
    with pytest.raises(ModelNotFoundError, match=r"model 'ctr' has versions \[1, 2\]; no version 7"):
        repo.resolve("ctr:7")
    with pytest.raises(ModelNotFoundError, match=r"no model 'fraud' in .*models: \[churn, ctr\]"):
        repo.resolve("fraud")
    with pytest.raises(ModelNotFoundError, match=r"no label 'stable'; labels: \{\}"):
        repo.resolve("ctr@stable")


def test_labels(repo):
    for i in range(3):
        repo.publish("ctr", payload(i))
    assert repo.labels("ctr") == {}
    repo.set_label("ctr", "stable", 2)
    repo.set_label("ctr", "canary", 3)
    assert repo.resolve("ctr@stable").number == 2
    repo.set_label("ctr", "stable", 3)  # moving a label
    assert repo.labels("ctr") == {"canary": 3, "stable": 3}
    with open(os.path.join(repo.root, "ctr", "labels.json")) as f:
        assert json.load(f) == {"canary": 3, "stable": 3}
    with pytest.raises(ModelNotFoundError, match=r"has versions \[1, 2, 3\]; no version 9"):
        repo.set_label("ctr", "stable", 9)
    with pytest.raises(InvalidModelName, match="invalid label '../x'"):
        repo.set_label("ctr", "../x", 1)
    leftovers = [f for f in os.listdir(os.path.join(repo.root, "ctr")) if ".tmp" in f]
    assert leftovers == []


def test_delete_unpublishes_and_never_reuses_the_number(repo):
    v1, v2, v3 = (repo.publish("ctr", payload(i)) for i in range(3))
    repo.set_label("ctr", "stable", 3)
    with pytest.raises(RepositoryError, match=r"ctr:3 carries label\(s\) \['stable'\]"):
        repo.delete("ctr", 3)
    repo.delete("ctr", 2)
    assert [v.number for v in repo.versions("ctr")] == [1, 3]
    with pytest.raises(ModelNotFoundError, match=r"has versions \[1, 3\]; no version 2"):
        repo.resolve("ctr:2")
    with pytest.raises(ModelNotFoundError, match="is gone"):
        repo.read_pmml(v2)  # a Version held from before the delete
    with pytest.raises(ModelNotFoundError):
        repo.delete("ctr", 2)
    repo.set_label("ctr", "stable", 1)
    repo.delete("ctr", 3)  # the latest one
    assert repo.publish("ctr", payload(9)).number == 4
    assert [v.number for v in repo.versions("ctr")] == [1, 4]
    assert repo.read_pmml(repo.resolve("ctr")) == payload(9)


BAD_NAMES = ["../x", "..", "a/b", "/etc", "a\\b", ".hidden", "-dash", "x..y", "", "a b",
             "a:1", "a@b", "é", "a" * 129, "a\x00b", "ctr/../../x"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_invalid_names_are_refused_everywhere(repo, tmp_path, name):
    for call in (lambda: repo.publish(name, PMML), lambda: repo.versions(name),
                 lambda: repo.latest(name), lambda: repo.labels(name),
                 lambda: repo.set_label(name, "stable", 1), lambda: repo.delete(name, 1)):
        with pytest.raises(InvalidModelName):
            call()
    assert sorted(os.listdir(tmp_path)) in ([], ["models"])
    assert not os.path.exists(os.path.join(repo.root, "..", "x"))


@pytest.mark.parametrize("ref", ["../x", "a/b:1", "ctr:x", "ctr:1:2", "ctr:-1", "ctr@a@b", "", ":1"])
def test_invalid_references(repo, ref):
    with pytest.raises(InvalidModelName):
        repo.resolve(ref)


def test_longest_valid_name(repo):
    name = "A" + "b.c_d-9" * 18 + "z"  # 128 characters
    assert len(name) == 128
    assert repo.publish(name, PMML).ref == f"{name}:1"


def test_tampered_model_is_detected(repo):
    v = repo.publish("ctr", PMML)
    same_size = PMML.replace(b"4.4", b"4.3")
    for tampered in (same_size, PMML + b" "):
        with open(v.uri, "wb") as f:
            f.write(tampered)
        with pytest.raises(IntegrityError) as info:
            repo.read_pmml(repo.resolve("ctr:1"))
        message = str(info.value)
        assert hashlib.sha256(tampered).hexdigest() in message and v.manifest.sha256 in message
        assert f"size {len(tampered)}" in message and v.uri in message


def test_corrupt_manifest_and_labels_are_integrity_errors(repo):
    repo.publish("ctr", PMML)
    manifest = os.path.join(repo.root, "ctr", "1", "manifest.json")
    with open(manifest, "w") as f:
        f.write('{"sha256": "ab"')
    with pytest.raises(IntegrityError, match=r"manifest.json: not a valid manifest"):
        repo.resolve("ctr")
    with open(manifest, "w") as f:
        json.dump({"size": 3}, f)
    assert repo.versions("ctr") == []  # left out (logged); scan_versions says why
    [problem] = repo.scan_versions("ctr").problems
    assert problem.number == 1 and "missing key(s) ['sha256', 'created'" in problem.error
    with open(os.path.join(repo.root, "ctr", "labels.json"), "w") as f:
        json.dump({"stable": "three"}, f)
    with pytest.raises(IntegrityError, match="labels.json"):
        repo.labels("ctr")


def test_readers_ignore_half_written_versions(repo):
    repo.publish("ctr", payload(1))
    base = os.path.join(repo.root, "ctr")
    # What killed publishers leave behind: a temp folder, a claimed number without manifest.
    tmp = os.path.join(base, f".tmp-{uuid.uuid4().hex}")
    os.makedirs(tmp)
    with open(os.path.join(tmp, "model.pmml"), "wb") as f:
        f.write(PMML)
    os.makedirs(os.path.join(base, "2"))
    with open(os.path.join(base, "2", "model.pmml"), "wb") as f:
        f.write(PMML[:10])
    os.makedirs(os.path.join(repo.root, "half", "1"))  # a model never published completely
    with open(os.path.join(base, "notes.txt"), "w") as f:
        f.write("not a version")
    assert [v.number for v in repo.versions("ctr")] == [1]
    assert repo.latest("ctr").number == 1 and repo.models() == ["ctr"]
    with pytest.raises(ModelNotFoundError, match=r"versions \[1\]; no version 2"):
        repo.resolve("ctr:2")
    assert repo.publish("ctr", payload(3)).number == 3  # the burnt number 2 is skipped
    assert repo.read_pmml(repo.resolve("ctr")) == payload(3)


def test_root_from_env_and_file_url(tmp_path, monkeypatch):
    monkeypatch.setenv("PMMLKIT_REPO", str(tmp_path / "env-root"))
    assert Repository().root == str(tmp_path / "env-root")
    Repository().publish("ctr", PMML)
    by_url = Repository(f"file://{tmp_path}/env-root")
    assert by_url.root == str(tmp_path / "env-root")
    assert by_url.read_pmml(by_url.resolve("ctr:1")) == PMML
    monkeypatch.delenv("PMMLKIT_REPO")
    monkeypatch.chdir(tmp_path)
    assert Repository().root == str(tmp_path / "models")


def test_generic_filesystem_protocol_on_memory_fs():
    # memory:// has no rename: it exercises the claim-then-manifest-last path meant for object stores.
    root = f"memory://pmmlkit-test-{uuid.uuid4().hex}/models"
    repo = Repository(root)
    assert repo.root == root.replace("memory://", "memory:///")
    v1, v2 = repo.publish("ctr", payload(1)), repo.publish("ctr", payload(2))
    assert (v1.number, v2.number) == (1, 2) and v2.uri.startswith("memory:///")
    assert repo.read_pmml(repo.resolve("ctr")) == payload(2)
    import fsspec
    fs = fsspec.filesystem("memory")
    fs.pipe_file(f"{root}/ctr/3/.claim", b"someone else")  # claimed by a publisher that died
    assert repo.publish("ctr", payload(4)).number == 4
    repo.set_label("ctr", "stable", 4)
    repo.delete("ctr", 2)
    assert [v.number for v in repo.versions("ctr")] == [1, 4] and repo.models() == ["ctr"]
    assert repo.resolve("ctr@stable").ref == "ctr:4"
    fs.pipe_file(f"{root}/ctr/4/model.pmml", b"tampered")
    with pytest.raises(IntegrityError):
        repo.read_pmml(repo.resolve("ctr:4"))
    fs.rm(root.replace("/models", ""), recursive=True)


def test_version_is_frozen(repo):
    v = repo.publish("ctr", PMML)
    assert isinstance(v, Version)
    with pytest.raises(AttributeError):
        v.number = 5
