"""Insight into a model's data: training profiles and drift of new data against them.

profile.py describes a table column by column (histogram bins, category frequencies, missing
rate) as plain JSON that lives beside a model version; drift.py compares a new batch with
such a profile (PSI and a chi-square test per field). Pure NumPy/pandas: no Spark, no JVM.
The names below import their module on first use, so the command line starts fast.
"""
from __future__ import annotations

import importlib
from typing import Any

from .defaults import DEFAULT_THRESHOLD

# (``drift`` the function lives in ``pmmlkit.insight.drift``: a lazy name here would clash with the module)
_LAZY = {"DriftReport": "drift", "FieldDrift": "drift", "Profile": "profile", "profile_frame": "profile"}
__all__ = ["DEFAULT_THRESHOLD", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
