"""pmmlkit: train Spark ML pipelines, export PMML, version it, score it fast."""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import PmmlkitError  # noqa: E402

__all__ = ["Evaluator", "Repository", "PmmlkitError", "train", "convert", "__version__"]


def __getattr__(name: str):
    # Lazy: importing pmmlkit must not import pyspark, pandas or py4j.
    if name == "Evaluator":
        from .evaluator import Evaluator
        return Evaluator
    if name == "Repository":
        from .repository.store import Repository
        return Repository
    if name in ("train", "convert"):
        from .spark import training
        return getattr(training, name)
    raise AttributeError(name)
