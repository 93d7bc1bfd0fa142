"""A boolean in a number field is refused the same way by predict and predict_batch.

predict_batch used to read ``True`` as 1.0 in a column that mixed booleans and numbers
(pandas' to_numeric), while predict and the server refused it: one record, two answers.
"""
from __future__ import annotations

import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import InputError
from tests.docs import logistic_pmml


@pytest.fixture(scope="module")
def ev():
    return Evaluator.from_bytes(logistic_pmml(), backend="native")


@pytest.mark.parametrize("field,values", [("x1", [True, 0.5, False]), ("x2", [3, True, 2])])
def test_a_boolean_among_numbers_is_refused_by_the_batch_as_by_predict(ev, field, values):
    df = pd.DataFrame({"x1": [0.5] * 3, "x2": [3] * 3, "device": ["ios"] * 3})
    df[field] = pd.Series(values, dtype=object)
    flagged = [isinstance(v, bool) for v in values]
    for i, v in enumerate(values):
        record = df.iloc[i].to_dict()
        if flagged[i]:
            with pytest.raises(InputError, match=f"field '{field}': value {v} is not (a number|an integer)"):
                ev.predict(record)
    out = ev.predict_batch(df, errors="column")
    assert out[ev.error_column].notna().tolist() == flagged
    for i in [i for i, f in enumerate(flagged) if f]:
        assert out[ev.error_column][i].startswith(f"row {i}: field '{field}': value {values[i]} is not")
    good = [i for i, f in enumerate(flagged) if not f]
    expected = [ev.predict(df.iloc[i].to_dict())["probability(yes)"] for i in good]
    assert out["probability(yes)"][good].tolist() == pytest.approx(expected, rel=1e-12)
