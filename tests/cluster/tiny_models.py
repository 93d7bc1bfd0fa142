"""A tiny hand-written logistic PMML model, quick to load on every backend, with its exact math."""
from __future__ import annotations

import math

COLORS = ("red", "green", "blue")
# Two versions that score every record differently.
COEFFICIENTS = {
    1: {"intercept": -0.5, "x1": 0.8, "x2": -0.3, "color": {"red": 0.4, "green": -0.2, "blue": 0.0}},
    2: {"intercept": 1.5, "x1": -0.6, "x2": 0.9, "color": {"red": -1.0, "green": 0.5, "blue": 0.2}},
}


def pmml(version: int = 1) -> bytes:
    """Binary logistic RegressionModel over x1, x2 (double) and color; target y in {0, 1}."""
    c = COEFFICIENTS[version]
    values = "".join(f'<Value value="{v}"/>' for v in COLORS)
    colors = "".join(f'<CategoricalPredictor name="color" value="{k}" coefficient="{w}"/>'
                     for k, w in c["color"].items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header description="pmmlkit cluster/S3 test model v{version}"/>
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


def record(x1: float = 1.0, x2: float = 2.0, color: str = "red") -> dict:
    return {"x1": x1, "x2": x2, "color": color}


def expected_p1(rec: dict, version: int = 1) -> float:
    """P(y=1), computed without any PMML backend."""
    c = COEFFICIENTS[version]
    z = c["intercept"] + c["x1"] * rec["x1"] + c["x2"] * rec["x2"] + c["color"][rec["color"]]
    return 1.0 / (1.0 + math.exp(-z))
