"""Native tests that run once per kernel path (compiled C and the NumPy fallback); see kernels.py."""
from __future__ import annotations

from tests.evaluator.kernels import KINDS, native_kernels  # noqa: F401  (the fixture)

# Modules whose every test runs under both kernel paths: they score trees and ensembles.
BOTH_KERNELS = ("test_native", "test_native_mining", "test_native_xgboost", "test_native_conformance",
                "test_native_hypothesis", "test_native_elements")


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_KERNELS:
        metafunc.fixturenames.append("native_kernels")
        metafunc.parametrize("native_kernels", KINDS, indirect=True)
