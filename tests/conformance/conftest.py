"""Fixtures of the conformance suite: the reference JVM, and PMML converted once per session.

Set PMMLKIT_CONFORMANCE_REPORT=path to get a markdown summary of every (case, backend)
outcome at the end of the run.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from .harness import Case, Outcome, check
from .reference import Answer, Reference

OUTCOMES: list[Outcome] = []


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    import jpmml_evaluator

    from . import jvms

    log = tmp_path_factory.mktemp("reference") / "jpmml-evaluator-jvm.log"
    gateway = jvms.launch(jpmml_evaluator._package_classpath(), log=log)
    yield Reference(gateway)
    jvms.shutdown(gateway)


@pytest.fixture(scope="session")
def answers(reference):
    """The reference's answer per case, computed once and shared by the backends' tests."""
    cache: dict[tuple[str, str], Answer] = {}

    def answer(case: Case) -> Answer:
        key = (case.producer, case.name)  # both producers have a "linear_regression"
        if key not in cache:
            cache[key] = reference.score(case.pmml, case.frame)
        return cache[key]
    return answer


@pytest.fixture(scope="session")
def sklearn_cases(tmp_path_factory):
    """(cases by name, conversion failures by name) for the scikit-learn catalogue."""
    from .sklearn_producer import build_all

    return build_all(tmp_path_factory.mktemp("sklearn2pmml"))


@pytest.fixture
def kernels_restored():
    """The native kernels' choice (C or NumPy) as it was before the test."""
    from pmmlkit.evaluator.native import compiled

    before = compiled.name()
    yield
    compiled.use(before)


@pytest.fixture(scope="session")
def conform(answers):
    """check(case, backend) against the reference, recorded for the summary."""
    def run(case: Case, backend: str) -> Outcome:
        outcome = check(case, backend, answers(case))
        OUTCOMES.append(outcome)
        return outcome
    return run


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("PMMLKIT_CONFORMANCE_REPORT")
    if not path or not OUTCOMES:
        return
    lines = ["| case | backend | outcome |", "|---|---|---|"]
    for o in sorted(OUTCOMES, key=lambda o: (o.ok, o.case, o.backend)):
        what = ("refused at load: " + o.refused[:160]) if o.refused else \
            ("ok" if o.ok else " / ".join(o.problems[:2])[:600].replace("|", "\\|").replace("\n", " "))
        if o.ok and o.declared:
            what += " (declared: " + "; ".join(o.declared)[:160] + ")"
        lines.append(f"| {o.case} | {o.backend} | {what} |")
    tmp = f"{path}.{os.getpid()}.tmp"
    Path(tmp).write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@pytest.fixture(scope="session")
def spark_cases(spark):
    """(cases by name, fit/export failures by name) for the Spark catalogue."""
    from .spark_producer import build_all

    return build_all(spark)
