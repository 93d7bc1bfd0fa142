"""Scorecard explanations: partial scores per input field, additive to 1e-9, reason codes equal JPMML's outputs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import ExplanationError
from pmmlkit.evaluator.native.explain import explain
from pmmlkit.evaluator.native.explain.scorecard import explain_scorecard
from pmmlkit.pmml.loader import parse
from tests.evaluator.native_harness import jpmml_results
from tests.evaluator.test_scorecard import _INCOME_REF, DMG, VARIANTS, frame, variant

FIELDS = ["department", "age", "income"]


def explained(raw: bytes, rows: pd.DataFrame):
    ev = Evaluator.from_bytes(raw, backend="native")
    return explain_scorecard(ev.backend, ev.contract.check_frame(rows).columns, len(rows))


def assert_additive(found, rows: np.ndarray | None = None) -> None:
    ok = ~np.isnan(found.raw) if rows is None else rows
    assert ok.any()
    assert np.abs(found.residual()[ok]).max() <= 1e-9


@pytest.mark.parametrize("name", ["dmg_example", "points_above", "scorecard_baseline", "ties", "attribute_codes",
                                  "otherwise", "no_match"])
def test_reason_codes_and_scores_are_jpmml_s(name):
    """raw is the predicted score and the ranked codes are the reasonCode outputs, row by row."""
    df = frame()
    found = explained(VARIANTS[name], df)
    ref = jpmml_results(parse(VARIANTS[name]), df)
    refused = ref["overallScore"].isna().to_numpy()
    assert refused.sum() < len(df) // 2
    assert np.array_equal(np.isnan(found.raw), refused)
    assert np.array_equal(found.raw[~refused], ref["overallScore"].to_numpy(float)[~refused])
    assert_additive(found)
    assert found.reason_codes is not None
    for i in np.flatnonzero(~refused):
        want = [ref[f"Reason Code {k}"][i] for k in (1, 2, 3)]
        got = (found.reason_codes[i] + [None] * 3)[:3]
        assert got == [None if w is None or w != w else w for w in want], f"row {i}"
    assert all(codes == [] for codes in np.array(found.reason_codes, dtype=object)[refused])


def test_contributions_are_the_partial_scores_of_each_field():
    """The specification's arithmetic: base = initialScore; each field gets its Characteristic's partial score."""
    df = pd.DataFrame({"department": ["engineering", "marketing", None], "age": [25.0, 60.0, np.nan],
                       "income": [500.0, 2600.0, np.nan]})
    found = explained(DMG, df)
    assert found.of == "score of overallScore"
    assert found.base.tolist() == [0.0, 0.0, 0.0]
    assert {f: v.tolist() for f, v in found.contributions.items()} == {
        "department": [3.0, 19.0, -9.0], "age": [0.0, 18.0, -1.0], "income": [26.0, -3.0, 3.0]}
    assert found.raw.tolist() == [29.0, 34.0, -7.0]
    assert found.reason_codes == [["RC2", "RC1"], ["RC3", "RC1", "RC2"], ["RC1", "RC2", "RC3"]]


def test_a_target_rescale_scales_every_part_and_initial_score_is_the_base():
    raw = variant((b'initialScore="0"', b'initialScore="12.5"'),
                  (b'<Characteristics>', b'<Targets><Target field="overallScore" rescaleFactor="0.5" '
                                         b'rescaleConstant="100"/></Targets><Characteristics>'))
    df = frame(60, seed=3)
    found = explained(raw, df)
    plain = explained(DMG, df)
    ok = ~np.isnan(found.raw)
    assert np.allclose(found.base[ok], 0.5 * 12.5 + 100)
    for f in FIELDS:
        assert np.array_equal(found.contributions[f][ok], 0.5 * plain.contributions[f][ok])
    assert np.array_equal(found.raw[ok], jpmml_results(parse(raw), df)["overallScore"].to_numpy(float)[ok])
    assert_additive(found)


def test_explain_dispatches_scorecards_without_background():
    ev = Evaluator.from_bytes(DMG, backend="native")
    df = frame(20)
    found = explain(ev.backend, ev.contract.check_frame(df).columns, len(df), None, 0)
    assert set(found.contributions) == set(FIELDS)
    assert_additive(found)


def test_a_derived_field_is_attributed_to_the_input_it_reads():
    raw = variant((b'<Characteristics>', b'<LocalTransformations><DerivedField name="years" optype="continuous" '
                                         b'dataType="double"><Apply function="+"><FieldRef field="age"/>'
                                         b'<Constant>0</Constant></Apply></DerivedField></LocalTransformations>'
                                         b'<Characteristics>'),
                  (b'field="age" operator="greaterThan" value="39"', b'field="years" operator="greaterThan" '
                                                                     b'value="39"'))
    df = frame(80)
    found, plain = explained(raw, df), explained(DMG, df)
    ok = ~np.isnan(plain.raw)
    assert np.array_equal(found.contributions["age"][ok], plain.contributions["age"][ok])
    assert_additive(found)


def test_a_characteristic_that_reads_no_field_belongs_to_the_base():
    raw = variant((b'</Characteristics>', b'<Characteristic name="bonus" reasonCode="RC9" baselineScore="0">'
                                          b'<Attribute partialScore="7"><True/></Attribute></Characteristic>'
                                          b'</Characteristics>'))
    found = explained(raw, frame(30))
    ok = ~np.isnan(found.raw)
    assert (found.base[ok] == 7.0).all()
    assert_additive(found)


def test_a_characteristic_over_two_fields_is_refused():
    raw = variant((_INCOME_REF, b'<Constant>0.03</Constant>\n                <FieldRef field="age"/>'))
    with pytest.raises(ExplanationError, match=r"Characteristic 'incomeScore' depends on the input fields "
                                               r"\['age', 'income'\]"):
        explained(raw, frame(5))


@pytest.mark.parametrize("target,match", [
    ('<Target field="overallScore" castInteger="round"/>', "castInteger='round'"),
    ('<Target field="overallScore" min="0"/>', "min='0'"),
])
def test_a_non_linear_target_is_refused(target, match):
    raw = variant((b'<Characteristics>', f'<Targets>{target}</Targets><Characteristics>'.encode()))
    with pytest.raises(ExplanationError, match=match):
        explained(raw, frame(5))


def test_a_refused_row_has_no_explanation_and_the_others_do():
    df = frame(40)
    found = explained(VARIANTS["no_match"], df)
    refused = (df["age"].isna() | (df["department"] == "legal")).to_numpy()
    assert refused.any() and not refused.all()
    assert np.isnan(found.raw[refused]).all() and np.isnan(found.base[refused]).all()
    assert all(np.isnan(v[refused]).all() for v in found.contributions.values())
    assert_additive(found, ~refused)


def test_without_reason_codes_there_are_none():
    found = explained(VARIANTS["no_reason_codes"], frame(10))
    assert found.reason_codes is None
    assert_additive(found)
