"""Linear explanations of hand-written documents: class order, links, GeneralRegressionModel, refusals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import ExplanationError
from pmmlkit.evaluator.native.explain import explain

HEAD = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>
  <DataField name="y" optype="{optype}" dataType="{ytype}">{values}</DataField>
  <DataField name="x1" optype="continuous" dataType="double"/>
  <DataField name="x2" optype="continuous" dataType="double"/>
  <DataField name="c" optype="categorical" dataType="string">
    <Value value="u"/><Value value="v"/><Value value="w"/></DataField>
</DataDictionary>"""
SCHEMA = """<MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x1"/>
  <MiningField name="x2"/><MiningField name="c"/></MiningSchema>"""
ROWS = pd.DataFrame({"x1": [0.5, -1.0, 2.0, 0.0, 1.5], "x2": [3.0, 1.0, -2.0, 0.5, 0.0],
                     "c": ["u", "v", "w", "u", "v"]})


def doc(model: str, *, classes: list[str] | None = None) -> bytes:
    values = "".join(f'<Value value="{c}"/>' for c in classes or [])
    head = HEAD.format(optype="categorical" if classes else "continuous", ytype="string" if classes else "double",
                       values=values)
    return f"{head}{model}</PMML>".encode()


def explained(raw: bytes, rows: pd.DataFrame = ROWS, background: pd.DataFrame = ROWS):
    ev = Evaluator.from_bytes(raw, backend="native")
    x, z = ev.contract.check_frame(rows), ev.contract.check_frame(background)
    return ev, explain(ev.backend, x.columns, len(rows), z.columns, len(background))


def table(category: str, x1: float, intercept: float = 0.0, extra: str = "") -> str:
    return (f'<RegressionTable intercept="{intercept}" targetCategory="{category}">'
            f'<NumericPredictor name="x1" coefficient="{x1}"/>{extra}</RegressionTable>')


def logistic(first: str, second: str, method: str = "logit") -> bytes:
    cat = '<CategoricalPredictor name="c" value="v" coefficient="0.75"/>'
    return doc(f'<RegressionModel functionName="classification" normalizationMethod="{method}">{SCHEMA}'
               f'{table(first, 1.25, 0.5, cat)}{table(second, 0.0)}</RegressionModel>', classes=["no", "yes"])


def _logit(p):
    return np.log(p / (1 - p))


@pytest.mark.parametrize("first,second", [("yes", "no"), ("no", "yes")])
def test_the_positive_class_is_the_second_value_whatever_the_table_order(first, second):
    ev, e = explained(logistic(first, second))
    assert e.of == "log-odds of y=yes"
    np.testing.assert_allclose(e.raw, _logit(_probability(ev, "yes")), rtol=1e-9)
    assert np.abs(e.residual()).max() < 1e-12
    np.testing.assert_array_equal(e.contributions["x2"], 0.0)  # a field the model does not use


def _probability(ev, label):
    """P(label) as the native plan computes it (these documents have no probability OutputField)."""
    from pmmlkit.evaluator.native.context import Env

    backend = ev.backend
    result = backend._plan(Env(len(ROWS), dict(ev.contract.check_frame(ROWS).columns), backend._ctx,
                               derived=backend._derived))
    return result.probs[:, result.labels.index(label)]


def test_softmax_with_two_tables_explains_the_difference_of_the_tables():
    _, e = explained(logistic("no", "yes", method="softmax"))
    # yes' table is 0: raw = 0 - (0.5 + 1.25 x1 + 0.75 [c=v])
    expected = -(0.5 + 1.25 * ROWS.x1 + 0.75 * (ROWS.c == "v"))
    np.testing.assert_allclose(e.raw, expected, rtol=1e-12)
    np.testing.assert_allclose(e.contributions["c"], -0.75 * ((ROWS.c == "v") - 0.4), rtol=1e-12)


def test_targets_rescale_is_explained_and_clamping_refused():
    model = ('<RegressionModel functionName="regression">{schema}{targets}'
             '<RegressionTable intercept="1"><NumericPredictor name="x1" coefficient="2"/>'
             '<NumericPredictor name="x2" coefficient="-1" exponent="2"/></RegressionTable></RegressionModel>')
    rescale = '<Targets><Target field="y" rescaleFactor="0.5" rescaleConstant="3"/></Targets>'
    ev, e = explained(doc(model.format(schema=SCHEMA, targets=rescale)))
    np.testing.assert_allclose(e.raw, ev.predict_batch(ROWS).iloc[:, 0], rtol=1e-12)
    np.testing.assert_allclose(e.contributions["x2"], -0.5 * (ROWS.x2 ** 2 - (ROWS.x2 ** 2).mean()), rtol=1e-12)
    clamp = '<Targets><Target field="y" min="0"/></Targets>'
    with pytest.raises(ExplanationError, match="Target min='0' of 'y'.*not linear"):
        explained(doc(model.format(schema=SCHEMA, targets=clamp)))


def test_a_term_over_two_fields_is_refused_naming_them():
    term = ('<PredictorTerm name="x1*x2" coefficient="0.3"><FieldRef field="x1"/><FieldRef field="x2"/>'
            '</PredictorTerm>')
    model = (f'<RegressionModel functionName="regression">{SCHEMA}<RegressionTable intercept="0">'
             f'{term}</RegressionTable></RegressionModel>')
    with pytest.raises(ExplanationError, match=r"PredictorTerm x1\*x2 depends on the input fields \['x1', 'x2'\]"):
        explained(doc(model))


def test_a_derived_field_over_two_inputs_is_refused():
    model = (f'<RegressionModel functionName="regression">{SCHEMA}<LocalTransformations>'
             '<DerivedField name="s" optype="continuous" dataType="double"><Apply function="+">'
             '<FieldRef field="x1"/><FieldRef field="x2"/></Apply></DerivedField></LocalTransformations>'
             '<RegressionTable intercept="0"><NumericPredictor name="s" coefficient="1"/></RegressionTable>'
             '</RegressionModel>')
    with pytest.raises(ExplanationError, match=r"NumericPredictor 's' depends on the input fields \['x1', 'x2'\]"):
        explained(doc(model))


def test_multiclass_is_refused():
    tables = table("a", 1.0) + table("b", 2.0) + table("c", 0.0)
    raw = doc(f'<RegressionModel functionName="classification" normalizationMethod="softmax">{SCHEMA}{tables}'
              '</RegressionModel>', classes=["a", "b", "c"])
    with pytest.raises(ExplanationError, match="regression and binary classification; the RegressionModel of "
                                               "'y' has 3 classes"):
        explained(raw)


GRM = """<GeneralRegressionModel modelType="generalizedLinear" functionName="{function}" linkFunction="{link}"
  {extra}>{schema}
  <ParameterList><Parameter name="p0"/><Parameter name="p1"/><Parameter name="p2"/><Parameter name="p3"/>
  </ParameterList>
  <FactorList><Predictor name="c"/></FactorList><CovariateList><Predictor name="x1"/></CovariateList>
  <PPMatrix><PPCell value="1" predictorName="x1" parameterName="p1"/>
    <PPCell value="w" predictorName="c" parameterName="p2"/><PPCell value="2" predictorName="x1" parameterName="p3"/>
  </PPMatrix>
  <ParamMatrix><PCell {cat} parameterName="p0" beta="0.2"/><PCell {cat} parameterName="p1" beta="0.9"/>
    <PCell {cat} parameterName="p2" beta="-1.1"/><PCell {cat} parameterName="p3" beta="0.05"/></ParamMatrix>
</GeneralRegressionModel>"""


def test_general_regression_binary_logit_and_log_link():
    raw = doc(GRM.format(function="classification", link="logit", extra='targetReferenceCategory="no"',
                         schema=SCHEMA, cat='targetCategory="yes"'), classes=["no", "yes"])
    ev, e = explained(raw)
    assert e.of == "log-odds of y=yes"
    eta = 0.2 + 0.9 * ROWS.x1 - 1.1 * (ROWS.c == "w") + 0.05 * ROWS.x1 ** 2
    np.testing.assert_allclose(e.raw, eta, rtol=1e-12)
    np.testing.assert_allclose(e.raw, _logit(_probability(ev, "yes")), rtol=1e-9)
    assert np.abs(e.residual()).max() < 1e-12
    raw = doc(GRM.format(function="regression", link="log", extra="", schema=SCHEMA, cat=""))
    ev, e = explained(raw)
    assert e.of == "linear predictor (eta) of y, before the log link"
    np.testing.assert_allclose(np.exp(e.raw), ev.predict_batch(ROWS).iloc[:, 0], rtol=1e-12)


def test_a_table_the_link_never_reads_does_not_matter():
    """With a binary link only the first table counts (as in JPMML): an interaction in the second is no refusal."""
    term = ('<PredictorTerm coefficient="9"><FieldRef field="x1"/><FieldRef field="x2"/></PredictorTerm>')
    raw = doc(f'<RegressionModel functionName="classification" normalizationMethod="logit">{SCHEMA}'
              f'{table("yes", 1.25, 0.5)}{table("no", 0.0, 0.0, term)}</RegressionModel>', classes=["no", "yes"])
    ev, e = explained(raw)
    np.testing.assert_allclose(e.raw, _logit(_probability(ev, "yes")), rtol=1e-9)
