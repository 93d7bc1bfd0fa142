"""TreeSHAP on hand-written documents: missing-value routing, derived fields, votes, and the refusals.

The reference is the definition itself, scored by the evaluator: for every subset S of the
inputs and every background row z, the evaluator's score of the row that takes S from x and
the rest from z (tree_models.brute_force). So routing (defaultChild, lastPrediction, no true
child) is checked against the evaluator's own answers, missing results included: a row is
NaN exactly where some mix of it with a background row has no prediction. Tolerance 1e-9.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import ExplanationError

from .tree_models import brute_force
from .typed import explained

HEAD = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>
  <DataField name="x1" optype="continuous" dataType="double"/>
  <DataField name="x2" optype="continuous" dataType="double"/>
  <DataField name="s" optype="categorical" dataType="string">
    <Value value="u"/><Value value="v"/><Value value="w"/>
  </DataField>
  <DataField name="y" optype="{optype}" dataType="{ytype}">{yvalues}</DataField>
</DataDictionary>
<TransformationDictionary>
  <DerivedField name="x1n" optype="continuous" dataType="double">
    <NormContinuous field="x1"><LinearNorm orig="0" norm="0"/><LinearNorm orig="10" norm="1"/></NormContinuous>
  </DerivedField>
</TransformationDictionary>
"""
SCHEMA = """<MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x1"/>
  <MiningField name="x2"/><MiningField name="s"/></MiningSchema>"""
NODES = """<Node id="0" score="{s0}" defaultChild="1"><True/>
  <Node id="1" score="{s1}" defaultChild="3"><SimplePredicate field="x1n" operator="lessThan" value="0.5"/>
    <Node id="3" score="{s3}">
      <SimpleSetPredicate field="s" booleanOperator="isIn"><Array type="string">u v</Array></SimpleSetPredicate>
    </Node>
    <Node id="4" score="{s4}"><CompoundPredicate booleanOperator="and">
      <SimplePredicate field="x2" operator="greaterThan" value="-1"/>
      <SimplePredicate field="x2" operator="lessOrEqual" value="1"/>
    </CompoundPredicate></Node>
  </Node>
  <Node id="2" score="{s2}" defaultChild="6"><SimplePredicate field="x1n" operator="greaterOrEqual" value="0.5"/>
    <Node id="6" score="{s6}"><SimplePredicate field="x2" operator="lessOrEqual" value="0"/></Node>
    <Node id="7" score="{s7}" defaultChild="8"><SimplePredicate field="x2" operator="greaterThan" value="0"/>
      <Node id="8" score="{s8}"><SimplePredicate field="s" operator="equal" value="w"/></Node>
    </Node>
  </Node>
</Node>"""
REG_SCORES = dict(s0=1, s1=2, s2=3, s3=5, s4=-1, s6=4, s7=-2, s8=10)


def regression_tree(mvs: str, ntc: str) -> bytes:
    tree = (f'<TreeModel functionName="regression" missingValueStrategy="{mvs}" noTrueChildStrategy="{ntc}">'
            f'{SCHEMA}{NODES.format(**REG_SCORES)}</TreeModel>')
    return (HEAD.format(optype="continuous", ytype="double", yvalues="") + tree + "</PMML>").encode()


def vote(method: str, weights: tuple[float, ...]) -> bytes:
    """Three classification trees voting, with their labels permuted."""
    labels = [dict(s0="no", s1="yes", s2="no", s3="yes", s4="no", s6="yes", s7="no", s8="yes"),
              dict(s0="yes", s1="no", s2="yes", s3="no", s4="yes", s6="no", s7="no", s8="yes"),
              dict(s0="no", s1="no", s2="yes", s3="yes", s4="yes", s6="no", s7="yes", s8="no")]
    segments = "".join(
        f'<Segment id="{i}" weight="{w}"><True/><TreeModel functionName="classification" '
        f'missingValueStrategy="lastPrediction" noTrueChildStrategy="returnLastPrediction">{SCHEMA}'
        f'{NODES.format(**lab)}</TreeModel></Segment>' for i, (lab, w) in enumerate(zip(labels, weights)))
    output = ('<Output><OutputField name="probability(yes)" optype="continuous" dataType="double" '
              'feature="probability" value="yes"/></Output>')
    body = (f'<MiningModel functionName="classification">{SCHEMA}{output}'
            f'<Segmentation multipleModelMethod="{method}">{segments}</Segmentation></MiningModel>')
    values = '<Value value="no"/><Value value="yes"/>'
    return (HEAD.format(optype="categorical", ytype="string", yvalues=values) + body + "</PMML>").encode()


def frames(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows with missing values in every field; background rows, some of them missing too."""
    rng = np.random.default_rng(seed)

    def rows(n: int, holes: float) -> pd.DataFrame:
        df = pd.DataFrame({"x1": rng.uniform(0, 10, n), "x2": rng.normal(0, 1.5, n),
                           "s": rng.choice(["u", "v", "w"], n).astype(object)})
        for c in df.columns:
            df[c] = df[c].astype(object).where(rng.random(n) > holes, None)
        return df
    return rows(14, 0.2), rows(10, 0.1)


def _check_against_definition(raw: bytes, score: str) -> np.ndarray:
    ev = Evaluator.from_bytes(raw, backend="native")
    rows, background = frames()
    scored = ev.predict_batch(background)[score].to_numpy(dtype=float)
    background = background[~np.isnan(scored)]  # explain leaves background rows without a score out
    e = explained(ev, rows, background)
    expected = brute_force(ev, rows, background, score)
    undefined = np.isnan(expected["x1"])
    for field in ("x1", "x2", "s"):
        np.testing.assert_allclose(e.contributions[field], expected[field], rtol=0, atol=1e-9)
        assert np.array_equal(np.isnan(e.contributions[field]), undefined)
    np.testing.assert_allclose(e.raw, ev.predict_batch(rows)[score].to_numpy(dtype=float), rtol=1e-12)
    assert np.all(np.abs(e.residual()[~undefined]) < 1e-9)
    return undefined


@pytest.mark.parametrize("mvs", ["defaultChild", "lastPrediction", "nullPrediction", "none"])
@pytest.mark.parametrize("ntc", ["returnNullPrediction", "returnLastPrediction"])
def test_missing_value_routing_matches_the_evaluator(mvs, ntc):
    undefined = _check_against_definition(regression_tree(mvs, ntc), "predicted_y")
    if ntc == "returnLastPrediction" and mvs == "nullPrediction":  # some rows mix into a missing value
        assert 0 < undefined.sum() < len(undefined)
    elif ntc == "returnLastPrediction":
        assert not undefined.any()  # every mix routes somewhere with a score


@pytest.mark.parametrize("method, weights", [("majorityVote", (1, 1, 1)), ("weightedMajorityVote", (0.5, 2, 1)),
                                             ("average", (1, 1, 1)), ("weightedAverage", (3, 1, 1))])
def test_votes_and_averages_of_classification_trees(method, weights):
    _check_against_definition(vote(method, weights), "probability(yes)")


def _refused(raw: bytes, *words: str) -> None:
    ev = Evaluator.from_bytes(raw, backend="native")
    rows, background = frames()
    with pytest.raises(ExplanationError) as e:
        explained(ev, rows, background)
    for w in words:
        assert w in str(e.value)


def test_refuses_a_split_on_two_fields():
    raw = regression_tree("none", "returnLastPrediction").replace(
        b'<SimplePredicate field="x2" operator="lessOrEqual" value="1"/>',
        b'<SimplePredicate field="x1" operator="lessOrEqual" value="1"/>')
    _refused(raw, "CompoundPredicate", "['x1', 'x2']")


def test_refuses_a_selected_segment_and_non_linear_methods():
    raw = vote("majorityVote", (1, 1, 1))
    _refused(raw.replace(b'<Segment id="1" weight="1"><True/>',
                         b'<Segment id="1" weight="1"><SimplePredicate field="x2" operator="greaterThan" value="0"/>'),
             "Segment[2]", "SimplePredicate")
    _refused(raw.replace(b'multipleModelMethod="majorityVote"', b'multipleModelMethod="selectFirst"'),
             "multipleModelMethod='selectFirst'")


def test_refuses_multiclass_and_a_clamped_target():
    raw = vote("majorityVote", (1, 1, 1)).replace(b'<Value value="yes"/>',
                                                  b'<Value value="yes"/><Value value="maybe"/>')
    _refused(raw, "binary classification", "3 classes")
    clamped = regression_tree("none", "returnLastPrediction").replace(
        b"</MiningSchema><Node", b'</MiningSchema><Targets><Target field="y" max="4"/></Targets><Node')
    _refused(clamped, "Targets/Target", "max='4'")


def test_refuses_without_background():
    ev = Evaluator.from_bytes(regression_tree("none", "returnLastPrediction"), backend="native")
    rows, _ = frames()
    from pmmlkit.evaluator.native.explain.trees import explain_trees

    with pytest.raises(ExplanationError, match="background"):
        explain_trees(ev.backend, ev.contract.check_frame(rows).columns, len(rows), None, 0)
