"""Every name a MiningField or OutputField uses is declared, or the document is refused (issue 13.11)."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from pmmlkit import Evaluator
from pmmlkit.cli import main
from pmmlkit.errors import InvalidPmmlError
from pmmlkit.pmml import loader

DOC = """<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="n" optype="continuous" dataType="double"/>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <TransformationDictionary>
    <DerivedField name="n2" optype="continuous" dataType="double">
      <Apply function="*"><FieldRef field="n"/><Constant>2</Constant></Apply>
    </DerivedField>
  </TransformationDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="n"/></MiningSchema>
    <Output>
      <OutputField name="p" optype="continuous" dataType="double" feature="predictedValue" targetField="y"/>
      OUTPUT
    </Output>
    <RegressionTable intercept="10"><NumericPredictor name="n" coefficient="1"/></RegressionTable>
  </RegressionModel>
</PMML>
"""
BAD = {
    "targetField undeclared": ('<OutputField name="o" optype="continuous" dataType="double" '
                               'feature="predictedValue" targetField="nope"/>',
                               "OutputField 'o' of <RegressionModel>: targetField 'nope' is not a target "
                               "of this model (targets: ['y'])"),
    "targetField not a target": ('<OutputField name="o" optype="continuous" dataType="double" '
                                 'feature="predictedValue" targetField="n"/>',
                                 "targetField 'n' is not a target of this model"),
    "FieldRef undeclared": ('<OutputField name="o" optype="continuous" dataType="double" feature="transformedValue">'
                            '<FieldRef field="nope"/></OutputField>',
                            "OutputField 'o' of <RegressionModel>: <FieldRef field='nope'> refers to field "
                            "'nope', which the document never declares"),
    "NormContinuous undeclared": ('<OutputField name="o" optype="continuous" dataType="double" '
                                  'feature="transformedValue"><NormContinuous field="gone">'
                                  '<LinearNorm orig="0" norm="0"/><LinearNorm orig="1" norm="1"/>'
                                  '</NormContinuous></OutputField>',
                                  "<NormContinuous field='gone'> refers to field 'gone'"),
}
GOOD = ('<OutputField name="q" optype="continuous" dataType="double" feature="transformedValue">'
        '<Apply function="+"><FieldRef field="p"/><FieldRef field="n2"/></Apply></OutputField>')


def _doc(output: str) -> bytes:
    return DOC.replace("OUTPUT", output).encode()


@pytest.mark.parametrize("case", BAD, ids=BAD)
def test_undeclared_references_are_refused_at_load_by_every_backend(case):
    output, words = BAD[case]
    with pytest.raises(InvalidPmmlError, match=_literal(words)):
        loader.parse(_doc(output))
    for backend in ("auto", "native", "jpmml", "pypmml"):
        with pytest.raises(InvalidPmmlError, match=_literal(words)):
            Evaluator.from_bytes(_doc(output), backend=backend)


@pytest.mark.parametrize("case", ["targetField undeclared", "FieldRef undeclared"])
def test_validate_refuses_them(tmp_path, case):
    path = tmp_path / "m.pmml"
    path.write_bytes(_doc(BAD[case][0]))
    r = CliRunner().invoke(main, ["validate", "-m", str(path)])
    assert r.exit_code == 1, r.output
    assert "refers to field" in r.output or "is not a target" in r.output


@pytest.mark.parametrize("backend", ["native", "jpmml", "pypmml"])
def test_outputs_using_earlier_outputs_and_derived_fields_still_load(backend):
    ev = Evaluator.from_bytes(_doc(GOOD), backend=backend)
    assert ev.predict({"n": 3.0}) == {"predicted_y": 13.0, "p": 13.0, "q": 19.0}


def test_a_nested_mining_field_must_be_declared():
    seg = (b'<MiningModel functionName="regression"><MiningSchema><MiningField name="y" usageType="target"/>'
           b'<MiningField name="n"/></MiningSchema><Segmentation multipleModelMethod="sum"><Segment><True/>'
           b'<RegressionModel functionName="regression"><MiningSchema><MiningField name="y" usageType="target"/>'
           b'<MiningField name="ghost"/></MiningSchema><RegressionTable intercept="1"/></RegressionModel>'
           b'</Segment></Segmentation></MiningModel>')
    raw = _doc("")
    start, end = raw.index(b"<RegressionModel"), raw.index(b"</RegressionModel>") + len(b"</RegressionModel>")
    with pytest.raises(InvalidPmmlError, match="<RegressionModel>: a MiningField refers to field 'ghost'"):
        loader.parse(raw[:start] + seg + raw[end:])


def test_a_malformed_number_names_its_attribute():
    raw = _doc("").replace(b'<MiningField name="n"/>', b'<MiningField name="n" lowValue="1,5"/>')
    with pytest.raises(InvalidPmmlError, match=r"<MiningField lowValue='1,5'>: lowValue is not a number"):
        loader.parse(raw)


def _literal(words: str) -> str:
    return re.escape(words)
