"""Small PMML models over the demo's CTR data (examples/generate_ctr.py), whose targets are data columns.

``clicked`` (a classifier) and ``bid_price`` (a regression) are both columns of the demo's CSV:
what a user keeps beside the predictions to check them.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>'
_INPUTS = """
  <DataField name="age" optype="continuous" dataType="double"/>
  <DataField name="hour" optype="continuous" dataType="double"/>
  <DataField name="ctr_history" optype="continuous" dataType="double"/>
  <DataField name="device" optype="categorical" dataType="string">
    <Value value="android"/><Value value="ios"/><Value value="web"/></DataField>"""
_MINING = """
  <MiningField name="age" missingValueReplacement="36"/>
  <MiningField name="hour" missingValueReplacement="12"/>
  <MiningField name="ctr_history" missingValueReplacement="0.06"/>
  <MiningField name="device" missingValueReplacement="android"/>"""


def ctr_frame(rows: int = 300, seed: int = 3) -> pd.DataFrame:
    """``rows`` rows of the demo's data, as examples/generate_ctr.py writes them."""
    spec = importlib.util.spec_from_file_location("generate_ctr", EXAMPLES / "generate_ctr.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(rows, seed=seed)


def clicked_pmml(*, extra_output: str = "") -> bytes:
    """A logistic classifier of ``clicked`` (0/1) with probability(0), probability(1) outputs."""
    return f"""{_HEAD}
<DataDictionary>{_INPUTS}
  <DataField name="clicked" optype="categorical" dataType="integer"><Value value="0"/><Value value="1"/></DataField>
</DataDictionary>
<RegressionModel functionName="classification" normalizationMethod="logit">
 <MiningSchema><MiningField name="clicked" usageType="target"/>{_MINING}</MiningSchema>
 <Output>
  <OutputField name="probability(0)" optype="continuous" dataType="double" feature="probability" value="0"/>
  <OutputField name="probability(1)" optype="continuous" dataType="double" feature="probability" value="1"/>
  {extra_output}
 </Output>
 <RegressionTable targetCategory="1" intercept="-1.2">
  <NumericPredictor name="age" coefficient="-0.015"/>
  <NumericPredictor name="ctr_history" coefficient="18"/>
  <CategoricalPredictor name="device" value="ios" coefficient="0.45"/>
  <CategoricalPredictor name="device" value="web" coefficient="-0.3"/>
 </RegressionTable>
 <RegressionTable targetCategory="0" intercept="0"/>
</RegressionModel></PMML>""".encode()


def bid_price_pmml() -> bytes:
    """A linear regression of ``bid_price`` on age and hour, without output fields."""
    return f"""{_HEAD}
<DataDictionary>{_INPUTS}
  <DataField name="bid_price" optype="continuous" dataType="double"/>
</DataDictionary>
<RegressionModel functionName="regression">
 <MiningSchema><MiningField name="bid_price" usageType="target"/>{_MINING}</MiningSchema>
 <RegressionTable intercept="0.8"><NumericPredictor name="age" coefficient="0.01"/>
  <NumericPredictor name="hour" coefficient="-0.004"/></RegressionTable>
</RegressionModel></PMML>""".encode()
