"""The record path (Evaluator.predict_records) answers exactly as predict_batch and predict do.

The server scores JSON records without pandas; every record must get the answer the
frame path gives it (predict_batch(errors="column")) and the answer it gets alone
(predict), including the wording of every per-record error.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest
from serving_helpers import BACKEND

from pmmlkit import Evaluator
from pmmlkit.errors import EvaluationError, InputError
from tests import docs

DOCS = {
    "versioned": (docs.versioned_pmml(1), [
        {"x1": 1.0, "x2": 2.0, "color": "red"}, {"x1": -2, "x2": 0.5, "color": "blue"},
        {"x1": "abc", "x2": 1.0, "color": "red"}, {"x1": 1.0, "x2": 2.0, "color": "pink"},
        {"x1": None, "x2": 2.0, "color": "green"}, {"x1": "3.5", "x2": 1, "color": "green"},
        {"x1": 1.0, "color": "red"}, {"x1": True, "x2": 1.0, "color": "red"},
        {"x1": 10 ** 30, "x2": 1.0, "color": "red"}, {"x1": 1.0, "x2": [1], "color": "red"},
        {"x1": 1.0, "x2": 2.0, "color": "red", "extra": "ignored"}, {"x1": 1.0, "x2": 2.0, "color": ""}]),
    "logistic": (docs.logistic_pmml(), [
        {"x1": 1.5, "x2": 3, "device": "ios"}, {"x1": None, "x2": 100, "device": "web"},
        {"x1": 0.0, "x2": 101, "device": "ios"}, {"x1": 0.0, "x2": 2.5, "device": "ios"},
        {"x1": 0.0, "x2": 2 ** 31, "device": "android"}, {"x1": 0.0, "x2": "7", "device": "android"},
        {"x1": 0.0, "x2": 7.0, "device": "tablet"}, {"x1": 0.0, "x2": None, "device": "ios"},
        {"x2": 1, "device": "ios"}, {"x1": 2.0, "x2": 1, "device": None}]),
    "boolean": (docs.boolean_pmml(), [
        {"member": True, "visits": 3, "code": "1"}, {"member": "false", "visits": 1, "code": 2},
        {"member": 1, "visits": 0, "code": 1.0}, {"member": "maybe", "visits": 1, "code": "1"},
        {"member": False, "visits": 1.5, "code": "2"}, {"member": None, "visits": 1, "code": "3"}]),
    "treatments": (docs.treatments_pmml(), [
        {"a": 1, "b": 2, "c": "x"}, {"a": 11, "b": 12, "c": "z"}, {"a": None, "b": -1, "c": "y"},
        {"a": "q", "b": 1, "c": "x"}, {"a": 3, "b": "q", "c": "x"}, {"a": 3, "b": 1}]),
    "null_tree": (docs.null_prediction_tree_pmml(), [{"cat": "a"}, {"cat": "b"}, {"cat": None}, {"cat": "c"}]),
}


def alone(ev: Evaluator, record: dict, row: int) -> tuple[dict | None, str | None]:
    """What Evaluator.predict answers this record alone (the documented rule for every record)."""
    try:
        return ev.predict(record), None
    except InputError as e:
        return None, str(type(e)(row, e.field, e.value, e.expected))
    except EvaluationError as e:
        return None, f"row {row}: {e}"


def same(a: dict, b: dict) -> bool:
    def eq(x, y):
        if isinstance(x, float) and isinstance(y, float):
            return x == y or (math.isnan(x) and math.isnan(y))
        return x == y
    return a.keys() == b.keys() and all(eq(a[k], b[k]) for k in a)


def json_ready(d: dict) -> dict:
    return {k: None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v for k, v in d.items()}


@pytest.mark.parametrize("name", sorted(DOCS))
def test_records_answer_as_alone_and_as_batch(name):
    raw, records = DOCS[name]
    with Evaluator.from_bytes(raw, backend=BACKEND) as ev:
        answers = ev.predict_records(records)
        assert len(answers.results) == len(answers.errors) == len(records)
        for i, record in enumerate(records):
            if isinstance(record.get("x2"), list):
                assert answers.errors[i] == ("row 9: field 'x2': value [1] is a JSON list; expected a string, "
                                             "number, boolean or null")
                continue
            result, error = alone(ev, record, i)
            assert answers.errors[i] == error, (i, record)
            if error is None:
                assert same(answers.results[i], json_ready(result)), (i, record, answers.results[i], result)
            else:
                assert answers.results[i] is None
        # The frame path over the records that carry every field (it would impute absent ones).
        # Not a boolean for a number: in a mixed column, check_frame's pd.to_numeric reads True
        # as 1.0, where predict (and a column of booleans only) refuses it; the record path
        # follows predict, the documented rule.
        full = [i for i, r in enumerate(records) if set(ev.schema.input_names) <= set(r)
                and not any(isinstance(v, list) for v in r.values())
                and not (name == "versioned" and isinstance(r["x1"], bool))]
        out = ev.predict_batch(pd.DataFrame([records[i] for i in full], index=full), errors="column")
        for j, i in enumerate(full):
            message = out[ev.error_column].iloc[j]
            assert answers.errors[i] == (message if isinstance(message, str) else None), (i, records[i])


def test_columns_answer_as_records():
    raw, records = DOCS["logistic"]
    with Evaluator.from_bytes(raw, backend=BACKEND) as ev:
        keep = [r for r in records if set(r) == {"x1", "x2", "device"}]
        columns = {k: [r[k] for r in keep] for k in ("x1", "x2", "device")}
        by_columns, by_records = ev.predict_records(columns), ev.predict_records(keep)
        assert by_columns.errors == by_records.errors
        assert by_columns.results == by_records.results
        with pytest.raises(InputError, match="'device': value None is absent from the input columns"):
            ev.predict_records({"x1": [1.0], "x2": [1]})


def test_rows_and_outputs_name_what_the_caller_asked():
    raw, records = DOCS["versioned"]
    with Evaluator.from_bytes(raw, backend=BACKEND) as ev:
        answers = ev.predict_records(records[:3], rows=[40, 41, 42], outputs=["probability(1)"])
        assert answers.errors[2].startswith("row 42: field 'x1': value 'abc'")
        assert list(answers.results[0]) == ["probability(1)"]
