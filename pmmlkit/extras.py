"""Optional parts of pmmlkit and the one message that says which extra to install.

``pip install pmmlkit`` is the evaluator core (native backend, ``pmmlkit score``...).
Spark, the JVM backends, the server and the store clients come with extras; asking
for one of them without its extra raises MissingExtraError naming what to install.
"""
from __future__ import annotations

import importlib.util

from .errors import MissingExtraError

# extra -> (title in messages, top-level modules it provides)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "spark": ("Spark", ("pyspark", "pyspark2pmml")),
    "jvm": ("JVM", ("jpmml_evaluator", "pypmml", "py4j")),
    "serve": ("serve", ("starlette", "uvicorn", "prometheus_client", "orjson")),
    "s3": ("S3", ("s3fs",)),
    "redis": ("Redis", ("redis",)),
    "report": ("report", ("matplotlib",)),
}


def has_extra(extra: str) -> bool:
    """True when every module of ``extra`` can be imported (checked without importing it)."""
    return all(importlib.util.find_spec(m) is not None for m in EXTRAS[extra][1])


def missing_extra(extra: str, *, what: str) -> MissingExtraError:
    """The error for ``what`` (``pmmlkit train``, ``backend='jpmml'``) needing ``extra``."""
    return MissingExtraError(what, extra, EXTRAS[extra][0])


def require_extra(extra: str, *, what: str) -> None:
    """Raise MissingExtraError unless ``extra`` is installed."""
    if not has_extra(extra):
        raise missing_extra(extra, what=what)


def extra_of_module(name: str | None) -> str | None:
    """The extra that provides module ``name`` (``pyspark.sql`` -> ``spark``), if any."""
    top = (name or "").split(".")[0]
    return next((extra for extra, (_, modules) in EXTRAS.items() if top in modules), None)
