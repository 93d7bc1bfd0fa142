"""The native Scorecard against JPMML-Evaluator: scores, reason codes (ranked, ties), missing values, refusals.

Documents: the PMML 4.4 specification's example (native_data/scorecards/dmg_example.pmml) and
hand-made variants of it for each branch; what a real producer writes (optbinning through
sklearn2pmml) is in test_scorecard_optbinning.py.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import InvalidPmmlError, UnsupportedElement
from pmmlkit.evaluator.native import NativeBackend
from pmmlkit.pmml.loader import parse
from tests.evaluator.native_harness import assert_conforms, native_results

DATA = Path(__file__).parent / "native_data" / "scorecards"
DMG = (DATA / "dmg_example.pmml").read_bytes()
_INCOME_REF = b'<Constant>0.03</Constant>\n                <FieldRef field="income"/>'
_ATTR_MISSING_AGE = b'<Attribute partialScore="-1">\n          <SimplePredicate field="age" operator="isMissing"/>\n' \
                    b'        </Attribute>'


def frame(n: int = 240, seed: int = 7) -> pd.DataFrame:
    """Every department (and missing, and unknown), ages and incomes across every bin edge, some missing."""
    rng = np.random.default_rng(seed)
    dept = rng.choice(np.array(["marketing", "engineering", "business", "legal", None], dtype=object), n)
    age = rng.choice([17, 18, 19, 29, 30, 39, 40, 55, np.nan], n).astype(float)
    income = rng.choice([0, 250.5, 999.99, 1000, 1000.01, 1500, 2500, 2500.5, 9000, np.nan], n).astype(float)
    return pd.DataFrame({"department": dept, "age": age, "income": income})


def variant(*edits: tuple[bytes, bytes]) -> bytes:
    raw = DMG
    for old, new in edits:
        assert raw.count(old) >= 1, old
        raw = raw.replace(old, new)
    return raw


VARIANTS = {
    "dmg_example": DMG,
    "points_above": variant((b'reasonCodeAlgorithm="pointsBelow"', b'reasonCodeAlgorithm="pointsAbove"')),
    # one baseline for every Characteristic, from the Scorecard; and a non-zero initial score
    "scorecard_baseline": variant((b' baselineScore="19"', b''), (b' baselineScore="18"', b''),
                                  (b' baselineScore="10"', b''),
                                  (b'initialScore="0"', b'initialScore="12.5" baselineScore="8"')),
    # equal points for different codes: baselines chosen so that ties are frequent
    "ties": variant((b'baselineScore="19"', b'baselineScore="12"'), (b'baselineScore="10"', b'baselineScore="9"')),
    # Attribute reason codes override the Characteristic's; one code shared by two Characteristics sums
    "attribute_codes": variant((b'<Attribute partialScore="12">', b'<Attribute partialScore="12" reasonCode="RC2b">'),
                               (b'<Attribute partialScore="18">', b'<Attribute partialScore="18" reasonCode="RC1">')),
    # a ComplexPartialScore that is missing (age missing, income present): the row is refused
    "complex_missing": variant((_INCOME_REF, b'<Constant>0.03</Constant>\n                <FieldRef field="age"/>'),
                               (b'operator="lessOrEqual" value="1000"', b'operator="lessOrEqual" value="1E9"')),
    # ... even when a Target has a defaultValue (JPMML 1.7: UndefinedResultException)
    "complex_missing_default": variant(
        (_INCOME_REF, b'<Constant>0.03</Constant>\n                <FieldRef field="age"/>'),
        (b'operator="lessOrEqual" value="1000"', b'operator="lessOrEqual" value="1E9"'),
        (b'<Characteristics>', b'<Targets><Target field="overallScore" rescaleFactor="2" rescaleConstant="1">'
                               b'<TargetValue defaultValue="7"/></Target></Targets><Characteristics>')),
    # ... and without reason codes (JPMML's other evaluator, SimpleScorecardEvaluator, refuses the row too)
    "complex_missing_no_codes": variant(
        (_INCOME_REF, b'<Constant>0.03</Constant>\n                <FieldRef field="age"/>'),
        (b'operator="lessOrEqual" value="1000"', b'operator="lessOrEqual" value="1E9"'),
        (b'useReasonCodes="true"', b'useReasonCodes="false"'),
        (b'<OutputField name="Reason Code 1"', b'<!--'), (b'</Output>', b'--></Output>')),
    # no Attribute for a missing age: those rows are refused, as JPMML does (UndefinedResultException)
    "no_match": variant((_ATTR_MISSING_AGE, b'')),
    # a <True/> Attribute before the last one: the first match wins, so a missing age and one over 39 score 4
    "otherwise": variant((_ATTR_MISSING_AGE, b''), (b'<Attribute partialScore="18">', b'<Attribute partialScore="4">'
                                                    b'<True/></Attribute><Attribute partialScore="18">')),
    # ranks past the number of codes are missing
    "rank_5": variant((b'rank="3"', b'rank="5"')),
    "no_reason_codes": variant((b'useReasonCodes="true"', b'useReasonCodes="false"'),
                               (b'<OutputField name="Reason Code 1"', b'<!--'), (b'</Output>', b'--></Output>')),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_scorecard_agrees_with_jpmml(name):
    assert_conforms(parse(VARIANTS[name]), frame(), rtol=0, atol=0)


def test_an_invalid_value_treated_as_missing_scores_as_missing():
    """Through the input contract: "legal" is not a declared value; invalidValueTreatment="asMissing"."""
    raw = variant((b'<DataField name="department" optype="categorical" dataType="string"/>',
                   b'<DataField name="department" optype="categorical" dataType="string"><Value value="marketing"/>'
                   b'<Value value="engineering"/><Value value="business"/></DataField>'))
    df = frame()
    ours = Evaluator.from_bytes(raw, backend="native").predict_batch(df)
    theirs = Evaluator.from_bytes(raw, backend="jpmml").predict_batch(df)
    pd.testing.assert_frame_equal(ours, theirs)
    legal = (df["department"] == "legal").to_numpy()
    assert legal.any() and ("error" not in ours or ours["error"].isna().all())
    as_missing = Evaluator.from_bytes(raw, backend="native").predict_batch(df.assign(department=None))
    assert (ours["Final Score"][legal].to_numpy() == as_missing["Final Score"][legal].to_numpy()).all()


def test_the_variants_exercise_their_branch():
    """Each variant really has rows in its branch, so the agreement above means something."""
    df = frame()
    no_age = df["age"].isna()
    refused: list[int] = []
    native_results(parse(VARIANTS["complex_missing_default"]), df, refused=refused)
    assert refused == np.flatnonzero(no_age & df["income"].notna() | (df["department"] == "legal")).tolist()
    refused.clear()
    native_results(parse(VARIANTS["no_match"]), df, refused=refused)
    assert refused == np.flatnonzero(no_age | (df["department"] == "legal")).tolist()
    # business 6 (RC1: 12 - 6 = 6), age 35 -> 12 (RC2: 18 - 12 = 6), income 9000 -> -3 (RC3: 9 + 3 = 12)
    tie = df[(df["department"] == "business") & (df["age"] == 39) & (df["income"] == 9000)]
    assert len(tie), "the frame has no row with tied reason codes"
    ties = native_results(parse(VARIANTS["ties"]), tie, refused=[])
    assert [ties[f"Reason Code {k}"][0] for k in (1, 2, 3)] == ["RC3", "RC1", "RC2"]
    assert (native_results(parse(VARIANTS["rank_5"]), df, refused=[])["Reason Code 3"] == None).all()  # noqa: E711


def test_dmg_example_by_hand():
    """The specification's arithmetic, row by row (pointsBelow: baseline minus partial score)."""
    df = pd.DataFrame({"department": ["engineering", "marketing", None], "age": [25.0, 60.0, np.nan],
                       "income": [500.0, 2600.0, np.nan]})
    out = native_results(parse(DMG), df)
    # engineering 3 (RC1: 16), age 25 -> 0 (RC2: 18), income 500 -> 0.03*500+11 = 26 (RC3: -16, dropped)
    # marketing 19 (RC1: 0), age 60 -> 18 (RC2: 0), income 2600 -> -3 (RC3: 13); RC1 before RC2 at equal points
    # all missing: -9 (RC1: 28), -1 (RC2: 19), 3 (RC3: 7)
    assert out["Final Score"].tolist() == [29.0, 34.0, -7.0]
    assert [out[f"Reason Code {k}"].tolist() for k in (1, 2, 3)] == [["RC2", "RC3", "RC1"], ["RC1", "RC1", "RC2"],
                                                                      [None, "RC2", "RC3"]]


@pytest.mark.parametrize("edit,error,match", [
    ((b' baselineScore="19"', b''), InvalidPmmlError, "has no baselineScore"),
    ((b' reasonCode="RC1"', b''), InvalidPmmlError, "has no reasonCode"),
    ((b'<Attribute partialScore="19">', b'<Attribute>'), InvalidPmmlError, "neither partialScore nor Complex"),
    ((b'reasonCodeAlgorithm="pointsBelow"', b'reasonCodeAlgorithm="x-middle"'), UnsupportedElement,
     "reasonCodeAlgorithm='x-middle'"),
    ((b'functionName="regression"', b'functionName="classification"'), UnsupportedElement,
     "functionName='classification'"),
    ((b'<Scorecard ', b'<Scorecard isScorable="false" '), UnsupportedElement, "isScorable='false'"),
    ((b'<Scorecard ', b'<Scorecard x-mathContext="float" '), UnsupportedElement, "x-mathContext"),
    ((b'useReasonCodes="true"', b'useReasonCodes="false"'), InvalidPmmlError, "useReasonCodes='false'"),
    ((b'rank="2"', b'rank="1.5"'), UnsupportedElement, "rank='1.5'"),
])
def test_what_native_does_not_score_is_refused_by_name(edit, error, match):
    with pytest.raises(error, match=match):
        NativeBackend(parse(variant(edit)))


def test_reason_code_output_outside_a_scorecard_is_refused():
    raw = (DATA.parent / "sklearn_logreg.pmml").read_bytes().replace(
        b"</Output>", b'<OutputField name="rc" feature="reasonCode" rank="1" dataType="string"/></Output>', 1)
    with pytest.raises(UnsupportedElement, match="OutputField feature='reasonCode' rank='1' in a RegressionModel"):
        NativeBackend(parse(raw))


def test_a_refused_row_names_the_characteristic_and_the_value():
    df = pd.DataFrame({"department": ["legal", "business"], "age": [30.0, 30.0], "income": [10.0, 10.0]})
    out = Evaluator.from_bytes(DMG, backend="native").predict_batch(df, errors="column")
    assert out["error"][0].startswith("row 0: Characteristic 'departmentScore' at PMML/Scorecard/Characteristics/"
                                      "Characteristic[1]: no Attribute matches for department='legal'")
    assert out["error"][1] is None and out["Final Score"][1] == 6 + 12 + 11.3


def test_pmml4s_reason_codes_differ_as_declared():
    """The declared pypmml difference (differences.py) is real: PMML4S repeats the last code past the last rank."""
    pytest.importorskip("pypmml")
    from pmmlkit.evaluator.differences import known_differences

    doc = parse(DMG)
    assert [d.element for d in known_differences(doc.root, "pypmml")] == ["Scorecard"]
    assert known_differences(parse(VARIANTS["no_reason_codes"]).root, "pypmml") == []
    row = {"department": "engineering", "age": 25, "income": 500}  # RC2 18, RC1 16, RC3 -16 (no reason)
    assert Evaluator.from_bytes(DMG, backend="native").predict(row)["Reason Code 3"] is None
    assert Evaluator.from_bytes(DMG, backend="pypmml").predict(row)["Reason Code 3"] == "RC1"


def random_scorecard(seed: int) -> bytes:
    """Small integer points and three shared codes: equal points (ties) and summed codes on most rows."""
    rng = np.random.default_rng(seed)
    algorithm = rng.choice(["pointsBelow", "pointsAbove"])
    chars = []
    for f in ("a", "b", "c", "d"):
        cuts = sorted(rng.choice(np.arange(1, 10), 2, replace=False))
        bins = [f'<SimplePredicate field="{f}" operator="lessThan" value="{cuts[0]}"/>',
                f'<SimplePredicate field="{f}" operator="lessThan" value="{cuts[1]}"/>', "<True/>"]
        attrs = "".join(f'<Attribute partialScore="{rng.integers(-3, 4)}"'
                        + (f' reasonCode="{rng.choice(list("ABC"))}"' if rng.random() < 0.3 else "")
                        + f">{p}</Attribute>" for p in bins)
        chars.append(f'<Characteristic name="{f}" reasonCode="{rng.choice(list("ABC"))}" '
                     f'baselineScore="{rng.integers(-2, 3)}">{attrs}</Characteristic>')
    outputs = "".join(f'<OutputField name="rc{k}" feature="reasonCode" rank="{k}" dataType="string"/>'
                      for k in range(1, 5))
    return ('<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/><DataDictionary>'
            + "".join(f'<DataField name="{f}" optype="continuous" dataType="double"/>' for f in "abcd")
            + '<DataField name="s" optype="continuous" dataType="double"/></DataDictionary>'
            f'<Scorecard functionName="regression" reasonCodeAlgorithm="{algorithm}" initialScore="1">'
            '<MiningSchema>' + "".join(f'<MiningField name="{f}"/>' for f in "abcd")
            + '<MiningField name="s" usageType="target"/></MiningSchema>'
            f'<Output>{outputs}</Output><Characteristics>{"".join(chars)}</Characteristics></Scorecard></PMML>'
            ).encode()


@pytest.mark.parametrize("seed", range(6))
def test_random_scorecards_rank_ties_as_jpmml(seed):
    rng = np.random.default_rng(100 + seed)
    df = pd.DataFrame({f: rng.integers(0, 11, 150).astype(float) for f in "abcd"})
    df.iloc[::9, seed % 4] = np.nan  # missing: unknown predicates, so the last <True/> Attribute
    assert_conforms(parse(random_scorecard(seed)), df, rtol=0, atol=0)


def _segments(method: str, output: str = "") -> bytes:
    """Two copies of the example as Segments of a MiningModel (outputs read at the MiningModel)."""
    text = DMG.decode()
    card = text[text.index("<Scorecard"):text.index("</Scorecard>") + len("</Scorecard>")]
    card = card[:card.index("<Output>")] + card[card.index("</Output>") + len("</Output>"):]
    card = card.replace(' invalidValueTreatment="asMissing"', "")
    segment = f"<Segment><True/>{card}</Segment>"
    model = ('<MiningModel functionName="regression"><MiningSchema><MiningField name="department"/>'
             '<MiningField name="age"/><MiningField name="income"/><MiningField name="overallScore" '
             f'usageType="predicted"/></MiningSchema>{output}<Segmentation multipleModelMethod="{method}">'
             f'{segment}{segment}</Segmentation></MiningModel>')
    return (text[:text.index("<Scorecard")] + model + "</PMML>").encode()


def test_scorecards_as_segments_agree_with_jpmml():
    assert_conforms(parse(_segments("sum")), frame(), rtol=0, atol=0)


def test_reason_codes_read_through_a_mining_model_are_refused():
    raw = _segments("selectFirst", '<Output><OutputField name="rc" feature="reasonCode" dataType="string"/></Output>')
    with pytest.raises(UnsupportedElement, match="OutputField feature='reasonCode' rank='1' in a MiningModel"):
        NativeBackend(parse(raw))


def test_auto_scores_a_scorecard_natively():
    """Before this, auto fell back to JPMML for every Scorecard."""
    assert Evaluator.from_bytes(DMG).backend.name == "native"
