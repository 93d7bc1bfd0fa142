"""Loading a version does not stall the rest of the process: no GC pauses during a load, state restored."""
from __future__ import annotations

import gc
import sys

from serving_helpers import v1

from pmmlkit.repository.store import Repository
from pmmlkit.serving import loading
from pmmlkit.serving.models import MAX_ERROR_CHARS, Status


def test_no_garbage_collection_runs_while_a_version_loads(tmp_path):
    version = Repository(str(tmp_path)).publish("clf", v1())
    collections = []

    def seen(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    interval, enabled = sys.getswitchinterval(), gc.isenabled()
    gc.callbacks.append(seen)
    try:
        with loading.gentle():
            assert not gc.isenabled() and sys.getswitchinterval() <= loading.SLICE
            for _ in range(20):  # tens of thousands of objects: the GC would run many times
                loading.load_evaluator(v1(), backend="native", version=version)
                [[i] for i in range(10_000)]
    finally:
        gc.callbacks.remove(seen)
    assert collections == []  # every collection is a stop-the-world pause for the event loop
    assert (sys.getswitchinterval(), gc.isenabled()) == (interval, enabled)
    assert gc.get_freeze_count() > 0  # what the load built is out of the collector's way
    loading.release()  # an unload makes it collectable again
    assert gc.get_freeze_count() == 0


def test_status_errors_are_bounded():
    status = Status("END", "x" * 100_000)
    assert len(status.error) < MAX_ERROR_CHARS + 100 and status.error.endswith("more characters)")
