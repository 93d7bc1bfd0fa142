"""Schemathesis against a live ``pmmlkit serve``: the OpenAPI document is valid and the server keeps it.

Every check schemathesis has runs, except ``positive_data_acceptance``: a predict body that
the static document calls valid (any object of scalars) is rightly refused when its fields
are not the model's, and the model's own fields are described by ``/metadata``, not here.
Two bounded passes: every operation without credentials (admin ones must answer 401), then
the admin operations with the token (they may delete the model, so they come last).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.docs import versioned_pmml
from tests.faults.live_server import live_server

pytest.importorskip("schemathesis")
pytestmark = pytest.mark.slow
TOKEN = "openapi-test-token"
EXAMPLES = 8      # per operation and phase; the whole test stays well under 60 s
SECONDS = 45      # a hard bound per pass; a pass takes ~10 s (--max-time would fuzz until it is spent)


def test_openapi_document_validates(repo, tmp_path):
    from openapi_spec_validator import validate

    from pmmlkit.serving.openapi import openapi_document

    validate(openapi_document(models=["clf"]))


def _st(base: str, tmp_path: Path, name: str, *options: str) -> subprocess.CompletedProcess:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    cmd = [st, "run", f"{base}/openapi.json", "--checks", "all", "--exclude-checks", "positive_data_acceptance",
           "--max-examples", str(EXAMPLES), "--workers", "1", "--seed", "7",
           "--request-timeout", "10", "--no-shrink", "--report", "junit",
           "--report-junit-path", str(tmp_path / f"{name}.xml"), *options]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS, cwd=tmp_path)


def test_schemathesis_passes_against_a_live_server(repo, tmp_path):
    repo.publish("clf", versioned_pmml(1))
    repo.publish("clf", versioned_pmml(2))
    with live_server(repo.root, tmp_path / "server.log", "--backend", "native", "--policy", "all",
                     "--admin-token", TOKEN, "--poll-seconds", "0.5", "--log-level", "info") as server:
        read_only = _st(server.base, tmp_path, "all-operations")
        assert read_only.returncode == 0, read_only.stdout[-6000:]
        admin = _st(server.base, tmp_path, "admin", "-H", f"Authorization: Bearer {TOKEN}",
                    "--include-method", "PUT", "--include-method", "DELETE")
        assert admin.returncode == 0, admin.stdout[-6000:]
        assert httpx.get(server.base + "/healthz", timeout=5).status_code == 200
        log = server.log()
    assert "Traceback" not in log, log[-5000:]
