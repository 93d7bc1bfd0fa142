"""A SparkSession that carries the JPMML-SparkML jars, quiet and small for local use."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..extras import require_extra
from ..java import require_java

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# These converters need XGBoost/LightGBM classes we do not ship; loading them
# only prints ClassNotFoundException stack traces.
_EXCLUDED_JARS = ("xgboost", "lightgbm")


# Spark's default log4j profile prints INFO/WARN banners before setLogLevel can act;
# this one keeps the driver at ERROR from the first line.
_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""


def _log4j2_file() -> str:
    """Write the quiet log4j2 config once per process; returns its path."""
    import hashlib
    import tempfile

    digest = hashlib.sha256(_LOG4J2.encode()).hexdigest()[:12]  # a changed config gets a new file
    path = os.path.join(tempfile.gettempdir(), f"pmmlkit-log4j2-{digest}.properties")
    if not os.path.isfile(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(_LOG4J2)
        os.replace(tmp, path)  # atomic: concurrent sessions never read half a file
    return path


def jpmml_jars() -> list[str]:
    """JPMML-SparkML jars for the installed Spark, without the XGBoost/LightGBM converters."""
    require_extra("spark", what="the JPMML-SparkML jars")
    import pyspark2pmml

    jars = [j for j in pyspark2pmml.spark_jars().split(",") if j]
    return [j for j in jars if not any(x in os.path.basename(j).lower() for x in _EXCLUDED_JARS)]


def get_session(*, master: str = "local[*]", app_name: str = "pmmlkit",
                conf: Mapping[str, str] | None = None) -> SparkSession:
    """Start (or reuse) a SparkSession with the JPMML jars; checks Java first."""
    require_extra("spark", what="a Spark session")
    java = require_java(17)
    # Spark finds java through JAVA_HOME; point it at the one we checked.
    os.environ.setdefault("JAVA_HOME", os.path.dirname(os.path.dirname(os.path.realpath(java))))
    from pyspark.sql import SparkSession

    settings: dict[str, str] = {
        "spark.jars": ",".join(jpmml_jars()),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
    }
    if master.startswith("local"):
        # Local runs stay on loopback (no lookup of the host's public address).
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Python workers (mapInPandas scoring) must run this interpreter, which has pmmlkit,
        # not whatever `python3` is first on PATH. On a cluster the user sets PYSPARK_PYTHON.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        settings["spark.driver.host"] = "127.0.0.1"
        settings["spark.driver.bindAddress"] = "127.0.0.1"
        settings["spark.sql.shuffle.partitions"] = "4"
        settings["spark.default.parallelism"] = "4"
    settings.update(conf or {})
    java_opts = settings.get("spark.driver.extraJavaOptions", "")
    if "log4j" not in java_opts:  # the caller's own logging config wins
        quiet = f"-Dlog4j2.configurationFile={_log4j2_file()}"
        settings["spark.driver.extraJavaOptions"] = f"{java_opts} {quiet}".strip()
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def spark_session(spark: SparkSession | None = None, *, master: str | None = None,
                  app_name: str = "pmmlkit") -> Iterator[SparkSession]:
    """Reuse ``spark`` or the active session, else start one; stop it only if we started it.

    A running session keeps its master (Spark cannot change it), so ``master`` only
    applies when this call starts the session.
    """
    session = spark or active_session()
    started = session is None
    if session is None:
        session = get_session(master=master or "local[*]", app_name=app_name)
    try:
        yield session
    finally:
        if started:
            session.stop()


def active_session() -> SparkSession | None:
    """The SparkSession already running in this process, if any (tests, spark-submit)."""
    require_extra("spark", what="a Spark session")
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def stop_session() -> None:
    """Stop the active SparkSession, if one is running."""
    spark = active_session()
    if spark is not None:
        spark.stop()
