"""sklearn2pmml as the producer: fit each catalogue model, convert it in one warm JVM, build its Case.

sklearn2pmml starts a JVM per conversion (~4 s); JPMML-SkLearn's Main is called here in one
py4j JVM instead (~0.2 s a model), exactly as sklearn2pmml would call it, on the same pickle.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import jvms, sklearn_data
from .harness import Case
from .rows import on_thresholds
from .sklearn_models import FIT_PARAMS, MODELS

THRESHOLD_ROWS = 90  # on top of ~110 data rows: ~200 rows per model


class ConversionFailed(Exception):
    pass


class SkLearn2PMML:
    """JPMML-SkLearn's command line application, run in one JVM for the whole session."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.log = workdir / "sklearn2pmml-jvm.log"
        self._gateway: Any = None

    def _jvm(self) -> Any:
        if self._gateway is None:
            import sklearn2pmml

            self._gateway = jvms.launch(sklearn2pmml._classpath([]), log=self.log)
        return self._gateway

    def convert(self, pipeline: Any, name: str) -> bytes:
        import joblib
        import sklearn2pmml
        from py4j.protocol import Py4JError

        pkl, out = self.workdir / f"{name}.pkl", self.workdir / f"{name}.pmml"
        seen = self.log.stat().st_size if self.log.exists() else 0
        joblib.dump(sklearn2pmml._escape(pipeline, escape_func=sklearn2pmml._escape), pkl, compress=3)
        gw = self._jvm()
        try:
            gw.jvm.com.sklearn2pmml.Main.main(jvms.string_array(gw, ["--pkl-input", str(pkl),
                                                                     "--pmml-output", str(out)]))
        except Py4JError as e:  # Main calls System.exit on failure: the JVM is gone
            self._gateway = None
            with open(self.log, encoding="utf-8", errors="replace") as fh:
                fh.seek(seen)
                said = [ln.strip() for ln in fh if "Exception" in ln and not ln.startswith("\tat ")]
            raise ConversionFailed(f"JPMML-SkLearn could not convert {name}: {' / '.join(said[-3:]) or e}") from None
        finally:
            pkl.unlink(missing_ok=True)
        return out.read_bytes()

    def close(self) -> None:
        if self._gateway is not None:
            jvms.shutdown(self._gateway)
            self._gateway = None


_DATA = {
    "diabetes": lambda: sklearn_data.diabetes(),
    "diabetes32": lambda: sklearn_data.diabetes(float32=True),
    "iris": sklearn_data.iris,
    "iris_codes": sklearn_data.iris_codes,
    "cancer": sklearn_data.cancer,
    "mixed_reg": lambda: sklearn_data.mixed(task="regression"),
    "mixed_cls": lambda: sklearn_data.mixed(task="classification"),
}


def build_case(name: str, converter: SkLearn2PMML, data_cache: dict[str, sklearn_data.Data]) -> Case:
    from sklearn2pmml.pipeline import PMMLPipeline

    data_name, make = MODELS[name]
    if data_name not in data_cache:
        data_cache[data_name] = _DATA[data_name]()
    data = data_cache[data_name]
    pipeline = PMMLPipeline(make())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the small MLPs and SVMs
        if name == "kmeans":
            pipeline.fit(data.X)
        else:
            pipeline.fit(data.X, data.y, **FIT_PARAMS.get(name, {}))
    raw = converter.convert(pipeline, name)
    clean_base = data.score[data.clean]
    extra = on_thresholds(raw, clean_base, n=THRESHOLD_ROWS, seed=len(name))
    frame = pd.concat([data.score, extra], ignore_index=True)
    clean = np.concatenate([data.clean, np.ones(len(extra), dtype=bool)])
    return Case(name, "sklearn2pmml", raw, frame, expected(pipeline, frame, clean, target=data.y.name))


def expected(pipeline: Any, frame: pd.DataFrame, clean: np.ndarray, *, target: str) -> dict[str, list]:
    """The producer's own answers (predict, predict_proba) on the clean rows; None elsewhere."""
    rows = frame[clean]
    out: dict[str, list] = {}

    def spread(values: Any) -> list:
        full: list = [None] * len(frame)
        for i, v in zip(np.flatnonzero(clean), np.asarray(values).tolist()):
            full[i] = v
        return full

    model = pipeline._final_estimator
    if hasattr(model, "cluster_centers_"):
        return out
    out[target] = spread(pipeline.predict(rows))
    if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
        try:
            proba = pipeline.predict_proba(rows)
        except AttributeError:  # SVC without probability=True
            return out
        for j, cls in enumerate(model.classes_):
            out[f"probability({cls})"] = spread(proba[:, j])
    return out


def build_all(workdir: Path) -> tuple[dict[str, Case], dict[str, str]]:
    """Every catalogue model as a Case; a model that fails to fit or convert is reported by name."""
    converter = SkLearn2PMML(workdir)
    cases: dict[str, Case] = {}
    failures: dict[str, str] = {}
    data_cache: dict[str, sklearn_data.Data] = {}
    try:
        for name in MODELS:
            try:
                cases[name] = build_case(name, converter, data_cache)
            except Exception as e:  # noqa: BLE001 - reported per model by the tests
                failures[name] = f"{type(e).__name__}: {e}"
    finally:
        converter.close()
    return cases, failures


def default_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="pmmlkit-conformance-"))


if __name__ == "__main__":  # python -m tests.conformance.sklearn_producer: convert and list
    cases, failures = build_all(default_workdir())
    for n, c in cases.items():
        print(n, len(c.pmml), len(c.frame))
    for n, f in failures.items():
        print("FAILED", n, f[:300])
    print(os.getpid())
