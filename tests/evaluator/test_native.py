"""The native backend: the shared conformance workflow, and tree tests at their edges."""
import numpy as np
import pandas as pd

from pmmlkit.pmml.loader import parse
from tests.evaluator.conformance import check_backend
from tests.evaluator.native_harness import native_results


def test_native_conformance():
    check_backend("native")


def test_tree_tests_at_ties_and_infinite_thresholds():
    """Two-way descent: x >= t becomes x > (t's float below); tests bounded by -inf stay exact."""
    def tree(op: str, value: str) -> bytes:
        return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><DataDictionary>
<DataField name="x" optype="continuous" dataType="double"/><DataField name="y" optype="continuous" dataType="double"/>
</DataDictionary><TreeModel functionName="regression" missingValueStrategy="nullPrediction">
<MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x"/></MiningSchema>
<Node score="0"><True/><Node score="1"><SimplePredicate field="x" operator="{op}" value="{value}"/></Node>
<Node score="2"><True/></Node></Node></TreeModel></PMML>""".encode()

    x = np.array([-np.inf, -1.0, np.nextafter(0.5, -1), 0.5, np.nextafter(0.5, 2), 2.0, np.inf, np.nan])
    df = pd.DataFrame({"x": x})
    cases = {("greaterOrEqual", "0.5"): x >= 0.5, ("lessThan", "0.5"): x < 0.5,
             ("lessOrEqual", "0.5"): x <= 0.5, ("greaterThan", "0.5"): x > 0.5,
             ("greaterOrEqual", "-INF"): x >= -np.inf, ("lessThan", "-INF"): x < -np.inf,
             ("lessOrEqual", "INF"): x <= np.inf, ("greaterThan", "INF"): x > np.inf,
             ("equal", "0.5"): x == 0.5, ("notEqual", "0.5"): x != 0.5}
    for (op, value), hit in cases.items():
        got = native_results(parse(tree(op, value)), df)["y"]
        want = np.where(np.isnan(x), np.nan, np.where(hit, 1.0, 2.0))
        np.testing.assert_array_equal(got, want, err_msg=f"x {op} {value}")
