"""Serving test helpers: the two-version test model from tests/docs.py, the admin token, the backend."""
from __future__ import annotations

import os

from tests.docs import color_record as record  # noqa: F401  (re-exported for the serving tests)
from tests.docs import versioned_p1 as expected_p1  # noqa: F401
from tests.docs import versioned_pmml as pmml

ADMIN_TOKEN = "test-admin-token"
# What `pmmlkit serve --backend auto` picks for these documents; override to test another backend.
BACKEND = os.environ.get("PMMLKIT_SERVE_TEST_BACKEND", "native")


def v1() -> bytes:
    return pmml(1)


def v2() -> bytes:
    return pmml(2)
