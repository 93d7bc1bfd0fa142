"""An OutputField that reads a result the model did not produce fails the row, as in JPMML (issue 12).

JPMML-Evaluator 1.7: where the model gives no prediction (a tree with no node for the row), every
result output (predictedValue, probability, entityId...) is "not defined"; it scores as missing, but
an OutputField expression that reads it fails the row (MissingFieldException), unless the read sits
in an ``if`` branch the row does not take. The jpmml backend runs next to native on every case, so
the expectations below are JPMML's own answers.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import PmmlkitError

BACKENDS = ("native", "jpmml")
ROWS = pd.DataFrame({"x": [0.5, None, 2.0]})  # row 1 reaches no node: no prediction


def tree(function: str, outputs: str) -> bytes:
    target = ('<DataField name="y" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/>'
              '</DataField>' if function == "classification" else
              '<DataField name="y" optype="continuous" dataType="double"/>')
    scores = [("a", '<ScoreDistribution value="a" recordCount="3"/><ScoreDistribution value="b" recordCount="1"/>'),
              ("b", '<ScoreDistribution value="a" recordCount="1"/><ScoreDistribution value="b" recordCount="3"/>')]
    if function == "regression":
        scores = [("1.5", ""), ("2.5", "")]
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary><DataField name="x" optype="continuous" dataType="double"/>{target}</DataDictionary>
<TreeModel functionName="{function}" missingValueStrategy="none" noTrueChildStrategy="returnNullPrediction">
 <MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
 <Output>{outputs}</Output>
 <Node id="1"><True/>
  <Node id="2" score="{scores[0][0]}"><SimplePredicate field="x" operator="lessThan" value="1"/>{scores[0][1]}</Node>
  <Node id="3" score="{scores[1][0]}">
   <SimplePredicate field="x" operator="greaterOrEqual" value="1"/>{scores[1][1]}</Node>
 </Node>
</TreeModel></PMML>""".encode()


PRED = '<OutputField name="p" optype="categorical" dataType="string" feature="predictedValue"/>'
PRED_NUM = '<OutputField name="p" optype="continuous" dataType="double" feature="predictedValue"/>'
PROB = '<OutputField name="p" optype="continuous" dataType="double" feature="probability" value="a"/>'


def transformed(body: str, name: str = "t") -> str:
    return (f'<OutputField name="{name}" optype="categorical" dataType="string" feature="transformedValue">'
            f'{body}</OutputField>')


MAP = ('<OutputField name="t" optype="continuous" dataType="double" feature="transformedValue">'
       '<MapValues outputColumn="o" dataType="double"><FieldColumnPair field="p" column="i"/><InlineTable>'
       '<row><i>a</i><o>0</o></row><row><i>b</i><o>1</o></row></InlineTable></MapValues></OutputField>')
LAZY_IF = transformed('<Apply function="if"><Apply function="isMissing"><FieldRef field="x"/></Apply>'
                      '<Constant dataType="string">none</Constant><FieldRef field="p"/></Apply>')

# (function, outputs, does row 1 fail?)
CASES = {
    "predicted_alone": ("classification", PRED, False),
    "probability_alone": ("classification", PROB, False),
    "fieldref_predicted": ("classification", PRED + transformed('<FieldRef field="p"/>'), True),
    "mapvalues_predicted": ("classification", PRED + MAP, True),  # JPMML-SparkML's "prediction" output
    "ismissing_predicted": ("classification", PRED + transformed(
        '<Apply function="isMissing"><FieldRef field="p"/></Apply>'), True),
    "fieldref_probability": ("classification", PROB + transformed('<FieldRef field="p"/>'), True),
    "chain": ("classification", PRED + transformed('<FieldRef field="p"/>') +
              transformed('<FieldRef field="t"/>', "t2"), True),
    "if_branch_not_taken": ("classification", PRED + LAZY_IF, False),
    "unread": ("classification", PRED + transformed('<FieldRef field="x"/>'), False),
    "fieldref_target": ("classification", transformed('<FieldRef field="y"/>'), False),
    "regression_fieldref_predicted": ("regression", PRED_NUM + transformed('<FieldRef field="p"/>'), True),
    "regression_target": ("regression", transformed('<FieldRef field="y"/>'), False),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_row_without_prediction(backend: str, case: str) -> None:
    function, outputs, fails = CASES[case]
    ev = Evaluator.from_bytes(tree(function, outputs), backend=backend, verify=False)
    out = ev.predict_batch(ROWS, errors="column")
    error = out[ev.error_column]
    assert error[0] is None and error[2] is None, error.tolist()  # rows with a prediction score
    want_y = ["a", "b"] if function == "classification" else [1.5, 2.5]
    assert [out["predicted_y"][0], out["predicted_y"][2]] == want_y
    if fails:
        message = error[1]  # native names the field 'p', JPMML "p"
        assert "is not defined" in message and ("'p'" in message or '"p"' in message), message
        assert message.startswith("row 1:"), message
    else:
        assert error[1] is None, error[1]
        if "t" in out:
            assert out["t"][1] in ("none", None) or math.isnan(out["t"][1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_scored_rows_keep_their_values(backend: str) -> None:
    ev = Evaluator.from_bytes(tree("classification", PRED + MAP), backend=backend, verify=False)
    out = ev.predict_batch(ROWS, errors="column")
    assert out["p"][0] == "a" and out["t"][0] == 0.0 and out["p"][2] == "b" and out["t"][2] == 1.0
    assert math.isnan(out["t"][1]) and out["p"][1] is None
    assert ev.predict({"x": 2.0})["t"] == 1.0
    with pytest.raises(PmmlkitError, match="is not defined"):
        ev.predict({"x": None})


def test_only_the_refused_rows_are_scored_one_by_one(monkeypatch) -> None:
    """The other rows of the batch are scored together again (refused rows were 16x slower row by row)."""
    from pmmlkit.evaluator.native import backend as native_backend

    doc = tree("classification", PRED + transformed('<FieldRef field="p"/>'))
    rows = pd.DataFrame({"x": [0.5, None, 2.0] * 200})  # every third row has no prediction
    scored_alone: list[int] = []
    by_rows = native_backend.by_rows
    monkeypatch.setattr(native_backend, "by_rows",
                        lambda fn, cols, n, names: scored_alone.append(n) or by_rows(fn, cols, n, names))
    got = Evaluator.from_bytes(doc, backend="native").predict_batch(rows, errors="column")
    want = Evaluator.from_bytes(doc, backend="jpmml").predict_batch(rows, errors="column")
    assert scored_alone == [200]  # the 200 rows without a prediction, not the 600
    assert got["error"].notna().tolist() == want["error"].notna().tolist()
    assert got["t"].tolist() == want["t"].tolist()
