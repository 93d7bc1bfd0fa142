"""Test-only JVMs: the reference JPMML-Evaluator and the JPMML-SkLearn converter.

Each runs in a py4j gateway of its own, apart from pmmlkit's shared JVM, so a bug in
pmmlkit's bridge can never leak into the reference. ``die_on_exit`` makes the JVM
exit with this Python process, even on kill -9.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def launch(jars: Sequence[str], *, log: Path, heap: str = "-Xmx1g") -> Any:
    """A py4j JavaGateway whose classpath starts with ``jars`` (stdout/stderr to ``log``)."""
    from py4j.java_gateway import GatewayParameters, JavaGateway, find_jar_path, launch_gateway

    from pmmlkit.java import require_java

    # py4j puts its own jar first; a later -classpath wins, and JPMML-SkLearn reads its
    # build date from the first MANIFEST.MF on the classpath, which must be its own.
    cp = os.pathsep.join([*jars, find_jar_path()])
    out = open(log, "a", encoding="utf-8")  # not closed here: it lives as long as the JVM
    port = launch_gateway(java_path=require_java(), javaopts=[heap, "-classpath", cp], die_on_exit=True,
                          redirect_stdout=out, redirect_stderr=out)
    return JavaGateway(gateway_parameters=GatewayParameters(port=port, auto_convert=True, auto_close=True))


def shutdown(gateway: Any) -> None:
    try:
        gateway.shutdown()
    except Exception:  # noqa: BLE001 - the JVM may already be gone
        pass


def string_array(gateway: Any, values: Sequence[str]) -> Any:
    arr = gateway.new_array(gateway.jvm.java.lang.String, len(values))
    for i, v in enumerate(values):
        arr[i] = v
    return arr
