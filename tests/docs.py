"""Small hand-written PMML documents with answers known in closed form."""
from __future__ import annotations

import math

COEF = {"intercept": -1.0, "x1": 0.8, "x2": -0.03, "device": {"android": 0.5, "ios": -0.25, "web": 0.0}}
X1_REPLACEMENT = 1.5

Y_DOUBLE = '<DataField name="y" optype="continuous" dataType="double"/>'


def x_to_y(model: str, body: str, *, x: str = "double", y: str = Y_DOUBLE) -> bytes:
    """A document with one input ``x`` and a target ``y``: ``<model ...>``, its MiningSchema, then ``body``.

    ``model`` is the model's opening tag without brackets, e.g. 'RegressionModel functionName="regression"'.
    """
    return inputs_to_y({"x": x}, model, body, y=y)


def inputs_to_y(inputs: dict[str, str], model: str, body: str, *, y: str = Y_DOUBLE) -> bytes:
    """x_to_y with several inputs, name -> dataType (a string input is categorical), in this order."""
    tag = model.split()[0]
    fields = "\n    ".join(f'<DataField name="{name}" optype="{"categorical" if t == "string" else "continuous"}" '
                           f'dataType="{t}"/>' for name, t in inputs.items())
    mining = "".join(f'<MiningField name="{name}"/>' for name in inputs)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    {fields}
    {y}
  </DataDictionary>
  <{model}>
    <MiningSchema><MiningField name="y" usageType="target"/>{mining}</MiningSchema>
    {body}
  </{tag}>
</PMML>""".encode()


def logistic_pmml(coef: dict = COEF, *, verification: str = "") -> bytes:
    """A binary logistic RegressionModel with a categorical predictor and input rules."""
    cats = "".join(f'<CategoricalPredictor name="device" value="{k}" coefficient="{v}"/>'
                   for k, v in coef["device"].items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="x1" optype="continuous" dataType="double"/>
    <DataField name="x2" optype="continuous" dataType="integer"><Interval closure="closedClosed" leftMargin="0" rightMargin="100"/></DataField>
    <DataField name="device" optype="categorical" dataType="string"><Value value="android"/><Value value="ios"/><Value value="web"/></DataField>
    <DataField name="y" optype="categorical" dataType="string"><Value value="yes"/><Value value="no"/></DataField>
  </DataDictionary>
  <RegressionModel functionName="classification" normalizationMethod="logit">
    <MiningSchema>
      <MiningField name="y" usageType="target"/>
      <MiningField name="x1" missingValueReplacement="{X1_REPLACEMENT}" missingValueTreatment="asMean"/>
      <MiningField name="x2" invalidValueTreatment="returnInvalid"/>
      <MiningField name="device" invalidValueTreatment="returnInvalid"/>
    </MiningSchema>
    <Output>
      <OutputField name="probability(yes)" optype="continuous" dataType="double" feature="probability" value="yes"/>
      <OutputField name="probability(no)" optype="continuous" dataType="double" feature="probability" value="no"/>
    </Output>
    <RegressionTable intercept="{coef['intercept']}" targetCategory="yes">
      <NumericPredictor name="x1" coefficient="{coef['x1']}"/>
      <NumericPredictor name="x2" coefficient="{coef['x2']}"/>
      {cats}
    </RegressionTable>
    <RegressionTable intercept="0" targetCategory="no"/>
    {verification}
  </RegressionModel>
</PMML>
""".encode()  # noqa: E501 - one PMML element per line reads like the spec


def logistic_expected(x1: float | None, x2: int, device: str | None, coef: dict = COEF) -> float:
    """P(y = yes) in closed form, with the document's missing-value replacement."""
    x1 = X1_REPLACEMENT if x1 is None or (isinstance(x1, float) and math.isnan(x1)) else x1
    s = coef["intercept"] + coef["x1"] * x1 + coef["x2"] * x2 + coef["device"].get(device, 0.0)
    return 1.0 / (1.0 + math.exp(-s))


def boolean_pmml() -> bytes:
    """A regression over a boolean field: the case where evaluators used to disagree silently."""
    return b"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="member" optype="categorical" dataType="boolean"><Value value="true"/><Value value="false"/></DataField>
    <DataField name="visits" optype="continuous" dataType="integer"/>
    <DataField name="code" optype="categorical" dataType="string"><Value value="1"/><Value value="2"/></DataField>
    <DataField name="spend" optype="continuous" dataType="double"/>
  </DataDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema>
      <MiningField name="spend" usageType="target"/>
      <MiningField name="member"/>
      <MiningField name="visits"/>
      <MiningField name="code"/>
    </MiningSchema>
    <RegressionTable intercept="10">
      <NumericPredictor name="visits" coefficient="2"/>
      <CategoricalPredictor name="member" value="true" coefficient="5"/>
      <CategoricalPredictor name="member" value="false" coefficient="-5"/>
      <CategoricalPredictor name="code" value="1" coefficient="100"/>
      <CategoricalPredictor name="code" value="2" coefficient="200"/>
    </RegressionTable>
  </RegressionModel>
</PMML>
"""  # noqa: E501 - one PMML element per line reads like the spec


def null_prediction_tree_pmml() -> bytes:
    """A tree that must return no prediction when its split field is missing (PMML 4.4 nullPrediction)."""
    return b"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="cat" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/></DataField>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <TreeModel functionName="regression" missingValueStrategy="nullPrediction" noTrueChildStrategy="returnLastPrediction">
    <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="cat"/></MiningSchema>
    <Node score="0">
      <True/>
      <Node score="1"><SimplePredicate field="cat" operator="equal" value="a"/></Node>
      <Node score="2"><SimplePredicate field="cat" operator="equal" value="b"/></Node>
    </Node>
  </TreeModel>
</PMML>
"""


# Two versions of one small model that score every record differently (serving, S3, cluster).
COLORS = ("red", "green", "blue")
# Two versions that score every record differently.
VERSIONED = {
    1: {"intercept": -0.5, "x1": 0.8, "x2": -0.3, "color": {"red": 0.4, "green": -0.2, "blue": 0.0}},
    2: {"intercept": 1.5, "x1": -0.6, "x2": 0.9, "color": {"red": -1.0, "green": 0.5, "blue": 0.2}},
}


def versioned_pmml(version: int = 1) -> bytes:
    """Binary logistic RegressionModel over x1, x2 (double) and color; target y in {0, 1}."""
    c = VERSIONED[version]
    values = "".join(f'<Value value="{v}"/>' for v in COLORS)
    colors = "".join(f'<CategoricalPredictor name="color" value="{k}" coefficient="{w}"/>'
                     for k, w in c["color"].items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header description="pmmlkit test model v{version}"/>
  <DataDictionary>
    <DataField name="x1" optype="continuous" dataType="double"/>
    <DataField name="x2" optype="continuous" dataType="double"/>
    <DataField name="color" optype="categorical" dataType="string">{values}</DataField>
    <DataField name="y" optype="categorical" dataType="string"><Value value="0"/><Value value="1"/></DataField>
  </DataDictionary>
  <RegressionModel functionName="classification" normalizationMethod="logit">
    <MiningSchema>
      <MiningField name="y" usageType="target"/>
      <MiningField name="x1"/>
      <MiningField name="x2"/>
      <MiningField name="color" invalidValueTreatment="returnInvalid"/>
    </MiningSchema>
    <Output>
      <OutputField name="probability(0)" optype="continuous" dataType="double" feature="probability" value="0"/>
      <OutputField name="probability(1)" optype="continuous" dataType="double" feature="probability" value="1"/>
    </Output>
    <RegressionTable intercept="{c['intercept']}" targetCategory="1">
      <NumericPredictor name="x1" coefficient="{c['x1']}"/>
      <NumericPredictor name="x2" coefficient="{c['x2']}"/>
      {colors}
    </RegressionTable>
    <RegressionTable intercept="0" targetCategory="0"/>
  </RegressionModel>
</PMML>
""".encode()


def color_record(x1: float = 1.0, x2: float = 2.0, color: str = "red") -> dict:
    return {"x1": x1, "x2": x2, "color": color}


def versioned_p1(rec: dict, version: int = 1) -> float:
    """P(y=1), computed without any PMML backend."""
    c = VERSIONED[version]
    z = c["intercept"] + c["x1"] * rec["x1"] + c["x2"] * rec["x2"] + c["color"][rec["color"]]
    return 1.0 / (1.0 + math.exp(-z))


def treatments_pmml() -> bytes:
    """Invalid-value treatments side by side: y = 10 + 2*a + 3*b, with closed-form answers.

    a: valid in [0, 10]; invalid -> asMissing, and missing -> replaced by 5.
    b: valid in [0, 10]; invalid -> asIs (scored with the value as given).
    c: categorical x/y; invalid -> asValue "y"; contributes 100 when "y".
    """
    return b"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="a" optype="continuous" dataType="double"><Interval closure="closedClosed" leftMargin="0" rightMargin="10"/></DataField>
    <DataField name="b" optype="continuous" dataType="double"><Interval closure="closedClosed" leftMargin="0" rightMargin="10"/></DataField>
    <DataField name="c" optype="categorical" dataType="string"><Value value="x"/><Value value="y"/></DataField>
    <DataField name="when" optype="continuous" dataType="date"/>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema>
      <MiningField name="y" usageType="target"/>
      <MiningField name="a" invalidValueTreatment="asMissing" missingValueReplacement="5"/>
      <MiningField name="b" invalidValueTreatment="asIs"/>
      <MiningField name="c" invalidValueTreatment="asValue" invalidValueReplacement="y"/>
    </MiningSchema>
    <RegressionTable intercept="10">
      <NumericPredictor name="a" coefficient="2"/>
      <NumericPredictor name="b" coefficient="3"/>
      <CategoricalPredictor name="c" value="y" coefficient="100"/>
    </RegressionTable>
  </RegressionModel>
</PMML>
"""  # noqa: E501 - one PMML element per line reads like the spec
