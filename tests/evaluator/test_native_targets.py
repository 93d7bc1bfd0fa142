"""Native Targets, float semantics and stable normalisations, each checked against JPMML-Evaluator."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit.errors import UnsupportedElement
from pmmlkit.evaluator import Evaluator
from pmmlkit.evaluator.native import NativeBackend
from pmmlkit.pmml.loader import parse
from tests.evaluator.native_docs import (
    HEAD,
    everything,
    linear_segment,
    mining_sum,
    real_documents,
    tree_classification,
    tree_regression,
)

REAL = real_documents()
ROWS = pd.DataFrame({"x": [0.2, 0.7, None, 0.5]})


def _scores(raw: bytes, df: pd.DataFrame, backend: str) -> pd.DataFrame:
    return Evaluator.from_bytes(raw, backend=backend, verify=False).predict_batch(df, errors="column")


def assert_as_jpmml(raw: bytes, df: pd.DataFrame, *, expected: dict | None = None) -> pd.DataFrame:
    """Native equals JPMML-Evaluator on every result column (and ``expected``, worked out by hand)."""
    ours, ref = _scores(raw, df, "native"), _scores(raw, df, "jpmml")
    for name in ref.columns:
        mine, theirs = ours[name].to_numpy(), ref[name].to_numpy()
        if name == "error":  # the same rows fail; the messages are each backend's own
            assert [v is None for v in mine] == [v is None for v in theirs]
        elif ref[name].dtype == object:
            assert [None if v != v else v for v in mine] == [None if v != v else v for v in theirs], name
        else:
            np.testing.assert_allclose(mine.astype(float), theirs.astype(float), rtol=1e-9, atol=1e-12,
                                       err_msg=name)
    for name, want in (expected or {}).items():
        np.testing.assert_allclose(ours[name].to_numpy(float), want, rtol=1e-12, err_msg=name)
    return ours


# --- Targets ------------------------------------------------------------------------------------

@pytest.mark.parametrize("target,expected", [
    # clamp to [min, max] first, then *factor + constant, then castInteger (JPMML's TargetUtil order)
    ('<Target field="y" rescaleFactor="0.1" rescaleConstant="3.3" min="1.5" max="1.8" castInteger="round"/>',
     [3.0, 3.0, np.nan, 3.0]),
    ('<Target field="y" rescaleFactor="1.25" castInteger="ceiling"><TargetValue defaultValue="7.3"/></Target>',
     [2.0, 3.0, 10.0, 2.0]),  # the default value (no prediction) is rescaled too
    ('<Target field="y" rescaleConstant="-0.5" castInteger="floor"/>', [0.0, 1.0, np.nan, 0.0]),
    ('<Target rescaleConstant="-0.5" castInteger="round"/>', [1.0, 2.0, np.nan, 1.0]),  # half up, as Java
    ('<Target field="y" min="1.25" max="1.75"/>', [1.25, 1.75, np.nan, 1.25]),
])
def test_regression_targets(target, expected):
    assert_as_jpmml(tree_regression(targets=f"<Targets>{target}</Targets>"), ROWS, expected={"predicted_y": expected})


def test_classification_prior_probabilities_when_there_is_no_prediction():
    priors = ('<Targets><Target field="y"><TargetValue value="a" priorProbability="0.1"/>'
              '<TargetValue value="b" priorProbability="0.1"/><TargetValue value="c" priorProbability="0.3"/>'
              '</Target></Targets>')
    output = ('<Output><OutputField name="pa" feature="probability" value="a" dataType="double"/>'
              '<OutputField name="pc" feature="probability" value="c" dataType="double"/></Output>')
    ours = assert_as_jpmml(tree_classification(targets=priors, output=output), ROWS,
                           expected={"pa": [0.8, 0.3, 0.2, 0.8], "pc": [0.0, 0.0, 0.6, 0.0]})
    assert list(ours["predicted_y"]) == ["a", "b", "c", "a"]


def test_targets_of_a_segment_and_of_the_mining_model():
    segments = linear_segment("2", '<Targets><Target rescaleFactor="0.5" rescaleConstant="1"/></Targets>') + \
        linear_segment("3", "")
    raw = mining_sum(segments, targets='<Targets><Target field="y" rescaleFactor="10"/></Targets>')
    # x=0.2: segment 1 (1 + 0.4) * 0.5 + 1 = 1.7, segment 2 1.6; sum 3.3, times 10
    assert_as_jpmml(raw, ROWS, expected={"predicted_y": [33.0, 53.0, np.nan, 45.0]})


def test_target_naming_another_field_is_refused():
    # JPMML applies a Target only to its model's target field; a segment here has none.
    segments = linear_segment("2", '<Targets><Target field="y" rescaleFactor="0.5"/></Targets>')
    with pytest.raises(UnsupportedElement, match="Target field='y'"):
        NativeBackend(parse(mining_sum(segments)))


@pytest.mark.parametrize("target", [
    '<Target field="y"><TargetValue value="a" priorProbability="1"/></Target>',  # priors in a regression
    '<Target field="y"><TargetValue defaultValue="1"/><TargetValue defaultValue="2"/></Target>',
    '<Target field="y" x-weird="1"/>',
])
def test_targets_native_does_not_implement_are_refused(target):
    with pytest.raises(UnsupportedElement):
        NativeBackend(parse(tree_regression(targets=f"<Targets>{target}</Targets>")))


def test_everything_document_matches_jpmml():
    assert_as_jpmml(everything(), pd.DataFrame({"x": [1.0, None, 3.0, -7.5], "c": ["u", "v", None, "v"]}))


def _rows_near_thresholds(raw: bytes, n: int = 200) -> pd.DataFrame:
    """Values on, just above and just below every split threshold, as doubles and as float32."""
    import re
    rng = np.random.default_rng(7)
    doc = parse(raw)
    data = {}
    for f in doc.schema.inputs:
        found = re.findall(rf'field="{re.escape(f.name)}" operator="\w+" value="([^"]+)"', raw.decode())
        t = np.array([float(v) for v in found] or [0.0])
        base = rng.choice(t, n)
        data[f.name] = np.select([np.arange(n) % 4 == k for k in range(3)],
                                 [base, np.nextafter(base, np.inf), base.astype(np.float32).astype(float)],
                                 rng.normal(t.mean(), t.std() + 1e-3, n))
    return pd.DataFrame(data)


@pytest.mark.parametrize("name", ["sklearn_gbr", "sklearn_hgbr", "sklearn_gbc", "sklearn_lgbmr", "sklearn_lgbmc",
                                  "sklearn_hgbc", "sklearn_rfr", "sklearn_dtr", "sklearn_rfc", "sklearn_logreg",
                                  "sklearn_xgbr"])
def test_sklearn_documents_score_as_jpmml(name):
    # Gradient boosting carries its learning rate and initial score in Targets (issue 12, defect 1);
    # the trees split float fields on float32 thresholds (defect 2).
    assert_as_jpmml(REAL[name], _rows_near_thresholds(REAL[name]))


# --- dataType="float" -----------------------------------------------------------------------------

def test_float_field_threshold_is_a_float32():
    raw = tree_regression(x_type="float", threshold="0.1")
    # 0.1 as a float is 0.100000001490116...: not above the float threshold 0.1, though above the double.
    rows = pd.DataFrame({"x": [0.1, float(np.float32(0.1)), 0.10000001, 0.09999999]})
    assert_as_jpmml(raw, rows, expected={"predicted_y": [1.0, 1.0, 2.0, 1.0]})
    backend = NativeBackend(parse(raw))  # the native part alone, on the float32 value the contract hands over
    out = backend.evaluate({"x": np.array([float(np.float32(0.1))])}, 1)[0]["y"]
    assert out[0] == 1.0


def test_integer_field_constants_compare_as_numbers():
    raw = tree_regression(x_type="integer", threshold="2")
    assert_as_jpmml(raw, pd.DataFrame({"x": [1, 2, 3]}), expected={"predicted_y": [1.0, 1.0, 2.0]})


def test_float_derived_and_output_fields_are_float32():
    raw = (HEAD + '<DataDictionary><DataField name="x" optype="continuous" dataType="double"/>'
           '<DataField name="y" optype="continuous" dataType="double"/></DataDictionary>'
           '<TransformationDictionary><DerivedField name="xf" optype="continuous" dataType="float">'
           '<FieldRef field="x"/></DerivedField></TransformationDictionary>'
           '<RegressionModel functionName="regression"><MiningSchema><MiningField name="x"/>'
           '<MiningField name="y" usageType="target"/></MiningSchema>'
           '<Output><OutputField name="yf" feature="predictedValue" dataType="float"/></Output>'
           '<RegressionTable intercept="0"><NumericPredictor name="xf" coefficient="1"/></RegressionTable>'
           '</RegressionModel></PMML>').encode()
    x = [0.1, 1 / 3, 1e-8]
    ours = assert_as_jpmml(raw, pd.DataFrame({"x": x}))
    np.testing.assert_array_equal(ours["predicted_y"].to_numpy(float), np.float32(x).astype(float))
    np.testing.assert_array_equal(ours["yf"].to_numpy(float), np.float32(x).astype(float))


def test_float_target_takes_32_bits():
    raw = tree_regression(targets='<Targets><Target field="y" rescaleFactor="0.1"/></Targets>').replace(
        b'name="y" optype="continuous" dataType="double"', b'name="y" optype="continuous" dataType="float"')
    assert_as_jpmml(raw, ROWS, expected={"predicted_y": [float(np.float32(0.1)), float(np.float32(0.2)), np.nan,
                                               float(np.float32(0.1))]})


# --- softmax and friends with extreme values --------------------------------------------------------

def _extreme_classifier(method: str, tables: int) -> bytes:
    coef = {1: "1e308", 2: "-1e308"}
    body = "".join(f'<RegressionTable intercept="{i}" targetCategory="k{i}"><NumericPredictor name="x" '
                   f'coefficient="{coef.get(i, "1")}"/></RegressionTable>' for i in range(tables))
    values = "".join(f'<Value value="k{i}"/>' for i in range(tables))
    outputs = "".join(f'<OutputField name="p{i}" feature="probability" value="k{i}" dataType="double"/>'
                      for i in range(tables))
    return (HEAD + '<DataDictionary><DataField name="x" optype="continuous" dataType="double"/>'
            f'<DataField name="y" optype="categorical" dataType="string">{values}</DataField></DataDictionary>'
            f'<RegressionModel functionName="classification" normalizationMethod="{method}"><MiningSchema>'
            '<MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>'
            f'<Output>{outputs}</Output>{body}</RegressionModel></PMML>').encode()


@pytest.mark.parametrize("method,tables", [("softmax", 3), ("softmax", 2), ("logit", 2), ("simplemax", 3),
                                           ("cloglog", 2)])
def test_extreme_coefficients_give_jpmmls_label_and_probabilities(method, tables):
    # x=2 makes 2e308 = inf: JPMML answers NaN probabilities and still a label (issue 13, item 21).
    ours = assert_as_jpmml(_extreme_classifier(method, tables),
                           pd.DataFrame({"x": [0.0, 1.0, -1.0, 2.0, 1e-300, -3.0, None]}))
    if method == "softmax":
        assert ours["predicted_y"][3] == "k0" and ours["predicted_y"][6] is None


@pytest.mark.parametrize("target", ["", '<Targets><Target field="y" castInteger="round"/></Targets>'])
def test_integer_target_takes_whole_numbers_or_refuses_the_row(target):
    raw = tree_regression(targets=target).replace(
        b'name="y" optype="continuous" dataType="double"', b'name="y" optype="continuous" dataType="integer"'
    ).replace(b'score="2"', b'score="2.5"')
    ours = assert_as_jpmml(raw, ROWS)  # without castInteger: 2.5 is an error for that row, as in JPMML
    assert list(ours["error"].isna()) == ([True, False, True, True] if not target else [True] * 4)
