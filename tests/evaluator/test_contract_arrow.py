"""The batch contract on Arrow text (as `pmmlkit score` reads a CSV) and on DataFrames answers every
row as the record contract does (issue 19: the batch paths are vectorised per column, not per row)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pmmlkit.errors import InputError
from pmmlkit.evaluator.contract import Contract
from pmmlkit.pmml import loader
from tests.docs import boolean_pmml, logistic_pmml, treatments_pmml
from tests.evaluator.test_contract_numbers import INTEGER_DOC, TREE_DOC

# Text a CSV cell may hold: numbers in every spelling, missing values, typos, and what only one of
# Arrow's and Python's number parsers reads ("nan(1)", "1_0", " 1", Arabic digits).
ZOO = ["1", "0", "-0", "2.5", "+.5", "1.", "1e3", "1.5E+3", "00012", "2147483647", "2147483648", "-2147483649",
       "1e20", "1e400", "inf", "-Infinity", "nan", "NaN", "nan(1)", "", " 1", "1 ", "1_0", "0x10", "1e", "abc",
       "\u0663", "true", "false", "TRUE", "1.0", "2.0", "3", "0.1000000005", "3.4028235e38", "4e38", "x", "y",
       "ios", "web", "android", "tablet", "2020-01-02", None]
DOCS = {"logistic": logistic_pmml(), "boolean": boolean_pmml(), "treatments": treatments_pmml(),
        "integer": INTEGER_DOC, "float": TREE_DOC}


def _rows(contract: Contract, *, mixed: bool) -> tuple[dict[str, list], np.ndarray]:
    rng = np.random.default_rng(7)
    n = 3 * len(ZOO)
    data = {f: [ZOO[i] for i in rng.permutation(n) % len(ZOO)] for f in contract.schema.input_names}
    if mixed:  # a number among the text: the column is not all text, so it takes pandas' path
        for values in data.values():
            values[5], values[6] = 2.5, 7
    return data, np.arange(10, 10 + n, dtype=np.int64)


def _assert_as_records(contract: Contract, prepared, data: dict[str, list], labels: np.ndarray) -> None:
    """Row by row, the batch's answer is the record's: its typed values, or its error message."""
    position = np.cumsum(prepared.ok) - 1  # row -> its place among the good rows
    for i, row in enumerate(labels):
        try:
            typed = contract.check_record({f: v[i] for f, v in data.items()}, row=int(row))
        except InputError as e:
            assert not prepared.ok[i] and prepared.errors[i] == str(e), (i, prepared.errors.get(i), str(e))
            continue
        assert prepared.ok[i], (i, prepared.errors.get(i))
        for field, value in typed.items():
            got = prepared.columns[field][position[i]]
            same = (got is None and value is None) or got == value or (
                isinstance(value, float) and math.isnan(value) and got != got)
            assert same, (field, data[field][i], got, value)
    for field, (slots, values) in prepared.levels.items():
        expected = prepared.columns[field]
        assert [v if v == v else None for v in values[slots]] == [v if v == v else None for v in expected]


@pytest.mark.parametrize("name", DOCS)
def test_arrow_text_in_chunks_answers_as_records(name):
    contract = Contract(loader.parse(DOCS[name]).schema)
    data, labels = _rows(contract, mixed=False)
    table = pa.table({k: pa.array(v, pa.string()) for k, v in data.items()})
    # in several chunks, as the CSV reader's blocks come: categories are coded across them
    table = pa.Table.from_batches(table.slice(0, 40).to_batches() + table.slice(40, 50).to_batches()
                                  + table.slice(90).to_batches())
    assert table.column(0).num_chunks == 3
    prepared = contract.check_table(table, labels)
    assert prepared.errors and prepared.ok.any()
    _assert_as_records(contract, prepared, data, labels)


@pytest.mark.parametrize("mixed", [False, True], ids=["text columns", "mixed columns"])
@pytest.mark.parametrize("name", DOCS)
def test_dataframes_of_text_or_mixed_values_answer_as_records(name, mixed):
    contract = Contract(loader.parse(DOCS[name]).schema)
    data, labels = _rows(contract, mixed=mixed)
    prepared = contract.check_frame(pd.DataFrame(data, index=pd.Index(labels), dtype=object))
    assert prepared.errors and prepared.ok.any()
    _assert_as_records(contract, prepared, data, labels)


def test_dictionary_text_as_parquet_gives_it():
    contract = Contract(loader.parse(logistic_pmml()).schema)
    data = {"x1": ["0.5", None, "abc"], "x2": ["3", "4", "5"], "device": ["ios", None, "web"]}
    table = pa.table({"x1": pa.array(data["x1"]), "x2": pa.array(data["x2"]),
                      "device": pa.array(data["device"]).dictionary_encode()})
    prepared = contract.check_table(table, np.array([1, 2, 3]))
    assert list(prepared.errors) == [2]  # 'abc' is one reject, with its row number
    _assert_as_records(contract, prepared, data, np.array([1, 2, 3]))
