"""Every contract message is bounded, whatever the allowed list or the value (issue 13.1)."""
from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from pmmlkit import Evaluator
from pmmlkit.cli import main
from pmmlkit.errors import InputError, InvalidValueError, MissingFieldError, TypeConversionError
from tests.docs import x_to_y

MAX_MESSAGE = 1024  # bytes, per message, whatever the input
N_VALUES = 50_000


def wide_pmml(n_values: int = N_VALUES) -> bytes:
    """A regression over a categorical field with ``n_values`` allowed values."""
    values = "".join(f'<Value value="value-{i:05d}"/>' for i in range(n_values))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="device" optype="categorical" dataType="string">{values}</DataField>
    <DataField name="x" optype="continuous" dataType="double"/>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="device"/><MiningField name="x"/>
    </MiningSchema>
    <RegressionTable intercept="1">
      <NumericPredictor name="x" coefficient="2"/>
      <CategoricalPredictor name="device" value="value-00001" coefficient="10"/>
    </RegressionTable>
  </RegressionModel>
</PMML>
""".encode()


@pytest.fixture(scope="module")
def wide():
    return Evaluator.from_bytes(wide_pmml(), backend="native")


def test_a_50000_value_field_gives_short_messages(wide):
    bad = pd.DataFrame({"device": [f"tablet-{i}" for i in range(200)], "x": [1.0] * 200})
    out = wide.predict_batch(bad, errors="column")
    sizes = [len(m.encode()) for m in out["error"]]
    assert len(sizes) == 200 and max(sizes) <= MAX_MESSAGE
    assert out["error"].iloc[7] == ("row 7: field 'device': value 'tablet-7' is not one of 50000 values "
                                    "['value-00000', 'value-00001', 'value-00002', 'value-00003', "
                                    "'value-00004', ...]; see the model's metadata for all")
    with pytest.raises(InvalidValueError) as e:
        wide.predict({"device": "tablet", "x": 1.0})
    assert len(str(e.value).encode()) <= MAX_MESSAGE and "50000 values" in str(e.value)


HUGE = "z" * 5_000_000


@pytest.mark.parametrize("record, error", [
    ({"device": HUGE, "x": 1.0}, InvalidValueError),
    ({"device": "value-00001", "x": HUGE}, TypeConversionError),
    ({"device": ["a"] * 100_000, "x": 1.0}, InvalidValueError),
    ({"device": "value-00001", "x": {"k" * 1000: list(range(100_000))}}, TypeConversionError),
])
def test_a_huge_value_is_echoed_cut_with_its_length(wide, record, error):
    with pytest.raises(error) as e:
        wide.predict(record)
    message = str(e.value)
    assert len(message.encode()) <= MAX_MESSAGE, message[:2000]
    if record["device"] is HUGE or record["x"] is HUGE:
        assert "... (5000000 characters)" in message


def test_huge_values_in_a_batch(wide):
    bad = pd.DataFrame({"device": [HUGE[: 1_000_000 + i] for i in range(20)], "x": [HUGE[:10_000]] * 20})
    out = wide.predict_batch(bad, errors="column")
    assert max(len(m.encode()) for m in out["error"]) <= MAX_MESSAGE


def test_absent_fields_among_many_columns(wide):
    many = pd.DataFrame({f"column-{i}": [1] for i in range(10_000)})
    with pytest.raises(MissingFieldError) as e:
        wide.predict_batch(many)
    assert len(str(e.value).encode()) <= MAX_MESSAGE
    assert "10000 values ['column-0', 'column-1'" in str(e.value)


def test_input_error_bounds_whatever_builds_it():
    e = InputError(10 ** 600, "f" * 10_000, "v" * 10_000, "is wrong: " + "because " * 10_000)
    assert len(str(e).encode()) <= MAX_MESSAGE
    assert e.value == "v" * 10_000 and e.field == "f" * 10_000  # the attributes keep everything


def test_score_writes_a_bounded_rejects_file(tmp_path):
    (tmp_path / "m.pmml").write_bytes(wide_pmml())
    rows = "".join(f"tablet-{i},1.0\n" for i in range(200))
    (tmp_path / "in.csv").write_text("device,x\n" + rows)
    r = CliRunner().invoke(main, ["score", str(tmp_path / "in.csv"), "-m", str(tmp_path / "m.pmml"),
                                  "-o", str(tmp_path / "out.csv"), "--max-errors", "1000"])
    assert r.exit_code == 0, r.output
    rejects = pd.read_csv(tmp_path / "out.rejects.csv")
    assert len(rejects) == 200
    assert (tmp_path / "out.rejects.csv").stat().st_size <= 200 * (MAX_MESSAGE + 100)


CAST_PMML = x_to_y('RegressionModel functionName="regression"', """<LocalTransformations>
      <DerivedField name="d" optype="continuous" dataType="double"><FieldRef field="x"/></DerivedField>
    </LocalTransformations>
    <RegressionTable intercept="1"><NumericPredictor name="d" coefficient="2"/></RegressionTable>""", x="string")


def test_a_backend_error_echoing_a_huge_value_is_cut():
    """Free text passes the contract; JPMML's NumberFormatException then quotes all of it."""
    ev = Evaluator.from_bytes(CAST_PMML, backend="jpmml")
    out = ev.predict_batch(pd.DataFrame({"x": ["3", "x" * 100_000]}), errors="column")
    assert out["predicted_y"].iloc[0] == 7.0
    assert out["error"].iloc[1].startswith("row 1: java.lang.NumberFormatException")
    assert len(out["error"].iloc[1].encode()) <= MAX_MESSAGE
