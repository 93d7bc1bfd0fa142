"""A SparkSession that carries the JPMML-SparkML jars, quiet and small for local use."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..extras import require_extra
from ..java import require_java

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# These converters need XGBoost/LightGBM classes we do not ship; loading them
# only prints ClassNotFoundException stack traces.
_EXCLUDED_JARS = ("xgboost", "lightgbm")


# Spark's default log4j profile prints INFO/WARN banners before setLogLevel can act;
# this one keeps the driver at ERROR from the first line. The py4j gateway's logger at the
# root's level stops PySpark's "Setting default log level... For SparkR" banner (Spark
# prints it when the first logging class of an interactive JVM has no level of its own).
# A failed task is reported once, as one PmmlkitError line: the executor's and scheduler's
# Java traces of it, netlib's "failed to load JNIBLAS" (it falls back to Java BLAS,
# nothing to act on) and the RPC client's "requests outstanding" lines of a master that
# does not answer are off (--verbose prints the full trace of the error itself).
_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
logger.executor.name = org.apache.spark.executor.Executor
logger.executor.level = off
logger.tasks.name = org.apache.spark.scheduler.TaskSetManager
logger.tasks.level = off
logger.netlib.name = dev.ludovic.netlib
logger.netlib.level = off
logger.transport.name = org.apache.spark.network.client.TransportResponseHandler
logger.transport.level = off
"""
MASTER_TIMEOUT = 5.0  # seconds to wait for a spark:// or k8s:// master to accept a connection
JPMML_BUILDER = "org.jpmml.sparkml.PMMLBuilder"  # the class pyspark2pmml calls
VERBOSE_ENV = "PMMLKIT_VERBOSE"  # set by `pmmlkit --verbose`: Spark logs at WARN, full traces


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
        java_opts = f"{java_opts} -Dlog4j2.configurationFile={_log4j2_file()}"
    java_opts += "".join(f" {opt}" for opt in _no_native_blas() if opt.split("=")[0] not in java_opts)
    settings["spark.driver.extraJavaOptions"] = java_opts.strip()
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    from .export import java_failure, spark_errors

    try:
        spark = builder.getOrCreate()
    except spark_errors(RuntimeError) as e:  # e.g. a standalone master that never answered
        raise ConfigError(f"{java_failure(e, f'starting Spark on master {master!r}')}; check --master "
                          "(the master's URL, that it runs and accepts applications)") from None
    spark.sparkContext.setLogLevel("WARN" if verbose() else "ERROR")
    _quiet_python_loggers()
    return spark


def _no_native_blas() -> list[str]:
    """JVM options that stop netlib from trying a system BLAS/LAPACK this machine does not have.

    Its native loader prints "netlib-blas: JNI_OnLoad: dlopen(libblas.so.3) failed" from C,
    past any logging config, and then falls back to pure Java, as it would without trying.
    A machine with the libraries keeps using them.
    """
    from ctypes.util import find_library

    return [f"-Ddev.ludovic.netlib.{lib}.allowNative=false" for lib in ("blas", "lapack") if not find_library(lib)]


def verbose() -> bool:
    """True under ``pmmlkit --verbose`` (or PMMLKIT_VERBOSE=1): full logs and traces."""
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


def _quiet_python_loggers() -> None:
    # PySpark logs every failed DataFrame query as a JSON blob with the Java trace, before
    # the exception we turn into one line reaches us.
    import logging

    from pyspark.logger import PySparkLogger

    for name in ("DataFrameQueryContextLogger", "SQLQueryContextLogger"):
        # Through PySparkLogger: PySpark calls these loggers with its own keyword arguments.
        PySparkLogger.getLogger(name).setLevel(logging.WARNING if verbose() else logging.CRITICAL)


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
        check_master(master)
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


def check_master(master: str | None, *, timeout: float = MASTER_TIMEOUT) -> None:
    """Fail in one line, within ``timeout``, when a spark:// or k8s:// master does not answer.

    Spark itself retries an unreachable standalone master for about a minute and then
    fails with a long Java trace. yarn and local masters have no address to check here.
    """
    import socket

    addresses = _master_addresses(master or "")
    problems = []
    for host, port in addresses:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            return  # with several masters (standalone HA) one that answers is enough
        except OSError as e:
            problems.append(f"{host}:{port}: {e.strerror or e}")
    if problems:
        raise ConfigError(f"--master {master}: cannot connect within {timeout:g}s ({'; '.join(problems)}); "
                          "check the host and port and that the master is running, "
                          "or leave out --master to train locally")


def _master_addresses(master: str) -> list[tuple[str, int]]:
    """(host, port) pairs a master URL names: spark://h1:7077,h2:7077 or k8s://https://host:443."""
    from urllib.parse import urlsplit

    if master.startswith("spark://"):
        hosts = master[len("spark://"):].split(",")
        default = 7077
    elif master.startswith("k8s://"):
        url = master[len("k8s://"):]
        url = url if "://" in url else f"https://{url}"
        hosts, default = [urlsplit(url).netloc], 443 if url.startswith("https") else 80
    else:
        return []
    pairs = []
    for item in hosts:
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "")
        if not host or (port and not port.isdigit()):
            raise ConfigError(f"--master {master}: cannot read {item!r} as host:port")
        pairs.append((host.strip("[]"), int(port) if port else default))
    return pairs


def require_jpmml(spark: SparkSession) -> None:
    """Refuse, before any training, a session whose JVM has no JPMML-SparkML (spark-submit without --jars)."""
    from py4j.java_gateway import JavaClass

    found: object = spark.sparkContext._jvm
    for part in JPMML_BUILDER.split("."):
        found = getattr(found, part)
    if not isinstance(found, JavaClass):
        raise ConfigError(f"JPMML-SparkML ({JPMML_BUILDER}) is not on this Spark session's classpath, so the "
                          "model could not be exported after training; run `pmmlkit jars` and pass the "
                          "--jars argument it prints to spark-submit (or set spark.jars)")
