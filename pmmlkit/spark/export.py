"""Fitted PipelineModel -> PMML bytes through JPMML-SparkML, with ModelVerification records."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import PmmlkitError, TrainingError

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

_APPLICATION = re.compile(rb'<Application\b[^>]*?name="JPMML-SparkML[^"]*"[^>]*?version="([^"]+)"')
_APPLICATION_REV = re.compile(rb'<Application\b[^>]*?version="([^"]+)"[^>]*?name="JPMML-SparkML[^"]*"')
_JAR_VERSION = re.compile(r"pmml-sparkml-(\d[\w.]*)\.jar$")
# Relative precision of the ModelVerification records. JPMML's default (1e-14) is
# tighter than two correct evaluators agree on exp/log-heavy models (naive Bayes).
VERIFY_PRECISION = 1e-10


def spark_errors(*also: type[Exception]) -> tuple[type[Exception], ...]:
    """Exceptions that mean Spark or the JVM refused something (imported lazily), plus ``also``."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    return (Py4JError, PySparkException, *also)


def java_failure(e: Exception, doing: str) -> TrainingError:
    """A TrainingError carrying the Java class and message instead of a py4j traceback."""
    from pyspark.errors import PySparkException

    if isinstance(e, PySparkException):  # Spark already turned the Java error into a clear one
        return TrainingError(f"{doing} failed: {type(e).__name__}: {_first_line(e)}{_VERBOSE_HINT}")
    java = getattr(e, "java_exception", None)
    if java is not None:
        try:
            cls, msg = java.getClass().getName(), java.getMessage()
        except Exception:  # noqa: BLE001 - the JVM may be gone; fall back to py4j's text
            cls, msg = "java exception", str(e)
        return TrainingError(f"{doing} failed: {cls}: {_first_line(msg or '')}{_VERBOSE_HINT}")
    return TrainingError(f"{doing} failed: {type(e).__name__}: {_first_line(e)}{_VERBOSE_HINT}")


_VERBOSE_HINT = " (pmmlkit --verbose shows the full trace)"


@contextmanager
def spark_failures(doing: str) -> Iterator[None]:
    """Turn any Spark, py4j or JPMML failure in the block into one TrainingError line.

    The original exception stays the error's ``__context__``: ``pmmlkit --verbose`` prints it.
    """
    try:
        yield
    except PmmlkitError:
        raise
    except spark_errors(ValueError, TypeError, RuntimeError) as e:
        raise java_failure(e, doing) from None


def _first_line(e: BaseException | str) -> str:
    """The first line of an exception's text, else of its causes' (a Java exception may have no message)."""
    if isinstance(e, str):
        return e.strip().splitlines()[0] if e.strip() else "(no message; see the Spark driver log)"
    seen: BaseException | None = e
    while seen is not None:
        text = str(seen).strip()
        if text:
            return text.splitlines()[0]
        seen = getattr(seen, "_cause", None) or seen.__cause__
    return "(no message; see the Spark driver log)"


def to_pmml(model: PipelineModel, schema: DataFrame | StructType, *,
            verify: DataFrame | None = None) -> bytes:
    """PMML bytes for a fitted pipeline; `verify` rows become ModelVerification records."""
    from pyspark2pmml import PMMLBuilder

    try:
        builder = PMMLBuilder(schema, model)
        if verify is not None and not verify.isEmpty():
            builder = builder.verify(verify, precision=VERIFY_PRECISION, zeroThreshold=VERIFY_PRECISION)
        return bytes(builder.buildByteArray())
    except spark_errors(RuntimeError, TypeError) as e:
        if _NUMERIC_EXPECTED in str(e):
            raise TrainingError(_numeric_expected(model, schema)) from None
        raise java_failure(e, "PMML export (JPMML-SparkML)") from None


_NUMERIC_EXPECTED = "Expected numeric data type, got string"
# Stages that read text: a string column they use is not the one JPMML complains about.
_TEXT_STAGES = {"StringIndexerModel", "Tokenizer", "RegexTokenizer", "CountVectorizerModel", "HashingTF",
                "FeatureHasher", "SQLTransformer", "StopWordsRemover", "NGram"}


def _numeric_expected(model: PipelineModel, schema: DataFrame | StructType) -> str:
    """JPMML's "Expected numeric data type, got string", naming the columns and stages at fault."""
    from pyspark.sql import DataFrame

    struct = schema.schema if isinstance(schema, DataFrame) else schema
    strings = {f.name for f in struct.fields if f.dataType.typeName() == "string"}
    culprits = []
    for stage in model.stages:
        if type(stage).__name__ in _TEXT_STAGES:
            continue
        for param in ("inputCol", "inputCols", "labelCol"):  # a regressor's label must be a number too
            if stage.hasParam(param) and stage.isDefined(param):
                value = stage.getOrDefault(param)
                cols = [value] if isinstance(value, str) else list(value)
                culprits += [f"{c!r} (read by {type(stage).__name__})" for c in cols if c in strings]
    which = (f"column(s) {', '.join(dict.fromkeys(culprits))} have type string but the pipeline uses them "
             "as numbers" if culprits else "a string column is used as a number")
    return (f"PMML export (JPMML-SparkML) failed: {which}; give them a numeric type (double) in the data "
            f"or in --schema, or encode them as categories (JPMML: {_NUMERIC_EXPECTED})")


def jpmml_sparkml_version(pmml: bytes | None = None) -> str | None:
    """JPMML-SparkML version: from the PMML Header's Application, else from the jar's name."""
    if pmml is not None:
        head = pmml[:4096]
        found = _APPLICATION.search(head) or _APPLICATION_REV.search(head)
        if found:
            return found.group(1).decode()
    from .session import jpmml_jars

    for jar in jpmml_jars():
        m = _JAR_VERSION.search(os.path.basename(jar))
        if m:
            return m.group(1)
    return None
