"""Check training data against its spec before fitting: one line naming column, row, value and fix.

Without this, one ``abc`` in a numeric column fails deep inside Spark's cast
(CAST_INVALID_INPUT) with a hundred lines of Java. The checks cost nothing on good
data: a column Spark already typed as a number is not looked at again; only a numeric
column that CSV inference left as text is scanned, and the row is located only when a
bad value was found.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import FIRST_ROW, DataError
from .pipeline import REGRESSION

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from .spec import TrainingSpec

_ID = "__pmmlkit_row_id"
_SHOWN_COLUMNS = 8  # an example row shows this many columns at most


def check_data(spec: TrainingSpec, df: DataFrame, *, task: str | None) -> None:
    """Raise DataError for the first numeric column (or regression label) holding text."""
    types = dict(df.dtypes)
    for column in spec.numeric:
        if types.get(column) == "string":
            _check_numeric(df, column, spec=spec, role="numeric")
    if task == REGRESSION and spec.label and types.get(spec.label) == "string":
        _check_numeric(df, spec.label, spec=spec, role="label")


def _not_a_number(column: str) -> Column:
    from pyspark.sql import functions as F

    value = F.trim(F.col(column))
    return value.isNotNull() & (value != "") & value.try_cast("double").isNull()


def _check_numeric(df: DataFrame, column: str, *, spec: TrainingSpec, role: str) -> None:
    from pyspark.sql import functions as F

    numbered = df.withColumn(_ID, F.monotonically_increasing_id())
    bad = numbered.filter(_not_a_number(column))
    stats = bad.agg(F.count(F.lit(1)).alias("n"), F.min(_ID).alias("first")).first()
    if stats is None or not stats["n"]:
        return
    first_id = stats["first"]
    row = bad.filter(F.col(_ID) == first_id).drop(_ID).first()
    # monotonically_increasing_id is ordered but not contiguous: count the rows before it.
    number = numbered.filter(F.col(_ID) < first_id).count() + FIRST_ROW
    filled = df.filter(F.col(column).isNotNull() & (F.trim(F.col(column)) != "")).count()
    value = row[column] if row is not None else None
    raise DataError(_message(spec, column, role=role, value=value, number=number, bad=stats["n"],
                             filled=filled, row=row.asDict() if row is not None else {}))


def _message(spec: TrainingSpec, column: str, *, role: str, value: Any, number: int, bad: int,
             filled: int, row: dict[str, Any]) -> str:
    where = f"row {number} (0 = the first data row): {_preview(row, column)}"
    if role == "label":
        estimator = spec.estimator.type if spec.estimator else "the estimator"
        return (f"data {spec.data!r}: the label {column!r} must be a number for {estimator}, "
                f"but {bad} of {filled} rows hold text, e.g. {value!r} in {where}; use a classifier "
                "(e.g. gbt_classifier) for a text label, or fix those values")
    if bad == filled:
        return (f"data {spec.data!r}: column {column!r} is listed as numeric but holds text, e.g. "
                f"{value!r} in {where}; list it under 'categorical' instead")
    return (f"data {spec.data!r}: column {column!r} is listed as numeric but {bad} of {filled} rows "
            f"hold values that are not numbers, e.g. {value!r} in {where}; fix those values or leave "
            f"them empty (missing values are imputed), or list {column!r} under 'categorical'")


def _preview(row: dict[str, Any], column: str) -> str:
    """``{'id': 7, 'age': 'abc', ...}``: the bad column first, then a few others."""
    names = [column, *[c for c in row if c != column]][:_SHOWN_COLUMNS]
    shown = ", ".join(f"{c!r}: {row[c]!r}" for c in names)
    return "{" + shown + (", ...}" if len(row) > len(names) else "}")
