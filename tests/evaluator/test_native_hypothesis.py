"""Random TreeModels and RegressionModels written as PMML, scored natively and by JPMML-Evaluator."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmmlkit.pmml.loader import parse
from tests.evaluator.native_harness import assert_conforms

pytest.importorskip("jpmml_evaluator")

CATS = ("a", "b", "c", "d")
HEADER = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><DataDictionary>
<DataField name="x1" optype="continuous" dataType="double"/><DataField name="x2" optype="continuous" dataType="double"/>
<DataField name="c" optype="categorical" dataType="string">{values}</DataField>
<DataField name="y" optype="continuous" dataType="double"/></DataDictionary>""".format(
    values="".join(f'<Value value="{v}"/>' for v in CATS))
SCHEMA = ('<MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x1"/>'
          '<MiningField name="x2"/><MiningField name="c"/></MiningSchema>')
OPS = ("lessThan", "lessOrEqual", "greaterThan", "greaterOrEqual", "equal", "notEqual")


@st.composite
def predicates(draw):
    kind = draw(st.sampled_from(["num", "num", "set", "eq", "missing", "compound", "true"]))
    if kind == "num":
        return (f'<SimplePredicate field="{draw(st.sampled_from(["x1", "x2"]))}" '
                f'operator="{draw(st.sampled_from(OPS))}" value="{draw(st.sampled_from([-1, 0, 0.5, 1]))}"/>')
    if kind == "set":
        members = draw(st.lists(st.sampled_from(CATS), min_size=1, max_size=3, unique=True))
        op = draw(st.sampled_from(["isIn", "isNotIn"]))
        return (f'<SimpleSetPredicate field="c" booleanOperator="{op}">'
                f'<Array type="string">{" ".join(members)}</Array></SimpleSetPredicate>')
    if kind == "eq":
        return (f'<SimplePredicate field="c" operator="{draw(st.sampled_from(["equal", "notEqual"]))}" '
                f'value="{draw(st.sampled_from(CATS))}"/>')
    if kind == "missing":
        return f'<SimplePredicate field="x1" operator="{draw(st.sampled_from(["isMissing", "isNotMissing"]))}"/>'
    if kind == "compound":
        op = draw(st.sampled_from(["and", "or", "xor", "surrogate"]))
        return (f'<CompoundPredicate booleanOperator="{op}"><SimplePredicate field="x1" operator="lessThan" value="0"/>'
                f'<SimplePredicate field="x2" operator="greaterThan" value="0"/></CompoundPredicate>')
    return "<True/>"


@st.composite
def nodes(draw, depth: int, counter: list, root: bool = False):
    counter[0] += 1
    node_id = counter[0]
    score = draw(st.integers(-5, 5))
    kids = [] if depth == 0 else [draw(nodes(depth - 1, counter)) for _ in range(draw(st.integers(0, 3)))]
    default = f' defaultChild="{kids[0][0]}"' if kids else ""
    body = "".join(k[1] for k in kids)
    pred = "<True/>" if root else draw(predicates())
    return node_id, f'<Node id="{node_id}" score="{score}"{default}>{pred}{body}</Node>'


@st.composite
def tree_documents(draw):
    root = draw(nodes(3, [0], root=True))[1]
    mvs = draw(st.sampled_from(["nullPrediction", "lastPrediction", "defaultChild", "none"]))
    ntc = draw(st.sampled_from(["returnNullPrediction", "returnLastPrediction"]))
    model = (f'<TreeModel functionName="regression" missingValueStrategy="{mvs}" noTrueChildStrategy="{ntc}">'
             f'{SCHEMA}{root}</TreeModel>')
    return HEADER + model + "</PMML>"


@st.composite
def regression_documents(draw):
    coef = st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 6))
    preds = "".join(f'<NumericPredictor name="{f}" coefficient="{draw(coef)}"/>' for f in ("x1", "x2"))
    preds += "".join(f'<CategoricalPredictor name="c" value="{v}" coefficient="{draw(coef)}"/>'
                     for v in draw(st.lists(st.sampled_from(CATS), unique=True)))
    norm = draw(st.sampled_from(["none", "exp", "logit", "softmax", "cloglog"]))
    return (HEADER + f'<RegressionModel functionName="regression" normalizationMethod="{norm}">{SCHEMA}'
            f'<RegressionTable intercept="{draw(coef)}">{preds}</RegressionTable></RegressionModel></PMML>')


def _inputs(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 300
    x1 = rng.choice([-1.0, 0.0, 0.5, 1.0, 2.0, np.nan], n)
    x2 = rng.normal(0, 1, n)
    x2[rng.uniform(size=n) < 0.15] = np.nan
    c = rng.choice(list(CATS) + [None], n).astype(object)
    return pd.DataFrame({"x1": x1, "x2": x2, "c": c})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree_documents(), st.integers(0, 1000))
def test_random_trees_match_jpmml(xml, seed):
    assert_conforms(parse(xml.encode()), _inputs(seed), rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(regression_documents(), st.integers(0, 1000))
def test_random_regressions_match_jpmml(xml, seed):
    assert_conforms(parse(xml.encode()), _inputs(seed), rtol=1e-9, atol=1e-12)
