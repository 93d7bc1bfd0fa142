"""Find a usable Java runtime before anything starts a JVM.

Spark and the JVM backends fail with a long py4j traceback when Java is
missing or too old; checking first turns that into one clear message. Both also
register their JVM here, so that a forked child never keeps it alive.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .errors import JavaNotFoundError

_VERSION = re.compile(r'version\s+"([^"]+)"')
_INSTALL_HINT = ("install a Java {min} (or newer) runtime, e.g. `apt-get install openjdk-17-jre-headless`, "
                 "and put it on PATH or set JAVA_HOME")


def find_java() -> str | None:
    """The java executable that Spark would use: $JAVA_HOME/bin/java first, then PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("java")


def java_major(version: str) -> int:
    """Major version from a `java -version` string: "1.8.0_292" -> 8, "17.0.15" -> 17."""
    parts = re.split(r"[._+-]", version)
    if parts[0] == "1" and len(parts) > 1:
        return int(parts[1])
    return int(parts[0])


def require_java(min_major: int = 17) -> str:
    """Return the java executable path, or raise JavaNotFoundError saying what to install."""
    hint = _INSTALL_HINT.format(min=min_major)
    java = find_java()
    if java is None:
        where = f"JAVA_HOME={os.environ['JAVA_HOME']!r} has no bin/java, and " if os.environ.get("JAVA_HOME") else ""
        raise JavaNotFoundError(f"no Java runtime found ({where}no `java` on PATH): {hint}")
    try:
        proc = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise JavaNotFoundError(f"{java} -version failed ({e}): {hint}") from None
    out = proc.stderr + proc.stdout
    m = _VERSION.search(out)
    if proc.returncode != 0 or m is None:
        first = out.strip().splitlines()[0] if out.strip() else f"exit code {proc.returncode}"
        raise JavaNotFoundError(f"{java} -version did not report a version ({first}): {hint}")
    try:
        major = java_major(m.group(1))
    except ValueError:
        raise JavaNotFoundError(f"{java}: cannot read the Java version {m.group(1)!r}: {hint}") from None
    if major < min_major:
        raise JavaNotFoundError(f"{java} is Java {m.group(1)} (major {major}); "
                                f"pmmlkit needs Java {min_major} or newer: {hint}")
    return java


# --- JVMs that exit when their stdin closes ---------------------------------------------
# Our gateway JVM (py4j die_on_exit) and a Spark driver JVM both read their stdin, a pipe
# from this process, and exit at its end: that is how they die with us, even on kill -9.
# A forked child inherits a copy of that pipe and would keep the JVM alive after we are
# killed (re-parented to PID 1), so every child closes its copies right after fork.
_WATCHED: list[Any] = []


def dies_with_this_process(proc: Any) -> None:
    """Register the Popen of a JVM that exits at the end of its stdin, for the fork rule above."""
    _WATCHED[:] = [p for p in _WATCHED if p.poll() is None and not _closed(p)]
    _WATCHED.append(proc)


def close_stdin(proc: Any) -> None:
    """Close this process's end of a JVM's stdin (the JVM then exits, if no one else holds it)."""
    if proc is not None and proc.stdin is not None:
        try:
            proc.stdin.close()
        except OSError:
            pass


def _closed(proc: Any) -> bool:
    return proc.stdin is None or proc.stdin.closed


def _close_inherited_stdins() -> None:
    spark = getattr(getattr(sys.modules.get("pyspark.context"), "SparkContext", None), "_gateway", None)
    for proc in [*_WATCHED, getattr(spark, "proc", None)]:  # pyspark is never imported here
        close_stdin(proc)
    _WATCHED.clear()  # none of them belongs to the child


os.register_at_fork(after_in_child=_close_inherited_stdins)
