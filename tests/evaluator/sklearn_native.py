"""sklearn2pmml documents for the native tests: fit and convert a few catalogue models once per module."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.conformance.harness import Case


def convert(names: list[str], workdir: Path) -> dict[str, Case]:
    """The conformance catalogue's models ``names``, fitted, converted by JPMML-SkLearn in one JVM."""
    from tests.conformance import sklearn_producer

    converter = sklearn_producer.SkLearn2PMML(workdir)
    data: dict = {}
    try:
        return {name: sklearn_producer.build_case(name, converter, data) for name in names}
    finally:
        converter.close()


def with_rows(case: Case, rows: list[dict]) -> pd.DataFrame:
    """The case's frame plus hand-made rows (ties, bounds), missing columns left missing."""
    return pd.concat([case.frame, pd.DataFrame(rows, columns=case.frame.columns)], ignore_index=True)


def assert_native_equals_jpmml(raw: bytes, frame: pd.DataFrame, *, rtol: float = 1e-9) -> pd.DataFrame:
    """Both backends through the public API (so through the shared input contract): same columns and
    dtypes, labels and missing results exactly, numbers within ``rtol`` (0: bit for bit). The native frame."""
    from pmmlkit import Evaluator

    native = Evaluator.from_bytes(raw, backend="native").predict_batch(frame)
    reference = Evaluator.from_bytes(raw, backend="jpmml").predict_batch(frame)
    pd.testing.assert_frame_equal(native, reference, check_exact=rtol == 0, rtol=rtol or 1e-5, atol=0)
    return native
