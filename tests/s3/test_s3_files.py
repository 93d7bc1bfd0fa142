"""Files published with a version on a real S3-compatible server (moto)."""
from __future__ import annotations

from tests.repository.test_repository_files import FILES
from tests.repository.test_repository_store import PMML


def test_files_round_trip_on_s3(s3_repo) -> None:
    v = s3_repo.publish("ctr", PMML, files=FILES)
    again = s3_repo.resolve("ctr")
    assert again.number == v.number and sorted(again.manifest.files) == sorted(FILES)
    assert {n: s3_repo.read_file(again, n) for n in FILES} == FILES
