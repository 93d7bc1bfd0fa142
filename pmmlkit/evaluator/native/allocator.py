"""glibc's allocator, told to keep batch-sized arrays in its heap instead of fresh mmaps.

A native batch makes many short-lived arrays of a few MiB (feature matrices, membership
rows, results per chunk). glibc serves each one above its mmap threshold (128 KiB, then
adapting to at most 32 MiB) with a fresh ``mmap`` and gives it back at ``free``: every batch
then pays page faults on memory it had a moment ago, and with several threads each
``munmap`` also stops the other cores to flush their TLBs. That made a second scoring
thread *slower* than one (measured: 1M rows of the demo GBT, 0.60 s on one thread, 0.74 s
on two). With arrays up to 32 MiB kept in the heap, and the heap's top trimmed only past
128 MiB free, the same work takes 0.43 s on one thread and 0.29 s on two; answers are
unchanged (this is where memory comes from, not what is computed).

The cost: up to 128 MiB of freed heap may stay mapped to the process. It is set once, when
the first native backend is built, only on glibc, and not at all when the process already
chose (``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` in the environment) or
``PMMLKIT_MALLOC_TUNING=0`` says no.
"""
from __future__ import annotations

import ctypes
import logging
import os
import platform
import threading

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's own ceiling for its adaptive threshold
TRIM_THRESHOLD = 128 << 20
OPT_OUT = "PMMLKIT_MALLOC_TUNING"

_lock = threading.Lock()
_state: bool | None = None  # None: not tried yet; then whether the allocator was tuned


def tune() -> bool:
    """Tune glibc's thresholds once per process; whether they are now pmmlkit's."""
    global _state
    with _lock:
        if _state is None:
            _state = _apply()
        return _state


def _apply() -> bool:
    if os.environ.get(OPT_OUT, "1") == "0":
        return False
    if any(k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False  # the process chose its own
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    if not done:
        log.debug("glibc refused mallopt; the allocator keeps its defaults")
    return done
