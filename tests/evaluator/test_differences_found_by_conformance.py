"""The PMML4S differences found by the conformance suite are declared at load, only where they apply.

Each rule is checked on a small hand-written document with and without the construct; where
it is cheap, the difference itself is shown by scoring with the pypmml and jpmml backends.
"""
from __future__ import annotations

import pandas as pd
import pytest

from pmmlkit.evaluator.differences import known_differences
from pmmlkit.pmml import loader

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>'
CAT = '<DataField name="cat" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/></DataField>'
Y = '<DataField name="y" optype="continuous" dataType="double"/>'


def glr(cat_field: str = '<MiningField name="cat"/>') -> bytes:
    """y = 1 + 10*[cat=a] + 20*[cat=b] + 2*x, with cat a factor."""
    return (HEAD + f"""<DataDictionary>{CAT}<DataField name="x" optype="continuous" dataType="double"/>{Y}
  </DataDictionary>
  <GeneralRegressionModel modelType="generalizedLinear" functionName="regression" linkFunction="identity"
      distribution="normal">
    <MiningSchema><MiningField name="y" usageType="target"/>{cat_field}<MiningField name="x"/></MiningSchema>
    <ParameterList><Parameter name="p0"/><Parameter name="p1"/><Parameter name="p2"/><Parameter name="p3"/>
    </ParameterList>
    <FactorList><Predictor name="cat"/></FactorList>
    <CovariateList><Predictor name="x"/></CovariateList>
    <PPMatrix><PPCell value="a" predictorName="cat" parameterName="p1"/>
      <PPCell value="b" predictorName="cat" parameterName="p2"/><PPCell value="1" predictorName="x" parameterName="p3"/>
    </PPMatrix>
    <ParamMatrix><PCell parameterName="p0" beta="1"/><PCell parameterName="p1" beta="10"/>
      <PCell parameterName="p2" beta="20"/><PCell parameterName="p3" beta="2"/></ParamMatrix>
  </GeneralRegressionModel></PMML>""").encode()


def division(divisor: str) -> bytes:
    """y = 1 + 2*(x - 1)/divisor, as JPMML-SparkML writes a MinMaxScaler of a constant column."""
    return (HEAD + f"""<DataDictionary><DataField name="x" optype="continuous" dataType="double"/>{Y}</DataDictionary>
  <TransformationDictionary><DerivedField name="s" optype="continuous" dataType="double">
    <Apply function="/"><Apply function="-"><FieldRef field="x"/><Constant dataType="double">1.0</Constant></Apply>
      <Constant dataType="double">{divisor}</Constant></Apply>
  </DerivedField></TransformationDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x"/></MiningSchema>
    <RegressionTable intercept="1"><NumericPredictor name="s" coefficient="2"/></RegressionTable>
  </RegressionModel></PMML>""").encode()


def text_index(normalization: bool) -> bytes:
    """A term frequency of 'good' in a text field, with or without a TextIndexNormalization."""
    norm = """<TextIndexNormalization isCaseSensitive="false"><InlineTable>
      <row><string>goood</string><stem>good</stem></row></InlineTable></TextIndexNormalization>"""
    return (HEAD + f"""<DataDictionary><DataField name="text" optype="categorical" dataType="string"/>{Y}
  </DataDictionary>
  <TransformationDictionary><DerivedField name="tf" optype="continuous" dataType="double">
    <TextIndex textField="text">{norm if normalization else ""}<Constant>good</Constant></TextIndex>
  </DerivedField></TransformationDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="text"/></MiningSchema>
    <RegressionTable intercept="0"><NumericPredictor name="tf" coefficient="1"/></RegressionTable>
  </RegressionModel></PMML>""").encode()


def replaced(replacement: str, *, data_type: str = "string",
             values: str = '<Value value="a"/><Value value="b"/>') -> bytes:
    """A field whose missing values are replaced by ``replacement`` before a regression reads it."""
    return (HEAD + f"""<DataDictionary>
    <DataField name="cat" optype="categorical" dataType="{data_type}">{values}</DataField>{Y}</DataDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema><MiningField name="y" usageType="target"/>
      <MiningField name="cat" missingValueReplacement="{replacement}"/></MiningSchema>
    <RegressionTable intercept="1"/>
  </RegressionModel></PMML>""").encode()


def declared(raw: bytes, backend: str = "pypmml") -> list[tuple[str, str]]:
    return [(d.element, d.path) for d in known_differences(loader.parse(raw).root, backend)]


def test_a_missing_factor_of_a_general_regression_is_declared_and_is_real():
    assert declared(glr()) == [("GeneralRegressionModel", "PMML/GeneralRegressionModel")]
    assert declared(glr()) and declared(glr(), "jpmml") == []
    # A factor whose missing values are replaced never reaches the model missing.
    assert declared(glr('<MiningField name="cat" missingValueReplacement="a"/>')) == []
    from pmmlkit import Evaluator

    rows = pd.DataFrame({"cat": [None, "a"], "x": [1.0, 1.0]})
    reference = Evaluator.from_bytes(glr(), backend="jpmml").predict_batch(rows, errors="column")
    pmml4s = Evaluator.from_bytes(glr(), backend="pypmml").predict_batch(rows, errors="column")
    assert pd.isna(reference["predicted_y"][0]) and pmml4s["predicted_y"][0] == 3.0  # 1 + 2*x: the factor left out
    assert reference["predicted_y"][1] == pmml4s["predicted_y"][1] == 13.0


@pytest.mark.parametrize("divisor, found", [("0", True), ("0.0", True), ("-0.0", True), ("0E0", True),
                                            ("2", False), ("1e-300", False)])
def test_a_division_by_the_constant_zero_is_declared(divisor, found):
    path = "PMML/TransformationDictionary/DerivedField/Apply"
    assert declared(division(divisor)) == ([("Apply", path)] if found else [])


def test_a_division_by_zero_answers_differently_on_pmml4s():
    from pmmlkit import Evaluator

    rows = pd.DataFrame({"x": [3.0, 1.0]})  # 2/0 and 0/0
    reference = Evaluator.from_bytes(division("0"), backend="jpmml").predict_batch(rows, errors="column")
    pmml4s = Evaluator.from_bytes(division("0"), backend="pypmml").predict_batch(rows, errors="column")
    assert reference["predicted_y"][0] == float("inf") and "returned invalid value" in reference["error"][1]
    assert pmml4s["predicted_y"].isna().all() and pmml4s["error"].isna().all()  # NaN, and no error


def test_a_text_index_normalization_is_declared_as_slow():
    [d] = known_differences(loader.parse(text_index(True)).root, "pypmml")
    assert d.element == "TextIndexNormalization" and "very slow" in d.reason
    assert declared(text_index(False)) == []


@pytest.mark.parametrize("replacement, data_type, values, found", [
    ("none", "string", '<Value value="a"/><Value value="b"/>', True),  # sklearn SimpleImputer(fill_value="none")
    ("a", "string", '<Value value="a"/><Value value="b"/>', False),
    ("1", "integer", '<Value value="1.0"/><Value value="2.0"/>', False),  # compared as values of the type
    ("3", "integer", '<Value value="1.0"/><Value value="2.0"/>', True),
    ("a", "string", '<Value value="a" property="missing"/><Value value="b"/>', True),  # a missing marker
    ("z", "string", "", False),  # no list of valid values: any value is valid
])
def test_a_replacement_that_is_not_a_valid_value_is_declared(replacement, data_type, values, found):
    expected = [("MiningField", "PMML/RegressionModel/MiningSchema/MiningField")] if found else []
    assert declared(replaced(replacement, data_type=data_type, values=values)) == expected


def test_pypmml_refuses_a_text_index_normalization_before_loading():
    """PMML4S can hang on it (minutes on one row, holding a JVM thread past any timeout)."""
    from pmmlkit import Evaluator
    from pmmlkit.errors import BackendRefusal

    with pytest.raises(BackendRefusal, match="refuses documents with <TextIndexNormalization>"):
        Evaluator.from_bytes(text_index(True), backend="pypmml")
    Evaluator.from_bytes(text_index(False), backend="pypmml")  # without it, PMML4S loads the model
