"""Numbers reach every backend as PMML types them: int32 integers, float32 floats, typed categories.

Issues 13.10 (big integers), 12.2 (dataType="float") and 12.3 (integer categories written "1.0").
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import InvalidValueError, TypeConversionError
from pmmlkit.evaluator.contract import Contract
from pmmlkit.pmml import loader
from tests.docs import x_to_y

BACKENDS = ("native", "jpmml", "pypmml")

INTEGER_DOC = b"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="n" optype="continuous" dataType="integer"/>
    <DataField name="k" optype="categorical" dataType="integer"><Value value="1.0"/><Value value="2.0"/></DataField>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="n"/><MiningField name="k"/></MiningSchema>
    <RegressionTable intercept="10">
      <NumericPredictor name="n" coefficient="1"/>
      <CategoricalPredictor name="k" value="1.0" coefficient="100"/>
      <CategoricalPredictor name="k" value="2.0" coefficient="200"/>
    </RegressionTable>
  </RegressionModel>
</PMML>
"""  # noqa: E501 - PMML text reads one element per line

TREE_DOC = b"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="x" optype="continuous" dataType="float"/>
    <DataField name="k" optype="categorical" dataType="integer"><Value value="1.0"/><Value value="2.0"/><Value value="3.0"/></DataField>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <TreeModel functionName="regression" noTrueChildStrategy="returnLastPrediction">
    <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x"/><MiningField name="k"/></MiningSchema>
    <Node score="0">
      <True/>
      <Node score="1"><SimplePredicate field="x" operator="lessOrEqual" value="0.1"/>
        <Node score="10"><SimplePredicate field="k" operator="equal" value="2.0"/></Node>
        <Node score="11"><True/></Node>
      </Node>
      <Node score="2"><True/>
        <Node score="20"><SimplePredicate field="k" operator="equal" value="2.0"/></Node>
        <Node score="21"><True/></Node>
      </Node>
    </Node>
  </TreeModel>
</PMML>
"""  # noqa: E501 - PMML text reads one element per line

BIG = [2 ** 31, 2 ** 63, -(2 ** 63) - 1, 10 ** 20, 1e20, -2.0 ** 31 - 1, str(2 ** 31), str(2 ** 63), "1e20",
       float(2 ** 63), 10 ** 400]


@pytest.fixture(scope="module", params=BACKENDS)
def integer_model(request):
    return Evaluator.from_bytes(INTEGER_DOC, backend=request.param)


@pytest.mark.parametrize("value", BIG, ids=[repr(v)[:24] for v in BIG])
def test_integers_beyond_int32_are_one_reject_on_every_backend(integer_model, value):
    with pytest.raises(TypeConversionError, match=r"field 'n': value .* is outside the range of dataType "
                                                  r"integer \[-2147483648, 2147483647\]"):
        integer_model.predict({"n": value, "k": 1})


@pytest.mark.parametrize("column", [
    [5, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, 2 ** 63, -(2 ** 63) - 1],           # object column of Python ints
    [5.0, 2.0 ** 31, -2.0 ** 31, 2.0 ** 31 - 1, 1e20, -1e20],                 # float64 column
    ["5", "2147483648", "-2147483648", "2147483647", "9223372036854775808", "1e20"],  # text
], ids=["int", "float", "str"])
def test_a_batch_rejects_the_big_rows_and_scores_the_others(integer_model, column):
    df = pd.DataFrame({"n": column, "k": [1, 2, 1, 2, 1, 2]})
    out = integer_model.predict_batch(df, errors="column")
    assert out["predicted_y"].tolist()[0] == 115.0
    assert out["predicted_y"].tolist()[2] == -(2 ** 31) + 110
    assert out["predicted_y"].tolist()[3] == 2 ** 31 - 1 + 210
    for i in (1, 4, 5):
        assert pd.isna(out["predicted_y"].iloc[i])
        assert f"row {i}: field 'n'" in out["error"].iloc[i]
        assert "outside the range of dataType integer [-2147483648, 2147483647]" in out["error"].iloc[i]
    assert out["error"].isna().tolist() == [True, False, True, True, False, False]


def test_an_int64_column_at_the_limits():
    ev = Evaluator.from_bytes(INTEGER_DOC, backend="native")
    df = pd.DataFrame({"n": np.array([2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 62], dtype=np.int64),
                       "k": [1] * 5})
    out = ev.predict_batch(df, errors="column")
    assert out["error"].isna().tolist() == [True, False, True, False, False]


@pytest.mark.parametrize("k", [1, 1.0, "1", "1.0", np.int64(1), " 1"[1:]])
def test_integer_categories_written_as_decimals_meet_integer_inputs(integer_model, k):
    assert integer_model.predict({"n": 3, "k": k}) == {"predicted_y": 113.0}


def test_integer_categories_still_refuse_other_values(integer_model):
    with pytest.raises(InvalidValueError, match=r"field 'k': value 3 is not one of \['1.0', '2.0'\]"):
        integer_model.predict({"n": 3, "k": 3})
    with pytest.raises(TypeConversionError, match="is not an integer"):
        integer_model.predict({"n": 3, "k": 1.5})


def test_float_fields_are_delivered_rounded_to_32_bits():
    contract = Contract(loader.parse(TREE_DOC).schema)
    x = [0.1, 0.1000000005, 0.10000001, 1e39, None]
    prepared = contract.check_frame(pd.DataFrame({"x": x, "k": [1, 2, 3, 1, 2]}))
    with np.errstate(over="ignore"):
        want = [float(np.float32(v)) if v is not None else np.nan for v in x]
    np.testing.assert_array_equal(prepared.columns["x"], np.array(want))
    assert prepared.columns["x"][3] == np.inf  # as Java's Double.floatValue()
    assert contract.check_record({"x": "0.1000000005", "k": 2})["x"] == float(np.float32(0.1))
    assert contract.check_record({"x": 0.1000000005, "k": "2"})["k"] == 2.0


# x = 0.1000000005 is above the threshold 0.1 as a double, but equal to it as a float.
TREE_ROWS = pd.DataFrame({"x": [0.1, 0.1000000005, 0.10000001, 0.2, 0.05, 0.1000000005],
                          "k": [2, 2, 1, 2, 3, "2.0"]})
TREE_WANT = [10.0, 10.0, 21.0, 20.0, 11.0, 10.0]


@pytest.mark.parametrize("backend", ["native", "jpmml"])
def test_float_thresholds_and_integer_categories_agree_with_jpmml(backend):
    ev = Evaluator.from_bytes(TREE_DOC, backend=backend)
    out = ev.predict_batch(TREE_ROWS, errors="column")
    assert out["error"].isna().all(), out["error"].tolist()
    assert out["predicted_y"].tolist() == TREE_WANT
    assert [ev.predict(r)["predicted_y"] for r in TREE_ROWS.to_dict("records")] == TREE_WANT


def test_pypmml_meets_integer_categories_away_from_float_thresholds():
    """PMML4S compares float fields in double precision (a declared difference); categories agree."""
    far = TREE_ROWS.assign(x=[0.05, 0.05, 0.2, 0.2, 0.05, 0.2])
    ev = Evaluator.from_bytes(TREE_DOC, backend="pypmml")
    assert ev.predict_batch(far)["predicted_y"].tolist() == [10.0, 10.0, 21.0, 20.0, 11.0, 20.0]


def test_the_tree_answers_are_jpmml_evaluators_own():
    """JPMML-Evaluator used directly, on the raw values: the reference the backends are held to."""
    from jpmml_evaluator import make_evaluator
    from jpmml_evaluator.py4j import Py4JBackend

    from pmmlkit.evaluator.jvm import GATEWAY

    ev = make_evaluator(TREE_DOC, backend=Py4JBackend(GATEWAY.get())).verify()
    assert [ev.evaluate(r)["y"] for r in TREE_ROWS.to_dict("records")] == TREE_WANT


# Written by JPMML-SparkML 3.4 for StringIndexer(handleInvalid="keep") over an int column and a
# DecisionTreeRegressor; SPARK_DOC_DECIMAL is the same with its categories written "1.0".
SPARK_DOC = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" xmlns:data="http://jpmml.org/jpmml-model/InlineTable" version="4.4">
    <Header><Application name="JPMML-SparkML library" version="3.4.0"/></Header>
    <DataDictionary>
        <DataField name="k" optype="categorical" dataType="integer">
            <Value value="1"/><Value value="2"/><Value value="3"/>
        </DataField>
        <DataField name="y" optype="continuous" dataType="double"/>
    </DataDictionary>
    <TreeModel functionName="regression" missingValueStrategy="nullPrediction" noTrueChildStrategy="returnLastPrediction">
        <MiningSchema>
            <MiningField name="y" usageType="target"/>
            <MiningField name="k" invalidValueTreatment="asValue" invalidValueReplacement="-999"/>
        </MiningSchema>
        <Output><OutputField name="prediction" optype="continuous" dataType="double"/></Output>
        <Node score="31.0">
            <True/>
            <Node score="21.0">
                <SimpleSetPredicate field="k" booleanOperator="isIn"><Array type="int">1 2</Array></SimpleSetPredicate>
                <Node score="11.0"><SimplePredicate field="k" operator="equal" value="1"/></Node>
            </Node>
        </Node>
    </TreeModel>
</PMML>
"""  # noqa: E501 - PMML text reads one element per line
SPARK_DOC_DECIMAL = (SPARK_DOC.replace(b'<Value value="1"/><Value value="2"/><Value value="3"/>',
                                       b'<Value value="1.0"/><Value value="2.0"/><Value value="3.0"/>')
                     .replace(b'operator="equal" value="1"/>', b'operator="equal" value="1.0"/>'))
SPARK_ROWS = [1, 2, 3, 4, "1.0", 2.0, "3", np.int64(2)]
SPARK_WANT = [11.0, 21.0, 31.0, 31.0, 11.0, 21.0, 31.0, 21.0]  # 4 is invalid: asValue -999, the root


@pytest.mark.parametrize("raw", [SPARK_DOC, SPARK_DOC_DECIMAL], ids=["as written", "written 1.0"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_string_indexed_integer_column_scores_as_jpmml_does(raw, backend):
    ev = Evaluator.from_bytes(raw, backend=backend)
    out = ev.predict_batch(pd.DataFrame({"k": SPARK_ROWS}), errors="column")
    assert out["error"].isna().all(), out["error"].tolist()
    assert out["predicted_y"].tolist() == SPARK_WANT


@pytest.mark.parametrize("raw", [SPARK_DOC, SPARK_DOC_DECIMAL], ids=["as written", "written 1.0"])
def test_the_string_indexed_answers_are_jpmml_evaluators_own(raw):
    from jpmml_evaluator import make_evaluator
    from jpmml_evaluator.py4j import Py4JBackend

    from pmmlkit.evaluator.jvm import GATEWAY

    ev = make_evaluator(raw, backend=Py4JBackend(GATEWAY.get())).verify()
    assert [ev.evaluate({"k": v if not isinstance(v, np.integer) else int(v)})["y"] for v in SPARK_ROWS] == SPARK_WANT


@pytest.mark.parametrize("treatment, want", [
    ('invalidValueTreatment="asValue" invalidValueReplacement="5"', 115.0),
    ('invalidValueTreatment="asMissing" missingValueReplacement="7"', 117.0),
])
@pytest.mark.parametrize("backend", BACKENDS)
def test_values_not_of_the_type_are_invalid_values_as_in_jpmml(backend, treatment, want):
    """JPMML treats 2**31, 2.5 or "abc" for an integer field as invalid: the MiningField says what then."""
    raw = INTEGER_DOC.replace(b'<MiningField name="n"/>', f'<MiningField name="n" {treatment}/>'.encode())
    ev = Evaluator.from_bytes(raw, backend=backend)
    out = ev.predict_batch(pd.DataFrame({"n": [2 ** 31, 2.5, "abc", 2 ** 63, 3], "k": [1] * 5}), errors="column")
    assert out["error"].isna().all(), out["error"].tolist()
    assert out["predicted_y"].tolist() == [want] * 4 + [113.0]
    assert ev.predict({"n": 2 ** 31, "k": 1}) == {"predicted_y": want}


@pytest.mark.parametrize("treatment", ["returnInvalid", "asIs"])
def test_refusing_treatments_still_reject_and_name_the_range(treatment):
    raw = INTEGER_DOC.replace(b'<MiningField name="n"/>',
                              f'<MiningField name="n" invalidValueTreatment="{treatment}"/>'.encode())
    ev = Evaluator.from_bytes(raw, backend="native")
    with pytest.raises(TypeConversionError, match=r"outside the range of dataType integer"):
        ev.predict({"n": 2 ** 31, "k": 1})


def test_the_treatment_answers_are_jpmml_evaluators_own():
    from jpmml_evaluator import make_evaluator
    from jpmml_evaluator.py4j import Py4JBackend

    from pmmlkit.evaluator.jvm import GATEWAY

    for treatment, want in [('invalidValueTreatment="asValue" invalidValueReplacement="5"', 115.0),
                            ('invalidValueTreatment="asMissing" missingValueReplacement="7"', 117.0)]:
        raw = INTEGER_DOC.replace(b'<MiningField name="n"/>', f'<MiningField name="n" {treatment}/>'.encode())
        ev = make_evaluator(raw, backend=Py4JBackend(GATEWAY.get())).verify()
        assert [ev.evaluate({"n": v, "k": 1})["y"] for v in (2 ** 31, 2.5, "abc", 2 ** 63)] == [want] * 4


EDGES = [0.0, -0.0, 1.0, 2.5, -2.5, 2.0 ** 31 - 1, -(2.0 ** 31), 2.0 ** 31, -(2.0 ** 31) - 1, 1e300, -1e300,
         3.4028235e38, 3.4028236e38, 1e-45, 5e-324, 0.1, np.inf, -np.inf, np.nan, 7.0]


def _treated_doc(kind: str, missing: str) -> bytes:
    """y = x, for an input x of dataType ``kind`` whose MiningField carries ``missing``."""
    table = '<RegressionTable intercept="0"><NumericPredictor name="x" coefficient="1"/></RegressionTable>'
    raw = x_to_y('RegressionModel functionName="regression"', table, x=kind)
    return raw.replace(b'<MiningField name="x"/>', f'<MiningField name="x" {missing}/>'.encode())


@pytest.mark.parametrize("kind", ["double", "float", "integer"])
@pytest.mark.parametrize("missing", ["", 'missingValueReplacement="3.5"', 'missingValueReplacement="4"',
                                     'missingValueTreatment="returnInvalid"'])
@pytest.mark.parametrize("values", [EDGES, [1.0, 2.0, np.nan], [1.0, 2.0, 3.0]] + [[1.0, v] for v in EDGES],
                         ids=["edges", "missing", "clean"] + [f"1 and {v!r}" for v in EDGES])
def test_compiled_number_columns_are_numpys(kind, missing, values):
    """The contract's one-pass typing of a plain number column (ckernels.numbers) against NumPy's
    passes, bit for bit (signed zeros, float32 rounding and overflow, int32 limits, NaN), errors too.
    Each edge also stands alone beside a 1: a column of one value the field cannot take goes the
    per-value way whole, so only such a column tests where the compiled pass draws the line."""
    from pmmlkit.evaluator.native import compiled
    from tests.evaluator.kernels import available

    if not available("c"):
        pytest.skip("the compiled kernels are not built or turned off")
    contract = Contract(loader.parse(_treated_doc(kind, missing)).schema)
    frame = pd.DataFrame({"x": np.array(values, dtype=np.float64)})
    answers = []
    before = compiled.name()
    try:
        for k in ("c", "numpy"):
            compiled.use(k)
            prepared = contract.check_frame(frame)
            answers.append((prepared.columns["x"].view(np.int64), prepared.ok, prepared.errors))
    finally:
        compiled.use(before)
    (c, c_ok, c_errors), (numpy, numpy_ok, numpy_errors) = answers
    np.testing.assert_array_equal(c, numpy)
    np.testing.assert_array_equal(c_ok, numpy_ok)
    assert c_errors == numpy_errors
