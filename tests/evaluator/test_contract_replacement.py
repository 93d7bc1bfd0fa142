"""A MiningField replacement that is not of the field's type fails only the rows that need it (issue 12).

JPMML-SparkML writes an Imputer over an integer column as missingValueReplacement="50.14..." on a
dataType="integer" field. JPMML-Evaluator 1.7, used directly, then refuses every row with a missing
value there (NumberFormatException) and scores the others; the expected answers below are what it
returned for these very documents and rows.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import PmmlkitError, TypeConversionError

BACKENDS = ("native", "jpmml", "pypmml")
ROWS = pd.DataFrame({"x": [1.0, None, "zz", 3.5]}, dtype=object)
FAIL = "fail"  # JPMML refused the row


def doc(data_type: str, attrs: str) -> bytes:
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>
 <DataField name="x" optype="continuous" dataType="{data_type}"/>
 <DataField name="y" optype="continuous" dataType="double"/>
</DataDictionary>
<RegressionModel functionName="regression">
 <MiningSchema><MiningField name="x" {attrs}/><MiningField name="y" usageType="target"/></MiningSchema>
 <RegressionTable intercept="1"><NumericPredictor name="x" coefficient="2"/></RegressionTable>
</RegressionModel></PMML>""".encode()


# (dataType, MiningField attributes, JPMML's y for the rows 1.0, None, "zz", 3.5)
CASES = [
    ("integer", 'missingValueReplacement="50.146520146520146"', [3.0, FAIL, FAIL, FAIL]),
    ("integer", 'missingValueReplacement="50.0"', [3.0, 101.0, FAIL, FAIL]),
    ("integer", 'missingValueReplacement="1e2"', [3.0, 201.0, FAIL, FAIL]),
    ("double", 'missingValueReplacement="NaN"', [3.0, None, FAIL, 8.0]),
    ("double", 'missingValueReplacement="abc"', [3.0, FAIL, FAIL, 8.0]),
    ("boolean", 'missingValueReplacement="yes"', [3.0, FAIL, FAIL, FAIL]),
    ("integer", 'invalidValueTreatment="asValue" invalidValueReplacement="2.5"', [3.0, None, FAIL, FAIL]),
    ("double", 'invalidValueTreatment="asValue" invalidValueReplacement="abc"', [3.0, None, FAIL, 8.0]),
    ("integer", 'invalidValueTreatment="asMissing" missingValueReplacement="2.5"', [3.0, FAIL, FAIL, FAIL]),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("data_type, attrs, expected", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_rows_like_jpmml(backend: str, data_type: str, attrs: str, expected: list) -> None:
    try:
        ev = Evaluator.from_bytes(doc(data_type, attrs), backend=backend, verify=False)
    except PmmlkitError as e:  # native may refuse a document whose replacement it cannot compare with
        assert backend == "native" and "is not a number" in str(e), e
        return
    out = ev.predict_batch(ROWS, errors="column")
    for row, want in enumerate(expected):
        got, error = out["predicted_y"][row], out["error"][row]
        if want == FAIL:
            assert error and math.isnan(got), (row, got, error)
        else:
            assert error is None, (row, error)
            assert (math.isnan(got) if want is None else got == want), (row, got)


@pytest.mark.parametrize("backend", BACKENDS)
def test_message_names_row_field_replacement_and_type(backend: str) -> None:
    ev = Evaluator.from_bytes(doc("integer", 'missingValueReplacement="50.146520146520146"'),
                              backend=backend, verify=False)
    out = ev.predict_batch(pd.DataFrame({"x": [7, None]}), errors="column")
    assert out["predicted_y"][0] == 15.0 and out["error"][0] is None
    message = out["error"][1]
    for part in ("row 1", "'x'", "missingValueReplacement", "'50.146520146520146'", "integer"):
        assert part in message, message
    with pytest.raises(TypeConversionError, match="missingValueReplacement '50.146520146520146'"):
        ev.predict({"x": None})
    assert ev.predict({"x": 7})["predicted_y"] == 15.0
