"""The JVM killed under load: every call answers right or raises BackendUnavailable, within a bound."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import BackendUnavailable
from pmmlkit.evaluator.jvm import GATEWAY
from tests.docs import logistic_pmml

THREADS = 8
BOUND_SECONDS = 30  # a JVM restart plus a model reload, on a loaded 2-core machine
RECORDS = [{"x1": 0.1 * i, "x2": i % 100, "device": ("ios", "web", "android")[i % 3]} for i in range(30)]


def _kill_jvm() -> int:
    pid = int(GATEWAY.jvm.java.lang.ProcessHandle.current().pid())
    os.kill(pid, signal.SIGKILL)
    return pid


@pytest.mark.parametrize("backend", ["jpmml", "pypmml"])
def test_calls_in_flight_when_the_jvm_is_killed_are_retried_or_unavailable(backend):
    ev = Evaluator.from_bytes(logistic_pmml(), backend=backend)
    expected = [ev.predict(r) for r in RECORDS]
    generation = GATEWAY.generation
    outcomes: list[tuple[str, float]] = []
    wrong: list[str] = []
    stop = threading.Event()

    def caller(k: int) -> None:
        i = k
        while not stop.is_set():
            record = RECORDS[i % len(RECORDS)]
            started = time.monotonic()
            try:
                got = ev.predict(record)
                kind = "ok" if got == expected[i % len(RECORDS)] else "wrong"
                if kind == "wrong":
                    wrong.append(f"{record}: {got}")
            except BackendUnavailable as e:
                kind = "unavailable"
                assert e.retry_after > 0
            except Exception as e:  # noqa: BLE001 - anything else is the defect under test
                kind = f"{type(e).__name__}: {e}"
            outcomes.append((kind, time.monotonic() - started))
            i += THREADS

    threads = [threading.Thread(target=caller, args=(k,), daemon=True) for k in range(THREADS)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # calls in flight on every thread
    before = len(outcomes)
    _kill_jvm()
    deadline = time.monotonic() + BOUND_SECONDS
    while GATEWAY.generation == generation and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # and calls on the new JVM
    stop.set()
    for t in threads:
        t.join(BOUND_SECONDS)
    assert not any(t.is_alive() for t in threads), f"a call hung for more than {BOUND_SECONDS} s"
    kinds = {kind for kind, _ in outcomes}
    assert kinds <= {"ok", "unavailable"}, kinds - {"ok", "unavailable"}
    assert not wrong
    assert GATEWAY.generation == generation + 1, "one restart shared by every failing thread"
    assert before > 0 and sum(kind == "ok" for kind, _ in outcomes[before:]) > 0
    assert max(seconds for _, seconds in outcomes) < BOUND_SECONDS
    assert ev.predict(RECORDS[0]) == expected[0]


def test_a_call_whose_retry_dies_too_raises_backend_unavailable():
    ev = Evaluator.from_bytes(logistic_pmml(), backend="jpmml")
    record = RECORDS[1]
    expected = ev.predict(record)
    killed: list[int] = []
    inner = ev.backend._model._load

    def load_then_die(gw, jvm):  # the JVM dies again while the retry reloads the model
        killed.append(_kill_jvm())
        time.sleep(0.5)
        return inner(gw, jvm)

    _kill_jvm()
    ev.backend._model._load = load_then_die
    with pytest.raises(BackendUnavailable, match="died during the call and again on the retry") as e:
        ev.predict(record)
    assert e.value.retry_after > 0
    ev.backend._model._load = inner
    assert ev.predict(record) == expected  # the next call starts a JVM of its own
