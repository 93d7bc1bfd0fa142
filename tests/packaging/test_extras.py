"""Without an extra, asking for its part says in one line which extra to install; the core still runs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pmmlkit.errors import MissingExtraError
from pmmlkit.extras import EXTRAS, extra_of_module, has_extra, missing_extra
from tests.docs import logistic_pmml
from tests.evaluator.test_auto_selection import RULESET  # a document only JPMML runs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _without(extras: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(HERE / "without_extras.py"), extras, "--", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    (tmp_path / "m.pmml").write_bytes(logistic_pmml())
    (tmp_path / "rules.pmml").write_bytes(RULESET)
    (tmp_path / "in.csv").write_text("x1,x2,device\n0.5,3,ios\n")
    (tmp_path / "spec.yaml").write_text("name: m\n")
    return tmp_path


@pytest.mark.parametrize("args, line", [
    (("train", "spec.yaml"), "pmmlkit train needs the Spark extra: pip install 'pmmlkit[spark]'"),
    (("jars",), "pmmlkit jars needs the Spark extra: pip install 'pmmlkit[spark]'"),
    (("embeddings", "train", "spec.yaml"),
     "pmmlkit embeddings train needs the Spark extra: pip install 'pmmlkit[spark]'"),
    (("score", "in.csv", "-m", "m.pmml", "-o", "o", "--engine", "spark"),
     "pmmlkit score --engine spark needs the Spark extra: pip install 'pmmlkit[spark]'"),
    (("serve", "--repo", "r"), "pmmlkit serve needs the serve extra: pip install 'pmmlkit[serve]'"),
    (("score", "in.csv", "-m", "m.pmml", "-o", "o.csv", "--backend", "jpmml"),
     "m.pmml: backend='jpmml' needs the JVM extra: pip install 'pmmlkit[jvm]'"),
])
def test_a_missing_extra_is_one_line_naming_it(files, args, line):
    r = _without("spark,jvm,serve", *args, cwd=files)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip() == f"Error: {line}" and "Traceback" not in r.stderr


def test_the_core_scores_natively_and_auto_refuses_a_document_that_needs_the_jvm(files):
    r = _without("spark,jvm,serve", "score", "in.csv", "-m", "m.pmml", "-o", "out.csv", cwd=files)
    assert r.returncode == 0 and "backend native" in r.stdout, r.stderr
    refused = _without("spark,jvm,serve", "score", "in.csv", "-m", "rules.pmml", "-o", "o.csv", cwd=files)
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("Error: rules.pmml: the native backend cannot run it (UnsupportedElement: ")
    assert line.endswith("and the fallback backend 'jpmml' needs the JVM extra: pip install 'pmmlkit[jvm]'")


def test_python_api_names_the_extra(files):
    code = ("import pmmlkit\n"
            "try:\n    pmmlkit.train\nexcept pmmlkit.PmmlkitError as e:\n    print(e)\n"
            "ev = pmmlkit.Evaluator.load('m.pmml')\nprint(ev.backend_name)\n"
            "import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pyspark', 'py4j', 'pypmml', 'jpmml_evaluator', 'starlette')))\n")
    r = _without("spark,jvm,serve", "-c", code, cwd=files)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["pmmlkit.train needs the Spark extra: pip install 'pmmlkit[spark]'",
                                     "native", "[]"]


def test_extras_map_modules_and_are_installed_here():
    assert extra_of_module("pyspark.sql") == "spark" and extra_of_module("py4j.java_gateway") == "jvm"
    assert extra_of_module("numpy") is None and extra_of_module(None) is None
    assert all(has_extra(extra) for extra in EXTRAS)  # the dev install has everything
    e = missing_extra("redis", what="the Redis store")
    assert isinstance(e, MissingExtraError) and e.extra == "redis"
    assert str(e) == "the Redis store needs the Redis extra: pip install 'pmmlkit[redis]'"
