"""backend="auto": native when it can run the document and reproduces its records, else JPMML, and why."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import UnsupportedElement, VerificationError
from pmmlkit.evaluator.native import NativeBackend
from pmmlkit.evaluator.native import backend as native_backend
from tests.docs import logistic_expected, logistic_pmml, x_to_y

RECORD = {"x1": 0.5, "x2": 3, "device": "ios"}
P_YES = logistic_expected(0.5, 3, "ios")

# A RuleSetModel: JPMML-Evaluator scores it, the native compiler has no converter for it.
RULESET = x_to_y('RuleSetModel functionName="classification"', """<RuleSet defaultScore="lo" defaultConfidence="1">
      <RuleSelectionMethod criterion="firstHit"/>
      <SimpleRule score="hi" confidence="1"><SimplePredicate field="x" operator="greaterThan" value="1"/></SimpleRule>
    </RuleSet>""", y='<DataField name="y" optype="categorical" dataType="string">'
                     '<Value value="lo"/><Value value="hi"/></DataField>')


def _verified_logistic(p_yes: float) -> bytes:
    table = ('<ModelVerification><VerificationFields>'
             '<VerificationField field="x1"/><VerificationField field="x2"/><VerificationField field="device"/>'
             '<VerificationField field="probability(yes)" column="p_yes" precision="1e-9"/></VerificationFields>'
             f'<InlineTable><row><x1>0.5</x1><x2>3</x2><device>ios</device><p_yes>{p_yes!r}</p_yes></row>'
             '</InlineTable></ModelVerification>')
    return logistic_pmml(verification=table)


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_auto_is_native_when_native_runs_and_verifies(caplog):
    ev = Evaluator.from_bytes(_verified_logistic(P_YES))
    assert ev.backend_name == "native"
    assert not _warnings(caplog)


def test_auto_falls_back_with_the_reason_when_native_cannot_run_the_document(caplog):
    with pytest.raises(UnsupportedElement, match="RuleSetModel"):
        Evaluator.from_bytes(RULESET, backend="native")
    ev = Evaluator.from_bytes(RULESET, source="rules.pmml")
    assert ev.backend_name == "jpmml"
    assert [ev.predict({"x": x})["predicted_y"] for x in (0.5, 2.0)] == ["lo", "hi"]
    [said] = _warnings(caplog)
    assert "native backend cannot run rules.pmml (UnsupportedElement" in said and "falling back to jpmml" in said


def test_a_native_compiler_bug_propagates_instead_of_falling_back(monkeypatch):
    def broken(root):  # stands in for any defect of the compiler itself
        raise ZeroDivisionError("a bug in the native compiler")

    monkeypatch.setattr(native_backend, "compile_document", broken)
    with pytest.raises(ZeroDivisionError, match="a bug in the native compiler"):
        Evaluator.from_bytes(logistic_pmml())


def test_native_failing_the_documents_records_falls_back_to_jpmml_under_auto(monkeypatch, caplog):
    real = NativeBackend.evaluate

    def off_by_a_bit(self, columns, n_rows, levels=None):  # stands in for a native defect
        results, errors = real(self, columns, n_rows, levels)
        results["probability(yes)"] = np.asarray(results["probability(yes)"]) + 0.01
        return results, errors

    monkeypatch.setattr(NativeBackend, "evaluate", off_by_a_bit)
    raw = _verified_logistic(P_YES)
    with pytest.raises(VerificationError, match="with backend native"):
        Evaluator.from_bytes(raw, backend="native")  # an explicit choice still raises
    caplog.clear()
    ev = Evaluator.from_bytes(raw, source="m.pmml")
    assert ev.backend_name == "jpmml"
    assert ev.predict(RECORD)["probability(yes)"] == pytest.approx(P_YES, rel=1e-12)
    [said] = _warnings(caplog)
    assert said.startswith("native backend does not reproduce the ModelVerification records of m.pmml")
    assert "verification record 1: field 'probability(yes)'" in said and "falling back to jpmml" in said


def test_records_no_backend_reproduces_still_raise_under_auto(caplog):
    with pytest.raises(VerificationError, match="with backend jpmml: verification record 1"):
        Evaluator.from_bytes(_verified_logistic(0.9))
    assert any("falling back to jpmml" in m for m in _warnings(caplog))
