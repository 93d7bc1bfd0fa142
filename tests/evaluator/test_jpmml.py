from tests.evaluator.conformance import check_backend


def test_jpmml_conformance():
    check_backend("jpmml")


IMPUTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="city" optype="categorical" dataType="string">
      <Value value="a"/><Value value="b"/>
    </DataField>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema>
      <MiningField name="y" usageType="target"/>
      <MiningField name="city" missingValueReplacement="none"/>
    </MiningSchema>
    <RegressionTable intercept="1.0">
      <CategoricalPredictor name="city" value="a" coefficient="10"/>
      <CategoricalPredictor name="city" value="b" coefficient="20"/>
      <CategoricalPredictor name="city" value="none" coefficient="30"/>
    </RegressionTable>
  </RegressionModel>
</PMML>"""


def test_a_replacement_that_is_not_a_valid_value_is_left_to_jpmml():
    """sklearn's SimpleImputer(fill_value="none") writes this; JPMML used directly scores the row."""
    import pandas as pd

    from pmmlkit import Evaluator

    df = pd.DataFrame({"city": ["a", None, "b"]})
    for backend in ("jpmml", "native"):
        got = Evaluator.from_bytes(IMPUTED, backend=backend).predict_batch(df)
        assert got["predicted_y"].tolist() == [11.0, 31.0, 21.0], backend
