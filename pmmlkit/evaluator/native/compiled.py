"""Which kernels the native backend runs: the compiled C ones (built at install) or NumPy's.

``PMMLKIT_NATIVE_KERNELS``: ``auto`` (default: C when the extension was built, else NumPy),
``numpy`` (force the fallback) or ``c`` (require the extension; an error when it is absent).
Both give the same bits; the fallback exists for machines that installed without a compiler.
"""
from __future__ import annotations

import importlib
import logging
import os
from types import ModuleType

from ...errors import ConfigError

log = logging.getLogger(__name__)

ENV = "PMMLKIT_NATIVE_KERNELS"
ABI = 7  # _ckernels.c's PMMLKIT_KERNELS_ABI: the node layout and signatures this code packs
CHOICES = ("auto", "c", "numpy")
_chosen: ModuleType | None | bool = False  # False: not resolved yet


def _resolve(choice: str) -> ModuleType | None:
    if choice not in CHOICES:
        raise ConfigError(f"{ENV}={choice!r}; expected one of {list(CHOICES)}")
    if choice == "numpy":
        return None
    try:
        module = importlib.import_module(f"{__package__}._ckernels")
        if getattr(module, "ABI", None) != ABI:  # built from another version of _ckernels.c
            log.warning("the compiled kernels in %s are a stale build (ABI %s, expected %s): using the NumPy "
                        "kernels; rebuild with pip install -e .", getattr(module, "__file__", module.__name__),
                        getattr(module, "ABI", None), ABI)
            raise ImportError(f"a stale build of the compiled kernels (ABI {getattr(module, 'ABI', None)}, "
                              f"expected {ABI})")
    except ImportError as e:
        if choice == "c":
            raise ConfigError(f"{ENV}=c but the compiled kernels are not built ({e}); reinstall pmmlkit "
                              "where a C compiler and Python's headers are present (pip install -e .), "
                              f"or set {ENV}=numpy") from None
        return None
    return module


def kernels() -> ModuleType | None:
    """The compiled kernels module, or None for the NumPy path (resolved once per process)."""
    global _chosen
    if _chosen is False:
        _chosen = _resolve(os.environ.get(ENV, "auto").strip().lower() or "auto")
    return _chosen  # type: ignore[return-value]


def use(choice: str) -> str:
    """Switch kernels (tests, benchmarks): ``auto``, ``c`` or ``numpy``; returns the kind now in use."""
    global _chosen
    _chosen = _resolve(choice)
    return name()


def name() -> str:
    return "c" if kernels() is not None else "numpy"
