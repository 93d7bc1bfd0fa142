"""Serving test helpers: tiny hand-written PMML documents (quick to load on every backend), records, the admin token."""
from __future__ import annotations

import math
import os

ADMIN_TOKEN = "test-admin-token"
# The JVM reference backend until the native one lands; override to test another.
BACKEND = os.environ.get("PMMLKIT_SERVE_TEST_BACKEND", "jpmml")
COLORS = ("red", "green", "blue")


# Coefficients of the two test versions: v2 scores every record differently from v1.
COEFFICIENTS = {
    1: {"intercept": -0.5, "w_x1": 0.8, "w_x2": -0.3, "color_effects": {"red": 0.4, "green": -0.2, "blue": 0.0}},
    2: {"intercept": 1.5, "w_x1": -0.6, "w_x2": 0.9, "color_effects": {"red": -1.0, "green": 0.5, "blue": 0.2}},
}


def logistic_pmml(*, intercept: float, w_x1: float, w_x2: float, color_effects: dict[str, float]) -> bytes:
    """A binary logistic RegressionModel over x1, x2 (double) and color (red/green/blue)."""
    effects = color_effects
    values = "".join(f'<Value value="{c}"/>' for c in COLORS)
    color_terms = "".join(
        f'<CategoricalPredictor name="color" value="{c}" coefficient="{w}"/>' for c, w in effects.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header description="serving test model"/>
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
    <RegressionTable intercept="{intercept}" targetCategory="1">
      <NumericPredictor name="x1" coefficient="{w_x1}"/>
      <NumericPredictor name="x2" coefficient="{w_x2}"/>
      {color_terms}
    </RegressionTable>
    <RegressionTable intercept="0" targetCategory="0"/>
  </RegressionModel>
</PMML>
""".encode()


def pmml(version: int) -> bytes:
    return logistic_pmml(**COEFFICIENTS[version])


def v1() -> bytes:
    return pmml(1)


def v2() -> bytes:
    return pmml(2)


def record(x1: float = 1.0, x2: float = 2.0, color: str = "red") -> dict:
    return {"x1": x1, "x2": x2, "color": color}


def expected_p1(rec: dict, version: int) -> float:
    """P(y=1) for ``rec`` under a test version, computed without any PMML backend."""
    c = COEFFICIENTS[version]
    z = c["intercept"] + c["w_x1"] * rec["x1"] + c["w_x2"] * rec["x2"] + c["color_effects"][rec["color"]]
    return 1.0 / (1.0 + math.exp(-z))
