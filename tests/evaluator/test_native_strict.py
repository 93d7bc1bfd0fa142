"""The strict native compiler: what it does not implement is refused, never ignored (issues 12, 13)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from pmmlkit.errors import InvalidPmmlError, PmmlkitError, UnsupportedElement
from pmmlkit.evaluator.native import NativeBackend
from pmmlkit.evaluator.native import context as native_context
from pmmlkit.evaluator.native.strict import check_document
from pmmlkit.evaluator.native.supported import SPECS
from pmmlkit.pmml.fields import local
from pmmlkit.pmml.loader import parse
from tests.evaluator.native_docs import everything, real_documents, tree_regression

NS = "{http://www.dmg.org/PMML-4_4}"
REAL = real_documents()
COMPILABLE = {**{k: v for k, v in REAL.items() if k != "sklearn_xgbc"}, "everything": everything()}


def _insertion_points() -> list[tuple[str, str]]:
    """(document, element name): the first element of every kind in every document."""
    points = []
    for doc_name, raw in COMPILABLE.items():
        kinds: dict[str, None] = {}
        stack = [ET.fromstring(raw)]
        while stack:  # document order, informational subtrees (Header...) left out
            el = stack.pop()
            if not SPECS[local(el.tag)].informational:
                kinds.setdefault(local(el.tag))
                stack.extend(reversed(list(el)))
        points += [(doc_name, kind) for kind in kinds]
    return points


POINTS = _insertion_points()


def _edited(doc_name: str, kind: str, edit) -> bytes:
    root = ET.fromstring(COMPILABLE[doc_name])
    target = next(el for el in root.iter() if local(el.tag) == kind)
    edit(target)
    return ET.tostring(root)


@pytest.mark.parametrize("doc_name", sorted(COMPILABLE))
def test_every_real_document_compiles_as_it_is(doc_name):
    NativeBackend(parse(COMPILABLE[doc_name]))  # so every refusal below is the edit's doing


def test_insertion_points_cover_models_targets_outputs_schema_and_segments():
    kinds = {kind for _, kind in POINTS}
    assert {"TreeModel", "MiningModel", "RegressionModel", "Segment", "Segmentation", "Target", "Targets",
            "Output", "OutputField", "MiningField", "MiningSchema", "DataField", "Node", "SimplePredicate",
            "DerivedField", "Apply", "LocalTransformations", "TransformationDictionary"} <= kinds
    assert len(POINTS) > 100


@pytest.mark.parametrize("doc_name,kind", POINTS)
def test_unknown_attribute_is_refused_anywhere(doc_name, kind):
    raw = _edited(doc_name, kind, lambda el: el.set("unheardOf", "1"))
    with pytest.raises(UnsupportedElement, match=rf"{kind} attribute 'unheardOf'"):
        NativeBackend(parse(raw))


@pytest.mark.parametrize("doc_name,kind", POINTS)
def test_unknown_child_element_is_refused_anywhere(doc_name, kind):
    raw = _edited(doc_name, kind, lambda el: el.insert(0, ET.Element(f"{NS}UnheardOf")))
    with pytest.raises(UnsupportedElement, match=r"'UnheardOf' at .*/UnheardOf"):
        NativeBackend(parse(raw))


@pytest.mark.parametrize("doc_name,kind", [p for p in POINTS if p[1] in ("Node", "Segment", "OutputField",
                                                                         "MiningField", "Target")])
def test_extension_elements_are_informational(doc_name, kind):
    def add(el):
        ext = ET.SubElement(el, f"{NS}Extension", {"name": "vendor"})
        ET.SubElement(ext, "anything", {"at": "all"})
    NativeBackend(parse(_edited(doc_name, kind, add)))


@pytest.mark.parametrize("doc_name,kind,attr,value", [
    ("sklearn_dtr", "TreeModel", "missingValueStrategy", "aggregateNodes"),
    ("sklearn_dtr", "TreeModel", "missingValueStrategy", "weightedConfidence"),
    ("sklearn_dtr", "TreeModel", "noTrueChildStrategy", "returnAnything"),
    ("sklearn_dtr", "TreeModel", "splitCharacteristic", "ternarySplit"),
    ("sklearn_gbr", "Segmentation", "multipleModelMethod", "x-custom"),
    ("sklearn_gbr", "Segmentation", "missingPredictionTreatment", "skipSegment"),
    ("sklearn_gbr", "Segmentation", "missingThreshold", "0.5"),
    ("sklearn_gbr", "Target", "castInteger", "truncate"),
    ("sklearn_logreg", "RegressionModel", "normalizationMethod", "log"),
    ("sklearn_logreg", "RegressionModel", "isScorable", "false"),
    ("sklearn_logreg", "DataField", "dataType", "timeSeconds"),
    ("sklearn_logreg", "MiningField", "usageType", "frequencyWeight"),
    ("sklearn_logreg", "OutputField", "feature", "predictedDisplayValue"),
    ("sklearn_logreg", "OutputField", "feature", "reasonCode"),
    ("everything", "NormContinuous", "outliers", "x-clip"),
    ("everything", "OutputField", "feature", "confidence"),
])
def test_unimplemented_enumerated_value_is_refused_by_name_and_value(doc_name, kind, attr, value):
    raw = _edited(doc_name, kind, lambda el: el.set(attr, value))
    with pytest.raises(UnsupportedElement, match=re.escape(f"{kind} {attr}={value!r}")):
        NativeBackend(parse(raw))


def test_jpmml_float_math_context_is_refused_where_not_implemented():
    # x-mathContext="float" (XGBoost) is implemented for what XGBoost writes (test_native_xgboost.py).
    NativeBackend(parse(REAL["sklearn_xgbc"]))
    with pytest.raises(UnsupportedElement, match="TreeModel x-mathContext='float' with functionName='classif"):
        NativeBackend(parse(REAL["sklearn_xgbc"].replace(b'<TreeModel functionName="regression"',
                                                         b'<TreeModel functionName="classification"', 1)))
    averaged = REAL["sklearn_xgbr"].replace(b'multipleModelMethod="sum"', b'multipleModelMethod="average"')
    with pytest.raises(UnsupportedElement, match="x-mathContext='float' other than a sum"):
        NativeBackend(parse(averaged))
    with pytest.raises(UnsupportedElement, match=r"MiningModel x-mathContext='quad'"):
        NativeBackend(parse(REAL["sklearn_xgbr"].replace(b'x-mathContext="float">', b'x-mathContext="quad">', 1)))


def test_unknown_apply_function_is_refused():
    raw = everything().replace(b'function="*"', b'function="x-secret"')
    with pytest.raises(UnsupportedElement, match="Apply function='x-secret'"):
        NativeBackend(parse(raw))


def test_invalid_treatments_inside_a_segment_are_refused():
    raw = REAL["sklearn_gbr"].replace(b'<MiningField name="bmi"/>\n\t\t\t\t\t</MiningSchema>',
                                      b'<MiningField name="bmi" invalidValueTreatment="asMissing"/></MiningSchema>', 1)
    assert raw != REAL["sklearn_gbr"]
    with pytest.raises(UnsupportedElement, match="invalidValueTreatment='asMissing' inside a Segment"):
        NativeBackend(parse(raw))


def test_output_features_of_clustering_are_refused_elsewhere():
    # A tree's entityId is its node id, not a class label: native must not answer the label.
    raw = REAL["sklearn_dtr"].replace(b"<MiningSchema>", b'<Output><OutputField name="node" feature="entityId" '
                                      b'dataType="string"/></Output><MiningSchema>', 1)
    with pytest.raises(UnsupportedElement, match="entityId"):
        NativeBackend(parse(raw))


# --- malformed documents raise PmmlkitError, never ValueError/KeyError/RecursionError -------------

@pytest.mark.parametrize("doc_name,old,new,named", [
    ("sklearn_logreg", b'coefficient="', b'coefficient="1,5', "coefficient"),
    ("sklearn_logreg", b'intercept="', b'intercept="x', "intercept"),
    ("sklearn_gbr", b'rescaleFactor="0.1"', b'rescaleFactor="0,1"', "rescaleFactor"),
    ("sklearn_dtr", b'<Node score="', b'<Node score="1_5', "Node score"),
    ("sklearn_dtr", b'operator="lessOrEqual" value="', b'operator="lessOrEqual" value="1,5', "'1,5"),
    ("sklearn_rfc", b'recordCount="', b'recordCount="many', "recordCount"),
    ("everything", b'<Constant dataType="double">2', b'<Constant dataType="double">2,0', "Constant text"),
    ("everything", b'orig="10"', b'orig="ten"', "orig"),
    ("everything", b'missingValueReplacement="0"', b'missingValueReplacement="zero"', "'zero'"),
])
def test_malformed_numbers_raise_a_clear_pmmlkit_error(doc_name, old, new, named):
    raw = COMPILABLE[doc_name]
    assert old in raw
    with pytest.raises(InvalidPmmlError) as err:
        NativeBackend(parse(raw.replace(old, new, 1)))
    assert named in str(err.value) and "not a number" in str(err.value)


def _deep_chain(depth: int) -> bytes:
    """A tree 'depth' levels deep: x <= k answers k at level k."""
    parts = []
    for k in range(depth):
        parts.append(f'<Node score="{k}"><SimplePredicate field="x" operator="lessOrEqual" value="{k}"/></Node>'
                     f'<Node score="{k}"><SimplePredicate field="x" operator="greaterThan" value="{k}"/>')
    body = "".join(parts) + "</Node>" * depth
    return ('<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><DataDictionary>'
            '<DataField name="x" optype="continuous" dataType="double"/>'
            '<DataField name="y" optype="continuous" dataType="double"/></DataDictionary>'
            '<TreeModel functionName="regression"><MiningSchema><MiningField name="x"/>'
            '<MiningField name="y" usageType="target"/></MiningSchema>'
            f'<Node score="-1"><True/>{body}</Node></TreeModel></PMML>').encode()


def test_a_tree_3000_levels_deep_compiles_and_scores():
    backend = NativeBackend(parse(_deep_chain(3000)))
    x = np.array([-5.0, 0.0, 0.5, 1234.0, 2998.5, 5000.0])
    out = backend.evaluate({"x": x}, len(x))[0]["y"]
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0, 1234.0, 2999.0, 2999.0])


def test_absurdly_nested_expressions_are_refused_not_a_recursion_error():
    inner = '<FieldRef field="x"/>'
    for _ in range(3000):
        inner = f'<Apply function="abs">{inner}</Apply>'
    raw = everything().replace(b'<FieldRef field="x"/>', inner.encode(), 1)
    with pytest.raises(UnsupportedElement, match="nested more than"):
        NativeBackend(parse(raw))


def test_every_error_of_the_native_compiler_is_a_pmmlkit_error():
    broken = [everything().replace(b'dataType="double">2<', b'dataType="double"><'),
              REAL["sklearn_dtr"].replace(b'value="', b'value="--', 1),
              tree_regression(threshold="0x10")]
    for raw in broken:
        with pytest.raises(PmmlkitError):
            NativeBackend(parse(raw))


# --- the category vocabulary is complete before any compiler runs --------------------------------

MAPPED = everything().replace(b"</TransformationDictionary>", (
    b'<DerivedField name="cm" optype="continuous" dataType="double"><MapValues outputColumn="out" '
    b'dataType="double" defaultValue="0"><FieldColumnPair field="c" column="in"/><InlineTable>'
    b'<row><in>u</in><out>1</out></row><row><in>late</in><out>2</out></row></InlineTable></MapValues>'
    b'</DerivedField></TransformationDictionary>')).replace(
    b'<CategoricalPredictor name="c"', b'<NumericPredictor name="cm" coefficient="1"/><CategoricalPredictor name="c"')


@pytest.mark.parametrize("doc_name", sorted(COMPILABLE) + ["mapped", "unlisted"])
def test_vocabulary_is_complete_before_compilation(monkeypatch, doc_name):
    raw = {"mapped": MAPPED,  # "late" is a category only in a MapValues table
           "unlisted": everything().replace(b'value="v" coefficient', b'value="w" coefficient'),  # not a Value
           }.get(doc_name) or COMPILABLE[doc_name]
    if doc_name == "mapped":
        assert ("c", "late") in check_document(ET.fromstring(raw)).categories
    if doc_name == "unlisted":
        assert ("c", "w") in check_document(ET.fromstring(raw)).categories
    grown = []
    encode = native_context.Ctx.encode

    def spy(self, field, value):
        before = len(self.vocab.get(field, {}))
        code = encode(self, field, value)
        if getattr(self, "_compiling", False) and len(self.vocab.get(field, {})) > before:
            grown.append((field, value))
        return code
    monkeypatch.setattr(native_context.Ctx, "encode", spy)
    from pmmlkit.evaluator.native import compile as native_compile
    real_compile_model = native_compile.compile_model

    def compiling(model, ctx, path):
        ctx._compiling = True  # from here on, no new category may appear
        return real_compile_model(model, ctx, path)
    monkeypatch.setattr(native_compile, "compile_model", compiling)
    real_derived = native_compile.derived_fields

    def derived(parent, ctx, path):
        ctx._compiling = True
        return real_derived(parent, ctx, path)
    monkeypatch.setattr(native_compile, "derived_fields", derived)
    NativeBackend(parse(raw))
    assert grown == []


def test_a_segment_trees_missing_value_replacement_is_applied():
    # Plain trees are stacked into one forest that reads raw inputs: a segment whose MiningField
    # replaces missing values must not join it, or the replacement would be ignored in silence.
    import pandas as pd

    from tests.evaluator.test_native_targets import assert_as_jpmml

    top, *segments = REAL["sklearn_gbr"].split(b'<MiningField name="bmi"/>')
    raw = top + b'<MiningField name="bmi"/>' + segments[0] + b''.join(
        b'<MiningField name="bmi" missingValueReplacement="0.05"/>' + rest for rest in segments[1:])
    rows = pd.DataFrame({"bmi": [None, 0.0, 0.05], "bp": [0.01, 0.02, 0.01]})
    ours = assert_as_jpmml(raw, rows)
    assert ours["predicted_target"][0] == ours["predicted_target"][2]


def test_date_fields_may_be_declared_but_not_read():
    declared = everything().replace(b'<DataField name="y"', b'<DataField name="when" optype="continuous" '
                                    b'dataType="date"/><DataField name="y"')
    NativeBackend(parse(declared))
    read = declared.replace(b'<FieldRef field="x"/>', b'<FieldRef field="when"/>')
    with pytest.raises(UnsupportedElement, match="a date field .'when'. read by the model"):
        NativeBackend(parse(read))


@pytest.mark.parametrize("method,tables", [("probit", 3), ("cauchit", 3), ("exp", 3), ("exp", 2)])
def test_normalizations_jpmml_refuses_are_refused(method, tables):
    from tests.evaluator.test_native_targets import _extreme_classifier

    # JPMML: InvalidAttributeException on every row; native used to answer element-wise values.
    with pytest.raises(UnsupportedElement, match=f"normalizationMethod='{method}' with {tables} RegressionTables"):
        NativeBackend(parse(_extreme_classifier(method, tables)))


def test_probability_output_of_a_regression_is_refused():
    raw = everything().replace(b'<OutputField name="out" feature="predictedValue"',
                               b'<OutputField name="out" feature="probability"')
    with pytest.raises(UnsupportedElement, match="feature='probability' in a regression model"):
        NativeBackend(parse(raw))
