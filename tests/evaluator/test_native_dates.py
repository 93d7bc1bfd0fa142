"""Date and time functions over date/dateTime fields on the native backend, against JPMML-Evaluator (issue 12)."""
from __future__ import annotations

import warnings

import pandas as pd
import pytest

from pmmlkit.errors import UnsupportedElement
from pmmlkit.evaluator.native import NativeBackend
from pmmlkit.pmml.loader import parse

pytest.importorskip("sklearn2pmml")

# Leap days, the epoch, before it, fractions of a second on both sides of it (truncated toward zero),
# the last second of a day, and missing values (the row fails in both backends).
FRAME = pd.DataFrame({
    "d": ["2020-01-01", "1969-12-31", "1900-03-01", "2024-02-29", None, "1970-01-01", "2000-02-29", "1969-01-01"],
    "t": ["2020-01-01T10:00:00", "1969-12-31T23:59:59.5", "1970-01-01T00:00:00.7", "2024-02-29T23:59:59",
          "2000-01-01T00:00:00", None, "1899-12-31T12:00:00", "1969-12-31T00:00:00.25"],
})


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn2pmml.decoration import DateDomain, DateTimeDomain
    from sklearn2pmml.pipeline import PMMLPipeline
    from sklearn2pmml.preprocessing import (
        DaysSinceYearTransformer,
        SecondsSinceMidnightTransformer,
        SecondsSinceYearTransformer,
    )

    from tests.conformance.sklearn_producer import SkLearn2PMML

    train = FRAME.dropna().iloc[:4]
    y = pd.Series(range(len(train)), name="y", dtype=float)
    pipelines = {
        "since_year": ColumnTransformer([
            ("d", make_pipeline(DateDomain(), DaysSinceYearTransformer(year=1970)), ["d"]),
            ("t", make_pipeline(DateTimeDomain(), SecondsSinceYearTransformer(year=2000)), ["t"])]),
        "midnight": ColumnTransformer([("t", make_pipeline(DateTimeDomain(), SecondsSinceMidnightTransformer()),
                                        ["t"])]),
    }
    converter = SkLearn2PMML(tmp_path_factory.mktemp("dates"))
    out = {}
    try:
        for name, columns in pipelines.items():
            pipeline = PMMLPipeline([("columns", columns), ("lr", LinearRegression())])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # sklearn2pmml's applymap deprecation chatter
                pipeline.fit(train, y)
            out[name] = converter.convert(pipeline, name)
    finally:
        converter.close()
    return out


@pytest.mark.parametrize("name", ["since_year", "midnight"])
def test_sklearn2pmml_date_transformers_equal_jpmml(documents, name):
    raw = documents[name]
    assert b'dataType="date' in raw
    NativeBackend(parse(raw))  # compiles (date fields were refused before)
    columns = ["d", "t"] if name == "since_year" else ["t"]
    native = _same_with_errors(raw, FRAME[columns])
    assert native["predicted_y"].notna().sum() >= 5  # row 6: 1899 is more seconds before 2000 than an int holds


def _outputs(calls: str) -> bytes:
    """Each function's integer result as an output field, so every value is compared, not a sum."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
 <DataDictionary>
  <DataField name="d" optype="continuous" dataType="date"/><DataField name="t" optype="continuous" dataType="dateTime"/>
  <DataField name="y" optype="continuous" dataType="double"/>
 </DataDictionary>
 <RegressionModel functionName="regression">
  <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="d"/><MiningField name="t"/></MiningSchema>
  <Output>{calls}</Output>
  <RegressionTable intercept="1.5"/>
 </RegressionModel></PMML>""".encode()


def _call(name: str, function: str, field: str, year: str | None) -> str:
    arg = f'<Constant dataType="integer">{year}</Constant>' if year is not None else ""
    return (f'<OutputField name="{name}" optype="continuous" dataType="integer" feature="transformedValue">'
            f'<Apply function="{function}"><FieldRef field="{field}"/>{arg}</Apply></OutputField>')


def test_every_value_of_every_function_equals_jpmml():
    raw = _outputs(_call("days_d", "dateDaysSinceYear", "d", "1970") + _call("days_t", "dateDaysSinceYear", "t", "1960")
                   + _call("secs_t", "dateSecondsSinceYear", "t", "1970")
                   + _call("midnight", "dateSecondsSinceMidnight", "t", None))
    # A missing value fails the function in JPMML (MissingArgumentException): those rows carry errors.
    for column in ("d", "t"):
        frame = FRAME.copy()
        frame[column] = frame[column].fillna("1980-05-17" if column == "d" else "1980-05-17T08:09:10")
        assert _same_with_errors(raw, frame)["secs_t"].notna().sum() >= 6


def _same_with_errors(raw: bytes, frame: pd.DataFrame) -> pd.DataFrame:
    """Native and JPMML through the public API: the same rows fail, the others agree bit for bit."""
    from pmmlkit import Evaluator

    native = Evaluator.from_bytes(raw, backend="native").predict_batch(frame, errors="column")
    reference = Evaluator.from_bytes(raw, backend="jpmml").predict_batch(frame, errors="column")
    assert native["error"].isna().tolist() == reference["error"].isna().tolist()
    pd.testing.assert_frame_equal(native.drop(columns="error"), reference.drop(columns="error"), check_exact=True)
    return native


def test_dates_read_any_other_way_stay_refused():
    raw = _outputs('<OutputField name="x" optype="continuous" dataType="double" feature="transformedValue">'
                   '<Apply function="+"><FieldRef field="d"/><Constant>1</Constant></Apply></OutputField>')
    with pytest.raises(UnsupportedElement, match="a date field \\('d'\\) read by the model"):
        NativeBackend(parse(raw))
    # JPMML: "TypeCheckException: Expected dateTime value, got date value"
    with pytest.raises(UnsupportedElement, match="dateSecondsSinceMidnight' on a date value"):
        NativeBackend(parse(_outputs(_call("m", "dateSecondsSinceMidnight", "d", None))))
    with pytest.raises(UnsupportedElement, match="dateSecondsSinceYear' on a date value"):
        NativeBackend(parse(_outputs(_call("s", "dateSecondsSinceYear", "d", "2000"))))
    with pytest.raises(UnsupportedElement, match="formatDatetime"):
        NativeBackend(parse(_outputs('<OutputField name="f" optype="categorical" dataType="string" '
                                     'feature="transformedValue"><Apply function="formatDatetime">'
                                     '<FieldRef field="t"/><Constant>%Y</Constant></Apply></OutputField>')))
