"""Load one version for the server without starving the requests being served meanwhile.

Loading a large model (a 27 MB tree of 300k nodes) is seconds of Python work in
the poller thread, which shares the GIL with the event loop. Measured with a
ticking thread, the long stalls do not come from the Python code (the GIL
switches every few milliseconds) but from the cyclic garbage collector: the
millions of objects a load allocates trigger full collections, each holding the
GIL for up to seconds. So while a version loads:

* the cyclic GC is paused (reference counting still frees everything acyclic),
* the loader's GIL slice is shortened, so a request waiting for the GIL waits
  at most ``SLICE`` seconds instead of the default 5 ms,

and once the load is done the new objects are frozen out of the collector
(``gc.freeze``): later collections never scan the loaded model again. Unloading a
version unfreezes (``release``), so the retired model's cycles can be reclaimed.
"""
from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Iterator
from typing import Any

from ..evaluator import Evaluator

SLICE = 0.0005  # seconds; measured: see the README's serving section

_gate = threading.Lock()
_active = 0
_saved: tuple[bool, float] = (True, 0.005)


@contextlib.contextmanager
def gentle() -> Iterator[None]:
    """Run a load with the GC paused and a short GIL slice; nested and concurrent loads share it."""
    global _active, _saved
    with _gate:
        if _active == 0:
            _saved = (gc.isenabled(), sys.getswitchinterval())
            gc.disable()
            sys.setswitchinterval(min(SLICE, _saved[1]))
        _active += 1
    try:
        yield
    finally:
        with _gate:
            _active -= 1
            if _active == 0:
                gc.freeze()  # what the load built is long-lived: never scan it again
                sys.setswitchinterval(_saved[1])
                if _saved[0]:
                    gc.enable()


def release() -> None:
    """A version was unloaded: let the collector see frozen objects again, so its cycles are freed."""
    with _gate:
        if _active == 0:
            gc.unfreeze()


def load_evaluator(raw: bytes, *, backend: str, version: Any, repository: Any = None) -> Evaluator:
    """Parse, compile and self-verify ``raw`` (blocking; called from the poller thread).

    With ``repository``, the version's published background (explanations) is read on first use.
    """
    with gentle():
        ev = Evaluator.from_bytes(raw, backend=backend, verify=True, source=version.ref, version=version)
    if repository is not None:
        from ..evaluator.explaining import use_version_background

        use_version_background(ev, repository, version)
    return ev
