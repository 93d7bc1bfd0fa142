"""XGBoost classifiers (x-mathContext="float") on the native backend, against JPMML-Evaluator (issue 12)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit.errors import UnsupportedElement
from pmmlkit.evaluator.native import NativeBackend
from pmmlkit.evaluator.native.elements import regression
from pmmlkit.pmml.loader import parse
from tests.evaluator.native_harness import native_results
from tests.evaluator.sklearn_native import assert_native_equals_jpmml, convert

pytest.importorskip("sklearn2pmml")
pytest.importorskip("xgboost")


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return convert(["xgb_cls_bin", "xgb_cls_multi", "xgb_reg"], tmp_path_factory.mktemp("xgb"))


@pytest.mark.parametrize("name", ["xgb_cls_bin", "xgb_cls_multi", "xgb_reg"])
def test_xgboost_compiles_natively_and_equals_jpmml(cases, name):
    case = cases[name]
    assert b'RegressionModel functionName="classification"' in case.pmml or name == "xgb_reg"
    NativeBackend(parse(case.pmml))  # compiles: no UnsupportedElement (it was refused before)
    assert_native_equals_jpmml(case.pmml, case.frame, rtol=0)  # float32 results: exactly JPMML's


def test_float_exp_is_jpmml_pow_not_exp(cases, monkeypatch):
    # JPMML 1.7's FloatValue.exp is (float)Math.pow(2.7182817d, x): np.exp gives other float32 values.
    case = cases["xgb_cls_multi"]
    exact = native_results(parse(case.pmml), case.frame)["probability(0)"]
    monkeypatch.setattr(regression, "float_exp", lambda x: np.exp(x.astype(np.float64)).astype(np.float32))
    other = native_results(parse(case.pmml), case.frame)["probability(0)"]
    assert (exact != other).sum() > 10


def _float_classifier(method: str, n: int) -> bytes:
    """XGBoost's final RegressionModel, reading the inputs directly: ties are easy to reach."""
    fields = "".join(f'<DataField name="x{i}" optype="continuous" dataType="float"/>' for i in range(n))
    mining = "".join(f'<MiningField name="x{i}"/>' for i in range(n))
    if method == "logit":
        tables = ('<RegressionTable intercept="0.0" targetCategory="1">'
                  '<NumericPredictor name="x0" coefficient="1.0"/></RegressionTable>'
                  '<RegressionTable intercept="0.0" targetCategory="0"/>')
    else:
        tables = "".join(f'<RegressionTable intercept="0.0" targetCategory="{i}">'
                         f'<NumericPredictor name="x{i}" coefficient="1.0"/></RegressionTable>' for i in range(n))
    values = "".join(f'<Value value="{i}"/>' for i in range(max(n, 2)))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
 <DataDictionary><DataField name="y" optype="categorical" dataType="integer">{values}</DataField>{fields}</DataDictionary>
 <RegressionModel functionName="classification" normalizationMethod="{method}" x-mathContext="float">
  <MiningSchema><MiningField name="y" usageType="target"/>{mining}</MiningSchema>
  <Output>{''.join(f'<OutputField name="p{i}" optype="continuous" dataType="float" feature="probability" value="{i}"/>'
                   for i in range(max(n, 2)))}</Output>
  {tables}
 </RegressionModel></PMML>""".encode()  # noqa: E501 - PMML text reads one element per line


def test_binary_tie_and_extremes_equal_jpmml():
    # x0 = 0: p = 0.5 for both labels, JPMML's first table ("1") wins; +-100: p rounds to 0 and 1 in float.
    frame = pd.DataFrame({"x0": [0.0, -0.0, 1e-8, -1e-8, 100.0, -100.0, 88.7, -104.0, np.nan, 0.5]})
    assert_native_equals_jpmml(_float_classifier("logit", 1), frame, rtol=0)


def test_softmax_ties_and_extremes_equal_jpmml():
    frame = pd.DataFrame({"x0": [0.0, 1.0, 1.0, 50.0, -50.0, 3.0, np.nan, 1e30],
                          "x1": [0.0, 1.0, 2.0, 50.0, 50.0, 3.0, 1.0, 1e30],
                          "x2": [0.0, 0.5, 2.0, -50.0, 49.0, 3.0, 1.0, 0.0]})
    assert_native_equals_jpmml(_float_classifier("softmax", 3), frame, rtol=0)


def test_what_xgboost_never_writes_stays_refused():
    raw = _float_classifier("softmax", 3).replace(b'<NumericPredictor name="x0" coefficient="1.0"/>',
                                                  b'<NumericPredictor name="x0" coefficient="1.0" exponent="2"/>')
    with pytest.raises(UnsupportedElement, match="exponent='2' with x-mathContext='float'"):
        NativeBackend(parse(raw))
    with pytest.raises(UnsupportedElement, match="normalizationMethod='probit'"):
        NativeBackend(parse(_float_classifier("logit", 1).replace(b'"logit"', b'"probit"')))
    tree = _float_classifier("logit", 1).replace(b"<Output>", b"<Targets><Target/></Targets><Output>")
    with pytest.raises(UnsupportedElement, match="x-mathContext='float' with functionName='classification'"):
        NativeBackend(parse(tree))


@pytest.mark.parametrize("method", ["none", "logit", "exp", "softmax"])
def test_float_regression_table_equals_jpmml(method):
    # 0.1 * x + 0.2 in 32 bits, in JPMML's order (predictors first, then the intercept).
    raw = f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
 <DataDictionary><DataField name="x" optype="continuous" dataType="double"/>
  <DataField name="z" optype="continuous" dataType="double"/><DataField name="y" optype="continuous" dataType="double"/>
 </DataDictionary>
 <RegressionModel functionName="regression" normalizationMethod="{method}" x-mathContext="float">
  <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x"/><MiningField name="z"/></MiningSchema>
  <RegressionTable intercept="0.2"><NumericPredictor name="x" coefficient="0.1"/>
   <NumericPredictor name="z" coefficient="-3.7"/></RegressionTable>
 </RegressionModel></PMML>""".encode()
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x": np.r_[rng.normal(0, 30, 60), 0.0, np.nan, 1e38],
                          "z": np.r_[rng.normal(0, 3, 60), 0.0, 1.0, 1.0]})
    assert_native_equals_jpmml(raw, frame, rtol=0)
