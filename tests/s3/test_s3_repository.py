"""The model repository on S3 (moto server): publish, list, resolve, integrity, races, crashes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pmmlkit.errors import IntegrityError, ModelNotFoundError
from pmmlkit.repository.store import Repository
from tests import docs
from tests.repository.test_repository_concurrency import label_delete_race

V1, V2 = docs.versioned_pmml(1), docs.versioned_pmml(2)


def test_endpoint_comes_from_the_standard_aws_setting(s3_repo, s3_endpoint):
    # No pmmlkit-specific option: botocore's AWS_ENDPOINT_URL is what points s3fs at the server.
    assert s3_repo._fs.s3.meta.endpoint_url == s3_endpoint
    assert s3_repo.root.startswith("s3://")


def test_publish_list_resolve_and_labels(s3_repo):
    assert s3_repo.models() == []
    a = s3_repo.publish("clf", V1, manifest={"metrics": {"auc": 0.75}})
    b = s3_repo.publish("clf", V2)
    s3_repo.publish("other", V1)
    assert (a.number, b.number) == (1, 2)
    assert a.uri == f"{s3_repo.root}/clf/1/model.pmml"
    assert s3_repo.models() == ["clf", "other"]
    assert [v.number for v in s3_repo.versions("clf")] == [1, 2]
    assert s3_repo.resolve("clf").number == 2
    assert s3_repo.resolve("clf:1").manifest.metrics == {"auc": 0.75}
    assert s3_repo.read_pmml(s3_repo.resolve("clf:1")) == V1
    s3_repo.set_label("clf", "stable", 1)
    assert s3_repo.resolve("clf@stable").number == 1
    with pytest.raises(ModelNotFoundError, match="no version 7"):
        s3_repo.resolve("clf:7")


def test_a_second_repository_object_sees_the_same_versions(s3_repo, s3_root):
    s3_repo.publish("clf", V1)
    other = Repository(s3_root)
    assert other.read_pmml(other.resolve("clf")) == V1
    other.publish("clf", V2)
    assert s3_repo.resolve("clf").number == 2  # listings are not served from a stale cache


def test_tampered_model_fails_the_manifest_sha256(s3_repo):
    version = s3_repo.publish("clf", V1)
    s3_repo._fs.pipe_file(f"{s3_repo._base}/clf/1/model.pmml", V1.replace(b"-0.5", b"-0.7"))
    with pytest.raises(IntegrityError, match=r"clf:1: s3://.*model\.pmml has size .* sha256"):
        s3_repo.read_pmml(version)


def test_version_without_manifest_is_not_published(s3_repo):
    s3_repo.publish("clf", V1)
    fs, base = s3_repo._fs, s3_repo._base
    fs.pipe_file(f"{base}/clf/2/.claim", b"x")
    fs.pipe_file(f"{base}/clf/2/model.pmml", V2)  # a publisher died before the manifest
    assert [v.number for v in s3_repo.versions("clf")] == [1]
    assert s3_repo.resolve("clf").number == 1
    with pytest.raises(ModelNotFoundError):
        s3_repo.resolve("clf:2")
    assert s3_repo.publish("clf", V2).number == 3  # the burnt number is never reused


def test_claim_is_an_exclusive_create_on_the_server(s3_repo):
    """s3fs's "xb" mode sends If-None-Match: * ; the server, not a client-side check, refuses."""
    path = f"{s3_repo._base}/probe/.claim"
    barrier = threading.Barrier(8)
    winners = []

    def race(i: int) -> None:
        barrier.wait()
        try:
            with s3_repo._fs.open(path, "xb") as f:
                f.write(f"writer-{i}".encode())
            winners.append(i)
        except FileExistsError:
            pass

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(race, range(8)))
    assert len(winners) == 1
    assert s3_repo._fs.cat_file(path) == f"writer-{winners[0]}".encode()


def test_concurrent_publisher_threads_never_share_a_number(s3_root):
    repos = [Repository(s3_root) for _ in range(6)]
    barrier = threading.Barrier(len(repos))

    def publish(repo: Repository) -> list[int]:
        barrier.wait()
        return [repo.publish("race", V1 if i % 2 else V2).number for i in range(3)]

    with ThreadPoolExecutor(len(repos)) as pool:
        numbers = sorted(n for ns in pool.map(publish, repos) for n in ns)
    assert numbers == list(range(1, 19))
    assert [v.number for v in Repository(s3_root).versions("race")] == numbers


_PUBLISHER = textwrap.dedent("""
    import sys, time
    from pmmlkit.repository.store import Repository
    from tests import docs
    repo = Repository(sys.argv[1])
    start = float(sys.argv[2])
    time.sleep(max(0.0, start - time.time()))  # all processes start publishing together
    print(" ".join(str(repo.publish("race", docs.versioned_pmml(1)).number) for _ in range(3)), flush=True)
""")


def test_concurrent_publisher_processes_never_share_a_number(s3_root):
    start = str(time.time() + 3.0)  # after every interpreter has imported pmmlkit
    procs = [subprocess.Popen([sys.executable, "-c", _PUBLISHER, s3_root, start], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=_ROOT) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    numbers = sorted(int(n) for out, _ in outs for n in out.split())
    assert numbers == list(range(1, 13))


_KILLED = textwrap.dedent("""
    import sys, time
    from pmmlkit.repository.store import Repository
    from tests import docs
    repo = Repository(sys.argv[1])
    pipe_file = repo._fs.pipe_file

    def pipe_then_stall(path, data, **kw):
        pipe_file(path, data, **kw)
        if path.endswith("/model.pmml"):  # claimed and written; the manifest is next
            print("model written", flush=True)
            time.sleep(600)

    repo._fs.pipe_file = pipe_then_stall
    repo.publish("clf", docs.versioned_pmml(2))
""")
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_publisher_killed_halfway_leaves_nothing_visible(s3_repo, s3_root):
    s3_repo.publish("clf", V1)
    proc = subprocess.Popen([sys.executable, "-c", _KILLED, s3_root], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=_ROOT)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "model written", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    fs, base = s3_repo._fs, s3_repo._base
    assert fs.exists(f"{base}/clf/2/model.pmml")  # the kill really came between the two PUTs
    assert [v.number for v in s3_repo.versions("clf")] == [1]
    assert s3_repo.read_pmml(s3_repo.resolve("clf")) == V1
    assert s3_repo.models() == ["clf"]
    assert s3_repo.publish("clf", V2).number == 3


def test_concurrent_label_updates_are_not_lost(s3_root):
    """labels.json is rewritten with If-Match/If-None-Match: no writer overwrites another's label."""
    repo = Repository(s3_root)
    repo.publish("clf", V1)
    repo.publish("clf", V2)
    labels = [f"l{i}" for i in range(8)]
    barrier = threading.Barrier(len(labels))

    def label(name: str) -> None:
        barrier.wait()
        Repository(s3_root).set_label("clf", name, 1 + int(name[1:]) % 2)

    with ThreadPoolExecutor(len(labels)) as pool:
        list(pool.map(label, labels))
    assert repo.labels("clf") == {f"l{i}": 1 + i % 2 for i in range(8)}


def test_a_label_never_lands_on_a_deleted_version(s3_root):
    """No lock on S3: delete's tombstone and set_label's re-check decide the race."""
    label_delete_race(lambda: Repository(s3_root), V1)
