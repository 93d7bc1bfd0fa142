"""`pmmlkit diff MODEL` without data: rows generated from the document find the edges where backends differ."""
from __future__ import annotations

import numpy as np
import pandas as pd
from click.testing import CliRunner

from pmmlkit.cli import main
from pmmlkit.evaluator.probe import MAX_VALUES_PER_FIELD, probe_rows
from pmmlkit.pmml import loader
from tests.docs import logistic_pmml, null_prediction_tree_pmml, x_to_y

THRESHOLD = 0.1  # not a 32-bit float: float32(0.1) > 0.1


def float_tree_pmml(*, input_type: str = "float", derived: bool = False) -> bytes:
    """A stump on x <= 0.1; with ``derived``, the split reads float(x), a float copy of x."""
    split = "float(x)" if derived else "x"
    transform = ('<LocalTransformations><DerivedField name="float(x)" optype="continuous" dataType="float">'
                 '<FieldRef field="x"/></DerivedField></LocalTransformations>') if derived else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="x" optype="continuous" dataType="{input_type}"/>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <TreeModel functionName="regression" missingValueStrategy="none" noTrueChildStrategy="returnNullPrediction">
    <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x"/></MiningSchema>
    {transform}
    <Node score="0"><True/>
      <Node score="1"><SimplePredicate field="{split}" operator="lessOrEqual" value="{THRESHOLD}"/></Node>
      <Node score="2"><SimplePredicate field="{split}" operator="greaterThan" value="{THRESHOLD}"/></Node>
    </Node>
  </TreeModel>
</PMML>""".encode()


SVM = x_to_y('SupportVectorMachineModel functionName="regression"', """<LinearKernelType/>
    <VectorDictionary numberOfVectors="1">
      <VectorFields numberOfFields="1"><FieldRef field="x"/></VectorFields>
      <VectorInstance id="0"><Array n="1" type="real">2.0</Array></VectorInstance>
    </VectorDictionary>
    <SupportVectorMachine>
      <SupportVectors numberOfAttributes="1" numberOfSupportVectors="1"><SupportVector vectorId="0"/></SupportVectors>
      <Coefficients absoluteValue="1.0" numberOfCoefficients="1"><Coefficient value="0.5"/></Coefficients>
    </SupportVectorMachine>""")


def _xs(raw: bytes) -> list[float]:
    return [v for v in probe_rows(loader.parse(raw))["x"] if v is not None]


def test_both_sides_of_a_float_threshold_are_float32_neighbours():
    t32 = np.float32(THRESHOLD)
    for raw in (float_tree_pmml(), float_tree_pmml(input_type="double", derived=True)):
        xs = _xs(raw)
        for x in (t32, np.nextafter(t32, np.float32(0)), np.nextafter(t32, np.float32(1))):
            assert float(x) in xs
        # The rows tell float semantics from double semantics apart: some value goes left in
        # one and right in the other.
        assert any((x <= THRESHOLD) != (np.float32(x) <= t32) for x in xs)


def test_both_sides_of_a_double_threshold_are_float64_neighbours():
    xs = _xs(float_tree_pmml(input_type="double"))
    assert {THRESHOLD, np.nextafter(THRESHOLD, 0), np.nextafter(THRESHOLD, 1)} <= set(xs)


def test_categories_bounds_missing_and_invalid_values_are_probed():
    rows = probe_rows(loader.parse(logistic_pmml()))
    assert {"android", "ios", "web"} < set(rows["device"].dropna())
    assert len(set(rows["device"].dropna()) - {"android", "ios", "web"}) == 1  # one invalid category
    x2 = set(rows["x2"].dropna())
    assert {0.0, 1.0, 99.0, 100.0} <= x2 and any(v < 0 for v in x2) and any(v > 100 for v in x2)
    for column in rows.columns:
        assert rows[column].isna().any(), f"no missing value of {column}"
    assert rows.equals(probe_rows(loader.parse(logistic_pmml())))  # seeded: the same rows every time


def test_a_field_with_many_categories_is_sampled():
    values = "".join(f'<Value value="c{i}"/>' for i in range(50_000))
    raw = null_prediction_tree_pmml().replace(b'<Value value="a"/><Value value="b"/>',
                                              f'<Value value="a"/><Value value="b"/>{values}'.encode())
    rows = probe_rows(loader.parse(raw))
    assert MAX_VALUES_PER_FIELD <= len(rows) < 2 * MAX_VALUES_PER_FIELD + 300


def test_diff_without_data_finds_a_float_edge(tmp_path):
    model = tmp_path / "float.pmml"
    model.write_bytes(float_tree_pmml())
    r = CliRunner().invoke(main, ["diff", "-m", str(model), "--backends", "jpmml,pypmml"])
    assert r.exit_code == 1, r.output
    assert "rows generated from the model" in r.output and "backends disagree" in r.output
    assert "known difference: pypmml differs at PMML/TreeModel/Node[1]/Node[1]/SimplePredicate" in r.output
    [row] = [line.split() for line in r.output.splitlines() if line.startswith("predicted_y ")]
    assert row[:2] == ["predicted_y", "pypmml"] and int(row[3]) >= 1


def test_diff_without_data_finds_a_missing_value_edge(tmp_path):
    model = tmp_path / "tree.pmml"
    model.write_bytes(null_prediction_tree_pmml())
    r = CliRunner().invoke(main, ["diff", "-m", str(model), "--backends", "jpmml,native,pypmml"])
    assert r.exit_code == 1, r.output
    rows = [line.split() for line in r.output.splitlines() if line.startswith("predicted_y ")]
    assert rows == [["predicted_y", "native", "4", "0", "0"], ["predicted_y", "pypmml", "4", "1", "inf"]]


def test_diff_without_data_on_a_correct_document_exits_0(tmp_path):
    model = tmp_path / "m.pmml"
    model.write_bytes(logistic_pmml())
    r = CliRunner().invoke(main, ["diff", "-m", str(model)])
    assert r.exit_code == 0, r.output
    assert "all backends agree" in r.output and "known difference" not in r.output


def test_rows_refused_by_both_backends_agree_whatever_each_message_says():
    """JPMML and native both refuse an SVM row with a missing input, each in its own words."""
    from pmmlkit.evaluator.agreement import compare

    frame = pd.DataFrame({"x": [1.0, None, 3.0]}, dtype=object)
    report = compare(SVM, frame, backends=("jpmml", "native"))
    assert report.agrees, report.table()
    assert [(c.column, c.differing) for c in report.columns] == [("predicted_y", 0), ("error", 0)]
    # PMML4S answers no prediction and no error there: a difference, declared and reported.
    report = compare(SVM, frame, backends=("jpmml", "pypmml"))
    assert [(c.column, c.differing) for c in report.columns] == [("predicted_y", 0), ("error", 1)]
    assert report.declared == [
        "pypmml differs at PMML/SupportVectorMachineModel: on rows with a missing input, JPMML refuses "
        "the row with an error where PMML4S answers no prediction and no error"]


def test_diff_leaves_out_a_backend_that_refuses_the_document(tmp_path):
    from tests.evaluator.test_auto_selection import RULESET

    model = tmp_path / "rules.pmml"
    model.write_bytes(RULESET)
    r = CliRunner().invoke(main, ["diff", "-m", str(model)])
    assert r.exit_code == 0, r.output
    assert "not compared: native refuses this document: unsupported PMML element 'RuleSetModel'" in r.output
    rows = [line.split()[:2] for line in r.output.splitlines() if line.startswith("predicted_y ")]
    assert rows == [["predicted_y", "pypmml"]]
    assert "all backends agree" in r.output
