"""The same per-entry rules on an object store (moto S3 on 127.0.0.1): corrupt files affect only themselves."""
from __future__ import annotations

import pytest

pytest.importorskip("moto")



def test_corrupt_manifest_and_labels_on_s3(s3_repo, caplog):
    for i in range(1, 4):
        s3_repo.publish("ctr", f"<PMML version='4.4'><Header description='v{i}'/></PMML>".encode())
    fs, base = s3_repo._fs, s3_repo._base  # writing corrupt files as a broken tool would
    fs.pipe_file(f"{base}/ctr/1/manifest.json", b'{"sha256": ')
    fs.pipe_file(f"{base}/ctr/labels.json", b"[1, 2]")
    scan = s3_repo.scan_versions("ctr")
    assert [v.number for v in scan.versions] == [2, 3]
    assert [p.number for p in scan.problems] == [1] and "not a valid manifest" in scan.problems[0].error
    s3_repo.set_label("ctr", "stable", 3)
    assert s3_repo.labels("ctr") == {"stable": 3}
    [kept] = fs.glob(f"{base}/ctr/labels.json.corrupt-*")
    assert fs.cat_file(kept) == b"[1, 2]" and "started afresh" in caplog.text
    s3_repo.delete("ctr", 2)
    assert [v.number for v in s3_repo.scan_versions("ctr").versions] == [3]
