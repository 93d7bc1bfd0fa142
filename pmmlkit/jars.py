"""Collect the jars a Spark cluster needs for pmmlkit jobs, from installed Python packages.

Only the driver converts pipelines to PMML, but ``--jars`` puts the
JPMML-SparkML jars on every node so that a job may run anywhere. Distributed
scoring needs no jar: the executors run pmmlkit's own Python Evaluator, so with
the native backend they need the Python packages (pmmlkit, numpy, pandas,
pyarrow: ``pip install pmmlkit``) and with the jpmml backend also ``pmmlkit[jvm]`` and Java.
"""
from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass

EXECUTOR_NOTE = ("distributed scoring (pmmlkit score --engine spark) runs pmmlkit's Python Evaluator on the "
                 "executors: they need no extra jar, but `pip install pmmlkit` (plus pmmlkit[jvm] and Java 17 "
                 "for --backend jpmml) in the executors' PYSPARK_PYTHON environment")


@dataclass(frozen=True)
class Collected:
    jars: tuple[str, ...]   # the copies in ``dest``, in classpath order
    copied: int             # how many were new or changed

    @property
    def jars_argument(self) -> str:
        """The value for ``spark-submit --jars``."""
        return ",".join(self.jars)


def cluster_jars() -> list[str]:
    """Source paths of every jar a cluster job needs, for the installed Spark line."""
    from .spark.session import jpmml_jars  # one rule for which jars are left out

    return jpmml_jars()


def collect(*, dest: str | os.PathLike[str] = "jars") -> Collected:
    """Copy ``cluster_jars()`` into ``dest``; each copy lands atomically (temp file, then rename)."""
    os.makedirs(dest, exist_ok=True)
    copies, copied = [], 0
    for source in cluster_jars():
        target = os.path.join(os.path.abspath(dest), os.path.basename(source))
        copies.append(target)
        if _same_file(source, target):
            continue
        tmp = f"{target}.tmp-{uuid.uuid4().hex}"
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)  # a job starting meanwhile never sees half a jar
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        copied += 1
    return Collected(tuple(copies), copied)


def _same_file(source: str, target: str) -> bool:
    try:
        a, b = os.stat(source), os.stat(target)
    except FileNotFoundError:
        return False
    return a.st_size == b.st_size and int(a.st_mtime) <= int(b.st_mtime)
