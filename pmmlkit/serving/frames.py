"""The frame path: records scored through ``predict_batch``/``predict``, for wrapped evaluators.

``Evaluator.predict_records`` (the record path) knows the plain Evaluator only. An evaluator
that wraps one (embedding lookups add inputs the request does not carry) defines ``predict``
and ``predict_batch``; its records are scored here, with the same per-record rules: a record
lacking a key that others carry is scored alone (a batch would fill the gap with NaN and
impute it in silence), a value that is not a JSON scalar fails its record.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..errors import EvaluationError, InputError, MissingFieldError
from ..evaluator.records import Answers, first_non_scalar
from .predict import json_value


def score_frames(ev: Any, data: Sequence[dict[str, Any]] | dict[str, list[Any]], *,
                 outputs: Sequence[str]) -> Answers:
    """Per-record answers of ``ev`` for records (or columns), as the record path gives them."""
    records = data if not isinstance(data, dict) else [
        dict(zip(data, values)) for values in zip(*data.values())]
    n = len(records)
    errors: list[str | None] = [None] * n
    for i, record in enumerate(records):
        bad = first_non_scalar(i, record.items())
        errors[i] = None if bad is None else str(bad)
    todo = [i for i in range(n) if errors[i] is None]
    keys = list(dict.fromkeys(k for i in todo for k in records[i]))
    batch = [i for i in todo if len(records[i]) == len(keys)] if n > 1 else []
    results: list[dict[str, Any] | None] = [None] * n
    if batch:
        frame = pd.DataFrame({k: [records[i][k] for i in batch] for k in keys}, index=pd.Index(batch))
        try:
            out = ev.predict_batch(frame, errors="column")
        except MissingFieldError as e:
            if e.row is not None:
                raise
            batch = []  # a field every record lacks: each record gets its own answer
        else:
            failed = out[ev.error_column].tolist()
            cols = {name: [json_value(v) for v in out[name].astype(object).tolist()] for name in outputs}
            for j, i in enumerate(batch):
                if isinstance(failed[j], str):
                    errors[i] = failed[j]
                else:
                    results[i] = {name: cols[name][j] for name in outputs}
    for i in sorted(set(todo) - set(batch)):
        try:
            answer = ev.predict(records[i])
            results[i] = {name: json_value(answer.get(name)) for name in outputs}
        except InputError as e:
            errors[i] = str(e if e.row == i else type(e)(i, e.field, e.value, e.expected))
        except EvaluationError as e:
            errors[i] = f"row {i}: {e}"
    return Answers(results, errors)
