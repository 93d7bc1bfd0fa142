"""The reference: JPMML-Evaluator used directly, through its own Python API.

Inputs reach it exactly as the user holds them (Python ints, floats, strings, bools,
None), not through pmmlkit's input contract: the contract is under test too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Answer:
    """The reference's results for a frame: one object column per result field, and per-row errors."""

    results: pd.DataFrame
    errors: list[str | None]


def plain(value: Any) -> Any:
    """A raw input value as a plain Python object (NaN/NA -> None), which pickles to Java."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)  # a float32 widens exactly
    return value


def plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([plain(v) for v in frame[c].tolist()], dtype=object, index=frame.index)
                         for c in frame.columns})


class Reference:
    """JPMML-Evaluator in a JVM of its own."""

    def __init__(self, gateway: Any):
        from jpmml_evaluator.py4j import Py4JBackend

        self.gateway = gateway
        self.backend = Py4JBackend(gateway)

    def load(self, raw: bytes) -> Any:
        from jpmml_evaluator import make_evaluator

        return make_evaluator(raw, backend=self.backend)

    def score(self, raw: bytes, frame: pd.DataFrame) -> Answer:
        evaluator = self.load(raw)
        names = [f.getName() for f in evaluator.getInputFields()]
        inputs = plain_frame(frame[[c for c in frame.columns if c in names]])
        # Raw values: no NaN-to-missing rewriting beyond what plain() did.
        out = evaluator.evaluateAll(inputs, nan_as_missing=False, error_col="__errors__")
        errors = out.pop("__errors__").tolist() if "__errors__" in out.columns else [None] * len(frame)
        errors = [None if (e is None or (isinstance(e, float) and math.isnan(e)) or e == "None") else str(e)
                  for e in errors]
        out.index = frame.index
        return Answer(out, errors)

    def jpmml_version(self) -> str:
        return str(self.gateway.jvm.org.jpmml.evaluator.Evaluator.class_.getPackage().getImplementationVersion())
