"""Compare one pmmlkit backend with the reference on one case, and say precisely where they differ.

Rules (issue 12): ``auto`` and ``jpmml`` must equal the reference on every row; ``native``
must equal it or refuse the document at load with UnsupportedElement; ``pypmml`` may differ
only where pmmlkit declares the difference (a warning at load, a refusal at load, or an
entry of agreement.KNOWN_GAPS for the document). A row that pmmlkit rejects while the
reference scores it (or the reverse) is a failure like a wrong number.
"""
from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pmmlkit import Evaluator
from pmmlkit.errors import EvaluationTimeout, PmmlkitError, UnsupportedElement

from .reference import Answer, plain

RTOL = 1e-9    # relative, on every number
ATOL = 1e-12   # absolute floor, for numbers that should be 0 (probabilities of 1e-17...)
BACKENDS = ("auto", "native", "jpmml", "pypmml")
MAX_SHOWN = 5  # differing rows quoted per column
TIMEOUT = 30.0  # seconds per batch of ~200 rows: a backend slower than that is a finding, not a wait


@dataclass(frozen=True)
class Case:
    """One PMML document from a real producer, the raw rows to score, and the producer's own answers."""

    name: str
    producer: str
    pmml: bytes
    frame: pd.DataFrame
    # result column -> the producer's answer per row (NaN/None where the producer is not asked)
    expected: dict[str, list] = field(default_factory=dict)


@dataclass
class Outcome:
    """What one backend did with one case."""

    case: str
    backend: str
    problems: list[str] = field(default_factory=list)
    refused: str | None = None        # load-time refusal, when allowed
    declared: list[str] = field(default_factory=list)  # differences pmmlkit declared at load

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        head = f"{self.case} [{self.backend}]"
        return head + ": " + ("ok" if self.ok else "\n  " + "\n  ".join(self.problems))


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def load(case: Case, backend: str) -> tuple[Evaluator, list[str]]:
    """Load like a user (verification on); returns the evaluator and the warnings it gave."""
    handler = _Capture()
    logger = logging.getLogger("pmmlkit")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ev = Evaluator.from_bytes(case.pmml, backend=backend, source=f"{case.name}.pmml", timeout=TIMEOUT)
    finally:
        logger.removeHandler(handler)
    return ev, [str(w.message) for w in caught] + handler.messages


def declared_gaps(ev: Evaluator, backend: str) -> list[str]:
    """Differences pmmlkit declares for this document and backend: the evaluator's
    ``known_differences`` (evaluator/differences.py) and agreement.KNOWN_GAPS."""
    from pmmlkit.evaluator import agreement

    declared = [str(d) for d in getattr(ev, "known_differences", [])]
    gap = agreement._declared_gap(backend, ev.document.root)
    return declared + ([gap] if gap else [])


def check(case: Case, backend: str, answer: Answer) -> Outcome:
    """Score ``case`` with ``backend`` and compare every row and column with the reference answer."""
    outcome = Outcome(f"{case.producer}:{case.name}", backend)
    try:
        ev, said = load(case, backend)
    except UnsupportedElement as e:
        if backend == "native":
            outcome.refused = str(e)
            return outcome
        outcome.problems.append(f"load failed: UnsupportedElement: {e}")
        return outcome
    except PmmlkitError as e:
        if backend == "pypmml":  # refusing is a way of declaring
            outcome.refused = f"{type(e).__name__}: {e}"
            return outcome
        outcome.problems.append(f"load failed: {type(e).__name__}: {e}")
        return outcome
    if backend == "pypmml":  # only a warning about PMML4S itself declares a PMML4S difference
        outcome.declared = [m for m in said if "pmml4s" in m.lower() or "pypmml" in m.lower()]
        outcome.declared += declared_gaps(ev, backend)
    try:
        got = ev.predict_batch(case.frame, errors="column")
    except Exception as e:  # noqa: BLE001 - any escape from errors="column" is a finding
        if not (backend == "pypmml" and isinstance(e, EvaluationTimeout)
                and any("performance" in d for d in outcome.declared)):  # declared slow at load
            outcome.problems.append(f"predict_batch raised {type(e).__name__}: {e}")
        return outcome
    finally:
        ev.close()
    outcome.problems += compare(case, ev, got, answer)
    if backend == "pypmml" and outcome.problems and outcome.declared:
        outcome.problems = []  # a declared difference; the declaration is kept in the outcome
    elif backend == "pypmml" and outcome.problems:
        outcome.problems.insert(0, "differs from the reference and pmmlkit declared no difference at load")
    return outcome


def compare(case: Case, ev: Evaluator, got: pd.DataFrame, answer: Answer) -> list[str]:
    problems: list[str] = []
    error_col = ev.error_column
    mine = [None if pd.isna(e) else str(e) for e in got[error_col]]
    problems += _rejections(case, mine, answer.errors)
    scored = [m is None and r is None for m, r in zip(mine, answer.errors)]
    # The reference answers in PMML names; pmmlkit publishes a target T as predicted_T (result_fields).
    pmml_names = [f.name for f in ev.result_fields.values()]
    for name, result in ev.result_fields.items():
        if result.name not in answer.results.columns:
            problems.append(f"column {result.name!r}: pmmlkit answers it, the reference has no such result "
                            f"(reference columns: {list(answer.results.columns)})")
            continue
        problems += _column(case, result.name, result.data_type, got[name].tolist(),
                            answer.results[result.name].tolist(), scored)
    # A ClusteringModel's unnamed target comes back under no name (NaN), and jpmml_evaluator also
    # returns OutputFields with isFinalResult="false" (intermediate values): neither is a result.
    extra = [c for c in answer.results.columns if isinstance(c, str) and c not in pmml_names
             and c not in _intermediate_outputs(case.pmml)]
    if extra:
        problems.append(f"result column(s) {extra} of the reference are missing from pmmlkit's answer")
    return problems


def _intermediate_outputs(pmml: bytes) -> set[str]:
    import xml.etree.ElementTree as ET

    return {el.get("name", "") for el in ET.fromstring(pmml).iter()
            if el.tag.rpartition("}")[2] == "OutputField" and el.get("isFinalResult") == "false"}


def _rejections(case: Case, mine: list, theirs: list) -> list[str]:
    problems = []
    for kind, rows in (("pmmlkit rejects rows the reference scores",
                        [i for i, (m, r) in enumerate(zip(mine, theirs)) if m and not r]),
                       ("pmmlkit scores rows the reference rejects",
                        [i for i, (m, r) in enumerate(zip(mine, theirs)) if r and not m])):
        if rows:
            shown = "; ".join(f"row {case.frame.index[i]} {_inputs(case, i)}: "
                              f"pmmlkit={mine[i]!r} reference={theirs[i]!r}" for i in rows[:MAX_SHOWN])
            problems.append(f"{kind}: {len(rows)} of {len(mine)} rows, e.g. {shown}")
    return problems


def _column(case: Case, name: str, data_type: str, mine: list, theirs: list, scored: list[bool]) -> list[str]:
    bad = []
    for i, (m, r) in enumerate(zip(mine, theirs)):
        if scored[i] and not same(m, r, data_type):
            bad.append(i)
    if not bad:
        return []
    shown = "; ".join(f"row {case.frame.index[i]} {_inputs(case, i)}: pmmlkit={_show(mine[i])} "
                      f"reference={_show(theirs[i])}" for i in bad[:MAX_SHOWN])
    return [f"column {name!r} ({data_type}): {len(bad)} of {sum(scored)} rows differ, e.g. {shown}"]


def missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and math.isnan(v))


def same(mine: Any, theirs: Any, data_type: str, *, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Equal as values of ``data_type``: numbers within tolerance, labels exactly, missing alike."""
    if missing(mine) or missing(theirs):
        return missing(mine) and missing(theirs)
    if data_type in ("double", "float"):
        try:
            a, b = float(mine), float(theirs)
        except (TypeError, ValueError):
            return False
        return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    if data_type == "integer":
        try:
            return float(mine) == float(theirs)
        except (TypeError, ValueError):
            return False
    if data_type == "boolean":
        return str(mine).lower() == str(theirs).lower()
    return _label(mine) == _label(theirs)


def _label(v: Any) -> str:
    """A label as text; a whole float label (1.0) is the same label as the integer 1."""
    v = plain(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _show(v: Any) -> str:
    return "missing" if missing(v) else repr(plain(v))


def _inputs(case: Case, i: int) -> str:
    row = case.frame.iloc[i]
    return "{" + ", ".join(f"{c}={_show(row[c])}" for c in case.frame.columns[:12]) + "}"


def producer_mismatches(case: Case, answer: Answer, *, rtol: float, atol: float) -> list[str]:
    """Where the reference differs from the producer's own answers (a sanity check of the reference)."""
    bad = []
    for column, values in case.expected.items():
        if column not in answer.results.columns:
            continue  # an answer the converter does not write (kNN writes neighbours, not probabilities)
        theirs = answer.results[column].tolist()
        numeric = column.startswith("probability(") or any(isinstance(plain(v), float) and not float(v).is_integer()
                                                          for v in values if v is not None)
        for i, want in enumerate(values):
            if want is None:
                continue
            if answer.errors[i] or not same(theirs[i], want, "double" if numeric else "label", rtol=rtol, atol=atol):
                bad.append(f"row {case.frame.index[i]} {_inputs(case, i)} {column}: reference={_show(theirs[i])}"
                           f"{' (' + answer.errors[i] + ')' if answer.errors[i] else ''} producer={_show(want)}")
    return bad


def case_named(built: tuple[dict[str, Case], dict[str, str]], name: str) -> Case:
    """The case, or a failure saying why the producer gave no PMML for it."""
    import pytest

    cases, failures = built
    if name in failures:
        pytest.fail(f"{name}: the producer gave no PMML to test: {failures[name]}")
    return cases[name]
