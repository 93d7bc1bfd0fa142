"""Fixtures for the training side: small CTR data written once per test session."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _generate_ctr():
    spec = importlib.util.spec_from_file_location("generate_ctr", EXAMPLES / "generate_ctr.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def ctr():
    """The examples/generate_ctr.py module."""
    return _generate_ctr()


@pytest.fixture(scope="session")
def ctr_csv(ctr, tmp_path_factory) -> str:
    """400 rows of CTR data with missing values, as CSV."""
    path = tmp_path_factory.mktemp("data") / "ctr.csv"
    ctr.generate(400, seed=11).to_csv(path, index=False)
    return str(path)


@pytest.fixture()
def ctr_spec(ctr, ctr_csv):
    """A spec mapping for the CTR data; tests set the estimator."""
    return {"name": "ctr", "data": ctr_csv, "label": "clicked", "numeric": list(ctr.NUMERIC),
            "categorical": list(ctr.CATEGORICAL), "validation": {"fraction": 0.3, "seed": 5},
            "verify_rows": 5}
