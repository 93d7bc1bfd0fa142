"""One py4j gateway per process, shared by every JVM-backed model.

The JVM is launched lazily with PMML4S and JPMML-Evaluator on one classpath.
It runs with py4j's ``die_on_exit``: it watches its stdin and exits when the
Python process goes away, even on SIGKILL, so no gateway JVM is orphaned.
A forked child never reuses its parent's gateway (the pid is checked) and closes
its copy of that JVM's stdin, so the JVM still dies with its own process. A JVM that
dies under a call is replaced and the call runs once more on the new one (models
reload themselves from their bytes); if that fails too, BackendUnavailable.
"""
from __future__ import annotations

import logging
import os
import shlex
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..errors import BackendUnavailable, JavaError, PmmlkitError
from ..extras import require_extra
from ..java import close_stdin, dies_with_this_process, require_java
from ..pmml.fields import NUMERIC_TYPES, typed_value
from ..pmml.loader import PmmlDocument
from .base import Backend, Columns, Levels, Results

log = logging.getLogger(__name__)
T = TypeVar("T")


def classpath() -> list[str]:
    """Jars of the two JVM evaluators, all from installed Python packages."""
    import jpmml_evaluator
    import pypmml

    jars: list[str] = []
    for d in (Path(pypmml.__file__).parent / "jars",
              Path(jpmml_evaluator.__file__).parent / "resources",
              Path(jpmml_evaluator.__file__).parent / "dependencies"):
        jars += sorted(str(p) for p in d.glob("*.jar"))
    return jars


class _DeadJvmNoise(logging.Filter):
    """Drops what py4j logs while one of pmmlkit's own JVM calls fails.

    When our JVM dies, py4j logs a multi-line ERROR traceback for every failed send and
    connection attempt (some on the root logger) before pmmlkit notices; pmmlkit then logs
    one warning of its own and restarts the JVM, or raises an error that says what failed.
    Records are dropped only from py4j's own code, in a thread that is inside one of our
    calls: a Spark driver's py4j traffic elsewhere in the process is untouched.
    """

    def __init__(self) -> None:
        super().__init__()
        self.active = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        ours = getattr(self.active, "depth", 0) > 0
        return not (ours and f"{os.sep}py4j{os.sep}" in record.pathname)


_NOISE = _DeadJvmNoise()
for _logger in (logging.getLogger("py4j.java_gateway"), logging.getLogger("py4j.clientserver"),
                logging.getLogger()):  # py4j also calls logging.exception() on the root logger
    _logger.addFilter(_NOISE)


RETRY_AFTER = 2.0  # seconds: about what a JVM restart and a model reload take


class Gateway:
    """The process's JVM: launch, health, restart."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._gateway: Any = None
        self._proc: Any = None
        self._pid: int | None = None
        self.generation = 0

    def _launch(self) -> Any:
        from py4j.java_gateway import GatewayParameters, JavaGateway, launch_gateway

        java = require_java()
        opts = shlex.split(os.environ.get("PMMLKIT_JAVA_OPTS", "-Xmx2g"))
        port, self._proc = launch_gateway(classpath=os.pathsep.join(classpath()), javaopts=opts,
                                          java_path=java, die_on_exit=True, redirect_stdout=None,
                                          redirect_stderr=None, return_proc=True)
        dies_with_this_process(self._proc)
        gw = JavaGateway(gateway_parameters=GatewayParameters(port=port, auto_convert=True,
                                                              auto_close=True))
        self.generation += 1
        log.info("started JVM gateway on port %s (generation %s, pid %s)", port, self.generation,
                 self._proc.pid)
        return gw

    def get(self) -> Any:
        """The live gateway, launching one in this process if there is none."""
        return self.current()[0]

    def current(self) -> tuple[Any, int]:
        """The live gateway and its generation, read together."""
        with self._lock:
            if self._gateway is None or self._pid != os.getpid():
                # After fork the inherited gateway belongs to the parent: never touch it.
                self._gateway = self._launch()
                self._pid = os.getpid()
            return self._gateway, self.generation

    def restart(self, *, seen: int | None = None) -> None:
        """Replace the JVM; with ``seen``, only if no other thread has replaced that generation yet."""
        with self._lock:
            if seen is not None and seen != self.generation:
                return
            if self._gateway is not None and self._pid == os.getpid():
                # close(), not shutdown(): the JVM is gone. It marks the client disconnected,
                # so finalizers of the old Java objects stop calling a dead port (and stop
                # logging tracebacks from inside the garbage collector).
                try:
                    self._gateway.close()
                except Exception:  # noqa: BLE001 - best effort on a dead JVM
                    pass
                _drop_finalizers(self._gateway)
                close_stdin(self._proc)
            self._gateway = None
            self.get()

    def shutdown(self) -> None:
        with self._lock:
            if self._gateway is not None and self._pid == os.getpid():
                self._gateway.shutdown()
                close_stdin(self._proc)
            self._gateway = None

    @property
    def jvm(self) -> Any:
        return self.get().jvm

    def call(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(gateway)``; when the JVM dies, run it once more on a new JVM.

        Raises BackendUnavailable when that second run fails too (or no JVM can be started).
        """
        _NOISE.active.depth = getattr(_NOISE.active, "depth", 0) + 1
        try:
            return self._call(fn)
        finally:
            _NOISE.active.depth -= 1

    def _call(self, fn: Callable[[Any], T]) -> T:
        from py4j.protocol import Py4JError, Py4JJavaError

        for attempt in (1, 2):
            gw, seen = self._current_or_unavailable()
            try:
                return fn(gw)
            except Py4JJavaError as e:
                jex = e.java_exception
                raise JavaError(str(jex.getClass().getName()), str(jex.getMessage())) from None
            except Py4JError as e:
                # A dead JVM shows up as a network error or as a failed member lookup.
                if not self._gone(gw, seen):
                    raise PmmlkitError(f"JVM call failed: {e}") from None
                if attempt == 2:
                    raise BackendUnavailable(
                        "the JVM gateway died during the call and again on the retry with a new JVM; "
                        f"try again in {RETRY_AFTER:g} s (see the JVM's stderr)",
                        retry_after=RETRY_AFTER) from None
                self._replace(seen)
        raise AssertionError("unreachable")

    def _current_or_unavailable(self) -> tuple[Any, int]:
        try:
            return self.current()
        except _launch_errors() as e:
            raise BackendUnavailable(f"cannot start the JVM gateway ({type(e).__name__}: {e}); "
                                     f"try again in {RETRY_AFTER:g} s", retry_after=RETRY_AFTER) from None

    def _gone(self, gw: Any, seen: int) -> bool:
        """True when the JVM a call used has died or been replaced since."""
        return seen != self.generation or not _pings(gw)

    def _replace(self, seen: int) -> None:
        """Restart the JVM of generation ``seen``; threads that failed on it share one restart."""
        with self._lock:
            if seen == self.generation:
                log.warning("JVM gateway is gone; starting a new one")
                try:
                    self.restart(seen=seen)
                except _launch_errors():
                    self._gateway = None  # the retry tries again and reports it as unavailable

    def alive(self) -> bool:
        try:
            return _pings(self.get())
        except Exception:  # noqa: BLE001 - any failure means not alive
            return False


def _launch_errors() -> tuple[type[BaseException], ...]:
    """How a JVM launch fails short of a missing Java (no port printed, process gone)."""
    from py4j.protocol import Py4JError

    return (Py4JError, OSError, ValueError)


def _pings(gw: Any) -> bool:
    try:
        gw.jvm.java.lang.System.nanoTime()
        return True
    except Exception:  # noqa: BLE001 - any failure means not alive
        return False


GATEWAY = Gateway()
_INHERITED: list[Any] = []


def _forget_parent_gateway() -> None:
    """In a forked child: the parent's sockets are shared, so never talk on them.

    Marking the client disconnected stops the finalizers of inherited Java objects
    from sending commands over the parent's connections, and keeping a reference
    stops the connections from being shut down (which would cut the parent off).
    (Its copy of the JVM's stdin is closed by pmmlkit.java's own fork hook.)
    """
    gw = GATEWAY._gateway
    if gw is not None:
        gw._gateway_client.is_connected = False
        _drop_finalizers(gw)
        _INHERITED.append(gw)
        GATEWAY._gateway = None


def _drop_finalizers(gw: Any) -> None:
    """Forget the weakref finalizers of a gateway's Java objects.

    They would only try to free objects in a JVM that is gone or not ours, and
    running them from inside the garbage collector at arbitrary moments has been
    seen to upset CPython 3.11's AST compiler ("recursion depth mismatch").
    """
    from py4j.finalizer import ThreadSafeFinalizer

    client = gw._gateway_client
    prefix = f"{client.address}{client.port}"
    with ThreadSafeFinalizer.lock:
        for key in [k for k in ThreadSafeFinalizer.finalizers if str(k).startswith(prefix)]:
            ThreadSafeFinalizer.finalizers.pop(key, None)


os.register_at_fork(after_in_child=_forget_parent_gateway)


def python_columns(columns: dict[str, Any], schema: Any) -> dict[str, list[Any]]:
    """Typed NumPy columns to plain Python lists of the JVM's types (None for missing).

    A value equal to its field's missingValueReplacement goes back as None: the JVM applies
    the same replacement itself, after its own validity check, as JPMML-Evaluator used
    directly does (a replacement need not be a valid value, e.g. sklearn's "none" imputer).
    """
    import math

    out: dict[str, list[Any]] = {}
    for f in schema.inputs:
        col = columns[f.name]
        if f.data_type == "integer":
            values = [None if math.isnan(v) else int(v) for v in col.tolist()]
        elif f.data_type == "boolean":
            values = [None if math.isnan(v) else bool(v) for v in col.tolist()]
        elif col.dtype.kind == "f":
            values = [None if math.isnan(v) else v for v in col.tolist()]
        else:
            values = list(col)
        replacement = _replacement(f)
        if replacement is not None:
            values = [None if v == replacement else v for v in values]
        out[f.name] = values
    return out


def _replacement(f: Any) -> Any:
    """The field's missingValueReplacement typed as the contract types it (float32 for float), or None."""
    text = f.missing_value_replacement
    if text is None or f.data_type == "boolean":
        return None  # booleans: the contract's 1.0/0.0 is not what a text compare would find
    typed = typed_value(text, f.data_type)
    return None if f.data_type in NUMERIC_TYPES and isinstance(typed, str) else typed


class JvmModel:
    """A model living in the shared JVM; reloaded from its bytes after a JVM restart."""

    def __init__(self, load: Callable[[Any, Any], Any]):
        self._load = load
        self._lock = threading.Lock()
        self._gateway: Any = None
        self._handle: Any = None

    def run(self, fn: Callable[[Any, Any], T]) -> T:
        """Call ``fn(gateway, handle)`` with a live model handle."""
        def attempt(gw: Any) -> T:
            with self._lock:
                # A new JVM (another gateway object) has none of our models: load it there.
                if self._gateway is not gw or self._handle is None:
                    self._handle = self._load(gw, gw.jvm)
                    self._gateway = gw
                handle = self._handle
            return fn(gw, handle)
        return GATEWAY.call(attempt)


SLICE_ROWS = 25_000  # rows per crossing: bounds the JVM's heap for the pickled columns


class JvmBackend(Backend):
    """A backend whose model lives in the shared JVM: loaded at construction, scored in slices."""

    def __init__(self, doc: PmmlDocument):
        require_extra("jvm", what=f"{doc.source}: backend={self.name!r}")
        super().__init__(doc)
        self._model = JvmModel(self._load)
        self._model.run(lambda gw, model: None)  # load now: errors belong to load time

    def _load(self, gw: Any, jvm: Any) -> Any:
        raise NotImplementedError

    def _evaluate_slice(self, cols: dict[str, list[Any]], n_rows: int) -> tuple[Results, list[str | None] | None]:
        raise NotImplementedError

    def evaluate(self, columns: Columns, n_rows: int,
                 levels: Levels | None = None) -> tuple[Results, list[str | None] | None]:
        cols = python_columns(columns, self.schema)
        results: dict[str, list[Any]] = {name: [] for name in self.schema.result_names}
        errors: list[str | None] = []
        for start in range(0, n_rows, SLICE_ROWS):
            size = min(SLICE_ROWS, n_rows - start)
            part, part_errors = self._evaluate_slice({k: v[start:start + size] for k, v in cols.items()}, size)
            for name in results:
                results[name].extend(part[name])
            errors.extend(part_errors or [None] * size)
        return dict(results), errors if any(errors) else None
