"""Typed coercion in front of every backend, the agreement report, diff and timeouts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pmmlkit import Evaluator
from pmmlkit.cli import main
from pmmlkit.errors import EvaluationTimeout
from pmmlkit.evaluator.agreement import compare
from tests.docs import boolean_pmml, logistic_pmml, null_prediction_tree_pmml

ALL = ("native", "jpmml", "pypmml")
# Every spelling PMML allows for the same three records.
SPELLINGS = pd.DataFrame({
    "member": [1, "0", "TRUE", True, 0.0, "false"],
    "visits": ["2", 3.0, 4, 2.0, "3", 4],
    "code": [1, "2", 1.0, "1", 2, 1.0],
})
EXPECTED_SPEND = [10 + 4 + 5 + 100, 10 + 6 - 5 + 200, 10 + 8 + 5 + 100,
                  10 + 4 + 5 + 100, 10 + 6 - 5 + 200, 10 + 8 - 5 + 100]


@pytest.mark.parametrize("backend", ALL)
def test_coercion_gives_every_backend_the_same_typed_values(backend):
    ev = Evaluator.from_bytes(boolean_pmml(), backend=backend)
    out = ev.predict_batch(SPELLINGS)
    np.testing.assert_allclose(out["predicted_spend"], EXPECTED_SPEND, rtol=1e-12)


@pytest.mark.parametrize("backend", ALL)
@pytest.mark.parametrize("field, value, words", [
    ("member", "yes", "is not a boolean; expected true/false or 1/0"),
    ("member", 2, "is not a boolean"),
    ("visits", 2.5, "is not an integer; expected type integer"),
    ("visits", "many", "is not an integer"),
    ("code", 3, "is not one of ['1', '2']"),
])
def test_unconvertible_values_are_row_errors_never_passed_through(backend, field, value, words):
    ev = Evaluator.from_bytes(boolean_pmml(), backend=backend)
    record = {"member": True, "visits": 1, "code": "1", field: value}
    out = ev.predict_batch(pd.DataFrame([record]), errors="column")
    assert out["error"].iloc[0] == f"row 0: field {field!r}: value {value!r} {words}" \
        if words.startswith("is not one") else words in out["error"].iloc[0]
    assert np.isnan(out["predicted_spend"].iloc[0])


def test_compare_reports_agreement_per_column():
    report = compare(boolean_pmml(), SPELLINGS, backends=ALL)
    assert report.agrees
    assert [(c.column, c.backend, c.compared, c.differing) for c in report.columns] == [
        ("predicted_spend", "jpmml", 6, 0), ("error", "jpmml", 6, 0),
        ("predicted_spend", "pypmml", 6, 0), ("error", "pypmml", 6, 0)]


def test_diff_command_agrees_and_disagrees(tmp_path):
    (tmp_path / "m.pmml").write_bytes(logistic_pmml())
    (tmp_path / "d.csv").write_text("x1,x2,device\n0.5,3,ios\n,7,web\n1e300,0,android\nabc,1,ios\n")
    r = CliRunner().invoke(main, ["diff", "-m", str(tmp_path / "m.pmml"), str(tmp_path / "d.csv")])
    assert r.exit_code == 0, r.output
    assert "all backends agree" in r.output and "probability(yes)" in r.output
    # PMML4S answers the root's score where PMML 4.4 (and JPMML) say "no prediction".
    (tmp_path / "tree.pmml").write_bytes(null_prediction_tree_pmml())
    (tmp_path / "t.csv").write_text('cat\na\nb\n""\n')
    r = CliRunner().invoke(main, ["diff", "-m", str(tmp_path / "tree.pmml"), str(tmp_path / "t.csv"),
                                  "--backends", "jpmml,native,pypmml"])
    assert r.exit_code == 1
    assert "backends disagree" in r.output
    rows = [line.split() for line in r.output.splitlines() if line.startswith("predicted_y ")]
    assert rows == [["predicted_y", "native", "3", "0", "0"], ["predicted_y", "pypmml", "3", "1", "inf"]]
    assert "first differing rows" in r.output


def test_timeout_raises_and_evaluator_stays_usable():
    ev = Evaluator.from_bytes(logistic_pmml(), backend="pypmml", timeout=0.001)
    big = pd.DataFrame({"x1": np.linspace(0, 1, 100_000), "x2": 3, "device": "ios"})
    with pytest.raises(EvaluationTimeout, match="took longer than 0.001 s"):
        ev.predict_batch(big)
    ev.timeout = 60
    assert ev.predict({"x1": 0.5, "x2": 3, "device": "ios"})["predicted_y"] in ("yes", "no")
    assert len(ev.predict_batch(big.head(10))) == 10


@pytest.mark.parametrize("backend", ALL)
def test_invalid_value_treatments(backend):
    from tests.docs import treatments_pmml

    ev = Evaluator.from_bytes(treatments_pmml(), backend=backend)
    frame = pd.DataFrame({"a": [1.0, 50.0, None, 2.0], "b": [1.0, 1.0, 1.0, 20.0], "c": ["x", "x", "y", "zzz"]})
    expected = [10 + 2 * 1 + 3 * 1,        # all valid
                10 + 2 * 5 + 3 * 1,        # a invalid -> missing -> 5
                10 + 2 * 5 + 3 * 1 + 100,  # a missing -> 5
                10 + 2 * 2 + 3 * 20 + 100]  # b invalid but asIs; c invalid -> "y"
    np.testing.assert_allclose(ev.predict_batch(frame)["predicted_y"], expected, rtol=1e-12)


def test_dates_are_parsed_or_refused():
    from pmmlkit.errors import TypeConversionError
    from pmmlkit.evaluator.contract import FieldRule
    from pmmlkit.pmml.fields import InputField

    rule = FieldRule(InputField("when", "date", "continuous"))
    assert rule.check("2024-01-05", 0) == "2024-01-05"
    assert rule.check("2024-01-05T10:30:00", 0) == "2024-01-05"
    stamp = FieldRule(InputField("at", "dateTime", "continuous"))
    assert stamp.check("2024-01-05 10:30", 0) == "2024-01-05T10:30:00"
    with pytest.raises(TypeConversionError, match="row 3: field 'when': value 'soon' is not a date"):
        rule.check("soon", 3)
