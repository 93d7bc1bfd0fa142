"""Files published with a version (reports, profiles): all or nothing, checked on read."""
from __future__ import annotations

import os

import pytest

from pmmlkit.errors import IntegrityError, ModelNotFoundError, RepositoryError
from pmmlkit.repository import Repository

from .test_repository_store import PMML

FILES = {"report.html": b"<html>report</html>", "profile.json": b'{"format": 1}', "plots/roc.svg": b"<svg/>"}


def test_files_are_published_with_the_version_and_read_back(repo: Repository) -> None:
    v = repo.publish("ctr", PMML, files=FILES)
    assert sorted(v.manifest.files) == sorted(FILES)
    again = repo.resolve("ctr:1")
    for name, data in FILES.items():
        assert repo.read_file(again, name) == data
    with pytest.raises(ModelNotFoundError, match="without a file 'drift.html'.*profile.json"):
        repo.read_file(again, "drift.html")


def test_a_changed_file_is_refused(repo: Repository) -> None:
    v = repo.publish("ctr", PMML, files=FILES)
    path = os.path.join(repo.root, "ctr", "1", "profile.json")
    with open(path, "wb") as fh:
        fh.write(b'{"format": 2}')
    with pytest.raises(IntegrityError, match="profile.json has size .* the manifest expects"):
        repo.read_file(v, "profile.json")


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "model.pmml", "manifest.json", ".hidden", "a/b/c.svg", ""])
def test_bad_file_names_publish_nothing(repo: Repository, name: str) -> None:
    with pytest.raises(RepositoryError, match="cannot publish a file named"):
        repo.publish("ctr", PMML, files={name: b"x"})
    assert repo.models() == [] or repo.versions("ctr") == []


def test_versions_without_files_still_read(repo: Repository) -> None:
    v = repo.publish("ctr", PMML)
    assert v.manifest.files == {} and repo.read_pmml(repo.resolve("ctr")) == PMML
