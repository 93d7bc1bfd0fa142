"""Concurrent publishers (threads and processes), publishers killed halfway, labels racing deletes."""
from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from pmmlkit.errors import ModelNotFoundError, RepositoryError
from pmmlkit.repository import Repository

PUBLISHES_EACH = 6


def payload(worker: str, i: int) -> bytes:
    return f'<PMML version="4.4"><Header description="{worker}-{i}"/></PMML>'.encode()


def _check_all_published(repo: Repository, expected: set[bytes], numbers: list[int]) -> None:
    assert len(numbers) == len(set(numbers)) == len(expected), "duplicate version numbers"
    assert sorted(numbers) == list(range(1, len(expected) + 1))  # no gaps: nothing burnt
    versions = repo.versions("ctr")
    assert [v.number for v in versions] == sorted(numbers)
    assert {repo.read_pmml(v) for v in versions} == expected  # none lost, none overwritten
    leftovers = [f for f in os.listdir(os.path.join(repo.root, "ctr")) if f.startswith(".tmp")]
    assert leftovers == []


def test_eight_threads_publish_concurrently_while_readers_read(repo):
    barrier = threading.Barrier(8)
    numbers: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()
    reads = [0]
    repo.publish("ctr", b"<PMML seed/>")  # readers need something to read from the start

    def publisher(worker: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(PUBLISHES_EACH):
                numbers.append(repo.publish("ctr", payload(f"t{worker}", i)).number)
        except BaseException as e:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(e)

    def reader() -> None:
        try:
            while not done.is_set():
                repo.read_pmml(repo.resolve("ctr"))  # a half-written version would raise
                reads[0] += 1
        except BaseException as e:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(e)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    publishers = [threading.Thread(target=publisher, args=(w,)) for w in range(8)]
    for t in readers + publishers:
        t.start()
    for t in publishers:
        t.join(timeout=120)
    done.set()
    for t in readers:
        t.join(timeout=30)
    assert errors == []
    assert reads[0] > 0
    expected = {b"<PMML seed/>"} | {payload(f"t{w}", i) for w in range(8) for i in range(PUBLISHES_EACH)}
    _check_all_published(repo, expected, [1] + numbers)


def _process_publisher(root: str, worker: int, barrier, queue) -> None:
    barrier.wait(timeout=60)
    queue.put([Repository(root).publish("ctr", payload(f"p{worker}", i)).number
               for i in range(PUBLISHES_EACH)])


def test_four_processes_publish_concurrently(repo):
    # spawn, not fork: the test process may already run a JVM and threads.
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_process_publisher, args=(repo.root, w, barrier, queue))
             for w in range(4)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    numbers = [n for r in results for n in r]
    expected = {payload(f"p{w}", i) for w in range(4) for i in range(PUBLISHES_EACH)}
    _check_all_published(repo, expected, numbers)


# The child publishes with a writer that stops halfway through one file and then
# hangs; the test kills it with SIGKILL at that moment.
_SLOW_PUBLISHER = textwrap.dedent("""
    import os, sys, time
    from pmmlkit.repository import store
    root, stage, ready = sys.argv[1:4]

    def slow_write(path, data, **kwargs):
        if not path.endswith(stage):
            return real(path, data, **kwargs)
        with open(path, "xb") as f:
            f.write(data[: len(data) // 2])
            f.flush()
            os.fsync(f.fileno())
        open(ready, "w").close()
        time.sleep(120)

    real, store.write_synced = store.write_synced, slow_write
    store.Repository(root).publish("ctr", b"<PMML>" + b"x" * 10000 + b"</PMML>")
""")


@pytest.mark.parametrize("stage", ["model.pmml", "manifest.json"])
def test_publisher_killed_halfway_leaves_nothing_visible(repo, tmp_path, stage):
    first = repo.publish("ctr", b"<PMML first/>")
    ready = tmp_path / "ready"
    child = subprocess.Popen([sys.executable, "-c", _SLOW_PUBLISHER, repo.root, stage, str(ready)])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert child.poll() is None, f"slow publisher exited early with {child.returncode}"
            assert time.monotonic() < deadline, "slow publisher never reached the half-way point"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    base = os.path.join(repo.root, "ctr")
    tmp = [f for f in os.listdir(base) if f.startswith(".tmp-")]
    assert len(tmp) == 1 and os.path.exists(os.path.join(base, tmp[0], stage))  # it did get halfway
    assert repo.versions("ctr") == [first] and repo.latest("ctr") == first
    assert repo.models() == ["ctr"]
    second = repo.publish("ctr", b"<PMML second/>")
    assert second.number == 2 and repo.read_pmml(repo.resolve("ctr")) == b"<PMML second/>"


def test_claim_lost_to_a_rival_moves_to_the_next_number(repo, tmp_path):
    # Deterministic version of the race: a rival takes n between our listing and our rename.
    repo.publish("ctr", b"<PMML one/>")
    base = os.path.join(repo.root, "ctr")
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "manifest.json").write_bytes(open(os.path.join(base, "1", "manifest.json"), "rb").read())
    (ours / "model.pmml").write_bytes(b"<PMML one/>")
    tried: list[int] = []

    def attempt(number: int) -> None:
        tried.append(number)
        if len(tried) == 1:
            assert repo.publish("ctr", b"<PMML rival/>").number == number
        os.rename(ours, os.path.join(base, str(number)))  # ENOTEMPTY when the rival won

    assert repo._claim(base, attempt) == 3 and tried == [2, 3]
    assert repo.read_pmml(repo.resolve("ctr:2")) == b"<PMML rival/>"
    assert repo.read_pmml(repo.resolve("ctr:3")) == b"<PMML one/>"


def test_object_store_claim_lost_to_a_rival():
    import uuid

    import fsspec

    root = f"memory://pmmlkit-race-{uuid.uuid4().hex}"
    repo, fs = Repository(root), fsspec.filesystem("memory")
    repo.publish("ctr", b"<PMML one/>")
    base = f"{root}/ctr".replace("memory://", "/")
    tried: list[int] = []

    def attempt(number: int) -> None:
        tried.append(number)
        if len(tried) == 1:
            repo.publish("ctr", b"<PMML rival/>")
        with fs.open(f"{base}/{number}/.claim", "xb") as marker:  # FileExistsError if taken
            marker.write(b"ours")

    try:
        assert repo._claim(base, attempt) == 3 and tried == [2, 3]
        assert repo.read_pmml(repo.resolve("ctr:2")) == b"<PMML rival/>"
    finally:
        fs.rm(base.rsplit("/", 1)[0], recursive=True)


def label_delete_race(make_repo: Callable[[], Repository], pmml: bytes, rounds: int = 12) -> None:
    """set_label and delete race on the same version: one of them may lose, never both win."""
    repo = make_repo()
    outcomes = set()
    for _ in range(rounds):
        number = repo.publish("clf", pmml).number
        barrier = threading.Barrier(2)

        def label(barrier: threading.Barrier, number: int) -> str:
            barrier.wait()
            try:
                make_repo().set_label("clf", "stable", number)
                return "labelled"
            except ModelNotFoundError:
                return "label refused"

        def delete(barrier: threading.Barrier, number: int) -> str:
            barrier.wait()
            try:
                make_repo().delete("clf", number)
                return "deleted"
            except RepositoryError:
                return "delete refused"

        with ThreadPoolExecutor(2) as pool:
            got = (pool.submit(label, barrier, number), pool.submit(delete, barrier, number))
            outcome = (got[0].result(), got[1].result())
        outcomes.add(outcome)
        assert outcome != ("labelled", "deleted")
        if repo.labels("clf").get("stable") == number:
            assert repo.resolve("clf@stable").number == number  # the label's target is published
        else:
            assert outcome[0] == "label refused"
    assert outcomes - {("label refused", "delete refused")}, outcomes  # the race was really run


def test_a_label_never_lands_on_a_deleted_version(repo):
    """Locally both sides hold the labels lock, and set_label checks the target inside it."""
    label_delete_race(lambda: Repository(repo.root), payload("w", 0))
