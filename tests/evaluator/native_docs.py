"""Small PMML documents for the strict native compiler tests, and real ones from sklearn2pmml."""
from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "native_data"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">\n'


def real_documents() -> dict[str, bytes]:
    """PMML written by JPMML-SkLearn (sklearn2pmml 0.133) for scikit-learn, LightGBM and XGBoost."""
    return {p.stem: p.read_bytes() for p in sorted(DATA.glob("*.pmml"))}


def data_dictionary(fields: str) -> str:
    return f"<DataDictionary>{fields}</DataDictionary>\n"


def tree_regression(*, targets: str = "", x_type: str = "double", threshold: str = "0.5",
                    strategy: str = "nullPrediction", output: str = "") -> bytes:
    """y = 1 when x <= threshold, 2 when above; no prediction when x is missing (nullPrediction)."""
    return (HEAD + data_dictionary(f'<DataField name="x" optype="continuous" dataType="{x_type}"/>'
                                   '<DataField name="y" optype="continuous" dataType="double"/>')
            + f'<TreeModel functionName="regression" missingValueStrategy="{strategy}">'
            '<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>'
            f'{output}{targets}'
            '<Node score="0"><True/>'
            f'<Node score="1"><SimplePredicate field="x" operator="lessOrEqual" value="{threshold}"/></Node>'
            f'<Node score="2"><SimplePredicate field="x" operator="greaterThan" value="{threshold}"/></Node>'
            '</Node></TreeModel></PMML>').encode()


def tree_classification(*, targets: str = "", output: str = "") -> bytes:
    """label a (p .8) when x <= 0.5, b (p .7) above, no prediction when x is missing."""
    return (HEAD + data_dictionary('<DataField name="x" optype="continuous" dataType="double"/>'
                                   '<DataField name="y" optype="categorical" dataType="string">'
                                   '<Value value="a"/><Value value="b"/><Value value="c"/></DataField>')
            + '<TreeModel functionName="classification" missingValueStrategy="nullPrediction">'
            '<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>'
            f'{output}{targets}'
            '<Node score="a"><True/>'
            '<Node score="a"><SimplePredicate field="x" operator="lessOrEqual" value="0.5"/>'
            '<ScoreDistribution value="a" recordCount="8"/><ScoreDistribution value="b" recordCount="2"/></Node>'
            '<Node score="b"><SimplePredicate field="x" operator="greaterThan" value="0.5"/>'
            '<ScoreDistribution value="a" recordCount="3"/><ScoreDistribution value="b" recordCount="7"/></Node>'
            '</Node></TreeModel></PMML>').encode()


def linear_segment(coefficient: str, targets: str) -> str:
    return ('<Segment><True/><RegressionModel functionName="regression">'
            '<MiningSchema><MiningField name="x"/></MiningSchema>'
            f'{targets}<RegressionTable intercept="1"><NumericPredictor name="x" coefficient="{coefficient}"/>'
            '</RegressionTable></RegressionModel></Segment>')


def mining_sum(segments: str, *, targets: str = "") -> bytes:
    """A MiningModel summing its segments, each of which may carry its own Targets."""
    return (HEAD + data_dictionary('<DataField name="x" optype="continuous" dataType="double"/>'
                                   '<DataField name="y" optype="continuous" dataType="double"/>')
            + '<MiningModel functionName="regression">'
            '<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>'
            f'{targets}<Segmentation multipleModelMethod="sum">{segments}</Segmentation></MiningModel></PMML>'
            ).encode()


def everything() -> bytes:
    """One document with a TransformationDictionary, LocalTransformations, Targets and Output."""
    return (HEAD + data_dictionary(
        '<DataField name="x" optype="continuous" dataType="double"><Interval closure="closedClosed" '
        'leftMargin="-100" rightMargin="100"/></DataField>'
        '<DataField name="c" optype="categorical" dataType="string"><Value value="u"/><Value value="v"/>'
        '</DataField><DataField name="y" optype="continuous" dataType="double"/>')
        + '<TransformationDictionary><DerivedField name="x2" optype="continuous" dataType="double">'
        '<Apply function="*"><FieldRef field="x"/><Constant dataType="double">2</Constant></Apply>'
        '</DerivedField></TransformationDictionary>'
        '<RegressionModel functionName="regression" modelName="m">'
        '<MiningSchema><MiningField name="x" missingValueReplacement="0"/><MiningField name="c"/>'
        '<MiningField name="y" usageType="target"/></MiningSchema>'
        '<Output><OutputField name="out" feature="predictedValue" dataType="double"/>'
        '<OutputField name="half" feature="transformedValue" dataType="double">'
        '<Apply function="/"><FieldRef field="out"/><Constant>2</Constant></Apply></OutputField></Output>'
        '<Targets><Target field="y" rescaleFactor="2" rescaleConstant="1"/></Targets>'
        '<LocalTransformations><DerivedField name="x3" optype="continuous" dataType="double">'
        '<NormContinuous field="x2"><LinearNorm orig="0" norm="0"/><LinearNorm orig="10" norm="1"/>'
        '</NormContinuous></DerivedField></LocalTransformations>'
        '<RegressionTable intercept="0.5"><NumericPredictor name="x3" coefficient="3"/>'
        '<CategoricalPredictor name="c" value="v" coefficient="1.5"/></RegressionTable>'
        '</RegressionModel></PMML>').encode()
