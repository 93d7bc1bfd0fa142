"""pmmlkit: train Spark ML pipelines, export PMML, version it, score it fast."""
from __future__ import annotations

from typing import Any

from .errors import PmmlkitError

__version__ = "0.1.0"

__all__ = ["Evaluator", "Repository", "PmmlkitError", "train", "convert", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy: importing pmmlkit must not import pyspark, pandas or py4j.
    if name == "Evaluator":
        from .evaluator import Evaluator
        return Evaluator
    if name == "Repository":
        from .repository.store import Repository
        return Repository
    if name in ("train", "convert"):
        from .extras import require_extra

        require_extra("spark", what=f"pmmlkit.{name}")
        from .spark import training
        return getattr(training, name)
    raise AttributeError(name)
