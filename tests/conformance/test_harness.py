"""The harness itself finds differences: a reference answer tampered with must be reported precisely."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.docs import logistic_pmml

from .harness import Case, check
from .reference import Answer


@pytest.fixture(scope="module")
def case_and_answer(reference):
    frame = pd.DataFrame({"x1": [0.5, None, 2.0, -1.0], "x2": [1, 2, 3, 4],
                          "device": ["ios", "web", "android", "tablet"]})  # 'tablet' is invalid
    case = Case("logistic", "hand-written", logistic_pmml(), frame)
    return case, reference.score(case.pmml, frame)


def _tampered(answer: Answer, **changes) -> Answer:
    results = answer.results.copy()
    errors = list(answer.errors)
    for (column, row), value in changes.get("values", {}).items():
        results.loc[row, column] = value
    for row, error in changes.get("errors", {}).items():
        errors[row] = error
    return Answer(results, errors)


@pytest.mark.parametrize("backend", ["native", "jpmml"])
def test_an_untouched_answer_agrees(case_and_answer, backend):
    case, answer = case_and_answer
    assert answer.errors[3] and not any(answer.errors[:3])  # the reference rejects the invalid row
    assert check(case, backend, answer).ok


def test_a_number_off_by_1e_8_relative_is_reported_with_row_and_inputs(case_and_answer):
    case, answer = case_and_answer
    p = answer.results.loc[2, "probability(yes)"]
    outcome = check(case, "native", _tampered(answer, values={("probability(yes)", 2): p * (1 + 1e-8)}))
    assert len(outcome.problems) == 1
    assert outcome.problems[0].startswith("column 'probability(yes)' (double): 1 of 3 rows differ, e.g. row 2 "
                                          "{x1=2.0, x2=3, device='android'}: pmmlkit=")


def test_a_label_a_missing_value_and_a_rejection_are_each_reported(case_and_answer):
    case, answer = case_and_answer
    flipped = "no" if answer.results.loc[0, "y"] == "yes" else "yes"
    outcome = check(case, "jpmml", _tampered(answer, values={("y", 0): flipped, ("probability(no)", 1): None},
                                              errors={2: "reference refuses", 3: None}))
    text = "\n".join(outcome.problems)
    assert "pmmlkit rejects rows the reference scores: 1 of 4 rows, e.g. row 3 " in text
    assert "pmmlkit scores rows the reference rejects: 1 of 4 rows, e.g. row 2 " in text
    assert "column 'y' (string): 1 of 2 rows differ, e.g. row 0 " in text
    assert "column 'probability(no)' (double): 1 of 2 rows differ" in text and "reference=missing" in text


def test_an_undeclared_pypmml_difference_fails(case_and_answer):
    case, answer = case_and_answer
    outcome = check(case, "pypmml", _tampered(answer, values={("y", 0): "maybe"}))
    assert outcome.problems[0] == "differs from the reference and pmmlkit declared no difference at load"
