"""MiningModel: a segment without a prediction is treated as JPMML-Evaluator treats it."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.evaluator.native_docs import HEAD
from tests.evaluator.test_native_targets import assert_as_jpmml

ROWS = pd.DataFrame({"x": [0.2, 0.7, None, None, 0.9], "z": [0.1, None, 0.9, None, 0.3]})
ALWAYS = {"plain": "<True/>",  # trees that join the stacked forest, and the same trees one by one
          "general": '<CompoundPredicate booleanOperator="or"><True/><False/></CompoundPredicate>'}


def _tree(field: str, function: str, low: int, high: int, selected: str) -> str:
    """A tree on one field: no prediction when the field is missing (nullPrediction)."""
    def dist(v: int) -> str:
        if function != "classification":
            return ""
        return (f'<ScoreDistribution value="{v}" recordCount="3"/>'
                f'<ScoreDistribution value="{v % 3 + 1}" recordCount="1"/>')
    return (f'<Segment weight="{2 if field == "z" else 1}">{selected}<TreeModel functionName="{function}" '
            f'missingValueStrategy="nullPrediction"><MiningSchema><MiningField name="{field}"/></MiningSchema>'
            f'<Node score="{low}"><True/>'
            f'<Node score="{low}"><SimplePredicate field="{field}" operator="lessOrEqual" value="0.5"/>'
            f'{dist(low)}</Node>'
            f'<Node score="{high}"><SimplePredicate field="{field}" operator="greaterThan" value="0.5"/>{dist(high)}'
            '</Node></Node></TreeModel></Segment>')


def _ensemble(method: str, treatment: str | None, function: str, selected: str) -> bytes:
    target = ('<DataField name="y" optype="continuous" dataType="double"/>' if function == "regression" else
              '<DataField name="y" optype="categorical" dataType="string"><Value value="1"/><Value value="2"/>'
              '<Value value="3"/></DataField>')
    segments = _tree("x", function, 1, 2, selected) + _tree("z", function, 3, 1, selected) + \
        _tree("x", function, 2, 3, selected)
    attr = f' missingPredictionTreatment="{treatment}"' if treatment else ""
    return (HEAD + '<DataDictionary><DataField name="x" optype="continuous" dataType="double"/>'
            f'<DataField name="z" optype="continuous" dataType="double"/>{target}</DataDictionary>'
            f'<MiningModel functionName="{function}"><MiningSchema><MiningField name="x"/><MiningField name="z"/>'
            '<MiningField name="y" usageType="target"/></MiningSchema>'
            f'<Segmentation multipleModelMethod="{method}"{attr}>{segments}</Segmentation></MiningModel></PMML>'
            ).encode()


CASES = [("regression", m) for m in ("sum", "weightedSum", "average", "weightedAverage", "median")] + \
    [("classification", m) for m in ("majorityVote", "weightedMajorityVote", "average", "weightedAverage")]


@pytest.mark.parametrize("path", sorted(ALWAYS))
@pytest.mark.parametrize("treatment", [None, "continue", "returnMissing"])
@pytest.mark.parametrize("function,method", CASES)
def test_missing_segment_prediction_as_jpmml(function, method, treatment, path):
    # "continue" (the default) makes sums and averages missing too; in a vote, "missing" is one
    # more candidate (issue 12: native used to skip the segment and answer a partial sum).
    assert_as_jpmml(_ensemble(method, treatment, function, ALWAYS[path]), ROWS)
