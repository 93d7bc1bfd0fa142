"""Launch the server: one uvicorn process, or ``workers`` processes under uvicorn's supervisor.

Every worker process builds its own app from the environment, polls the
repository and loads versions on its own, and (for a JVM backend) starts its
own JVM: only the metrics files are shared between workers. The same factory
works under gunicorn (set PROMETHEUS_MULTIPROC_DIR for summed metrics)::

    PMMLKIT_SERVE_REPO=/models gunicorn -w 2 -k uvicorn.workers.UvicornWorker \\
        'pmmlkit.serving.run:app_from_env()'

SIGTERM is graceful: uvicorn stops accepting connections, lets in-flight
requests finish (up to ``GRACE_SECONDS``), then the lifespan stops the poller.
"""
from __future__ import annotations

import logging
import os
import socket
import tempfile
from typing import Any

from ..errors import ConfigError
from .config import ServerConfig
from .metrics import MULTIPROC_ENV

REPO_ENV, CONFIG_ENV, LOG_ENV = "PMMLKIT_SERVE_REPO", "PMMLKIT_SERVE_CONFIG", "PMMLKIT_SERVE_LOG_LEVEL"
GRACE_SECONDS = 30
log = logging.getLogger("pmmlkit.serving")


def configure_logging(level: str) -> None:
    """pmmlkit's own records (loads, swaps, unloads, failures) at ``level``, next to uvicorn's.

    uvicorn configures only its own loggers; without this, the INFO records of the
    model lifecycle would be dropped by the root logger's default WARNING level.
    """
    logger = logging.getLogger("pmmlkit")
    logger.setLevel(level.upper())
    if not any(getattr(h, "pmmlkit_serving", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-9s %(name)s [%(process)d]: %(message)s"))
        handler.pmmlkit_serving = True  # type: ignore[attr-defined]  # marks our one handler
        logger.addHandler(handler)
        logger.propagate = False  # printed once, whatever the root logger does


def app_from_env():
    """The app described by ``PMMLKIT_SERVE_REPO`` and ``PMMLKIT_SERVE_CONFIG`` (worker processes)."""
    from ..repository.store import Repository
    from .app import create_app

    if os.environ.get(LOG_ENV):  # set by `pmmlkit serve --workers`; gunicorn users keep their own
        configure_logging(os.environ[LOG_ENV])
    text = os.environ.get(CONFIG_ENV)
    config = (ServerConfig.from_json(text) if text else ServerConfig()).with_env_token()
    return create_app(Repository(os.environ.get(REPO_ENV) or None), config=config)


def serve(*, repo: str, config: ServerConfig, host: str = "127.0.0.1", port: int = 8501,
          workers: int = 1, log_level: str = "info", access_log: bool = False, create: bool = False,
          reuse_port: bool = False) -> None:
    """Run until SIGINT/SIGTERM.

    A repository root that does not exist is refused (a typo would serve nothing); ``create`` makes it.
    ``reuse_port`` gives each of several workers a listening socket of its own (``WorkerListener``).
    """
    import uvicorn

    from ..repository.store import open_repository

    if workers < 1:
        raise ConfigError(f"--workers {workers}: expected 1 or more")
    open_repository(repo, must_exist=not create, create=create)
    configure_logging(log_level)
    fast = _check_fast_stack()
    options: dict[str, Any] = dict(host=host, port=port, log_level=log_level, access_log=access_log,
                                   timeout_graceful_shutdown=GRACE_SECONDS, lifespan="on")
    if fast:  # httptools, writing each response in one call (wire.py)
        from .wire import PROTOCOL

        options["http"] = PROTOCOL
    if workers == 1:
        from ..repository.store import Repository
        from .app import create_app

        uvicorn.run(create_app(Repository(repo), config=config), **options)
        return
    # Worker processes are spawned: they rebuild the app from the environment.
    os.environ[REPO_ENV] = repo
    os.environ[CONFIG_ENV] = config.to_json()
    os.environ[LOG_ENV] = log_level
    from uvicorn.supervisors import Multiprocess

    uv_config = uvicorn.Config("pmmlkit.serving.run:app_from_env", factory=True, workers=workers, **options)
    with tempfile.TemporaryDirectory(prefix="pmmlkit-metrics-") as metrics_dir:
        os.environ.setdefault(MULTIPROC_ENV, metrics_dir)  # workers sum their metrics (metrics.py)
        sock = _listen(host, port, uv_config.backlog, reuse_port=reuse_port)
        # uvicorn prints the address only for sockets it binds itself.
        shown = f"[{host}]" if ":" in host else host
        log.info("listening on http://%s:%d with %d workers", shown, sock.getsockname()[1], workers)
        Multiprocess(uv_config, sockets=[sock]).run()


def _check_fast_stack() -> bool:
    """Whether uvloop and httptools are installed (``uvicorn[standard]``); a warning when not."""
    import importlib.util

    missing = [m for m in ("uvloop", "httptools") if importlib.util.find_spec(m) is None]
    if missing:
        log.warning("%s not installed: serving with asyncio's loop and h11, several times slower; "
                    "pip install 'uvicorn[standard]' (part of pmmlkit[serve])", " and ".join(missing))
    return not missing


def _listen(host: str, port: int, backlog: int, *, reuse_port: bool = False) -> socket.socket:
    """The workers' listening socket: shared, or with ``reuse_port`` each worker's own (``WorkerListener``).

    Created with proto=IPPROTO_TCP: uvicorn's own bind_socket leaves proto at 0; asyncio
    then skips TCP_NODELAY on every accepted connection and small responses wait ~40 ms
    for delayed ACKs.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Bound first without SO_REUSEPORT: a port another server listens on is refused, as before,
    # rather than shared with it.
    probe = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as e:
        probe.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    if not reuse_port or not hasattr(socket, "SO_REUSEPORT"):  # one listening socket, shared by the workers
        probe.listen(backlog)
        probe.set_inheritable(True)
        return probe
    sock = WorkerListener(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.backlog = backlog
    try:
        sock.bind(probe.getsockname())  # the port the probe holds (port 0: the one it was given)
    finally:
        probe.close()
    return sock


class WorkerListener(socket.socket):
    """Bound in the supervisor, never listening there; each worker process listens on a socket of its own.

    With one listening socket shared by every worker, the first worker woken accepts every
    connection waiting: wrk's 16 keep-alive connections, opened at once, were split 16/0 between
    two workers in 3 runs of 5 (11/5 and 8/8 in the others), so one worker did all the work
    while the other idled. A worker receives
    this socket by pickling (uvicorn spawns its workers); unpickled, it is a new socket with
    SO_REUSEPORT bound to the same address and listening, and the kernel spreads new
    connections over the workers' sockets by their addresses. The supervisor's own socket
    only holds the port: not listening, it is never handed a connection.

    Opt-in (``--reuse-port``), because of what it costs: connections waiting in the queue of a
    worker that dies are reset by the kernel, where a shared socket hands them to another
    worker; and until a worker listens, connections to it are refused rather than queued.
    """

    backlog = 2048

    def __reduce__(self) -> tuple[Any, ...]:
        return _worker_socket, (self.family, self.getsockname(), self.backlog)


def _worker_socket(family: int, address: Any, backlog: int) -> socket.socket:
    """A worker's own listening socket on ``address`` (the supervisor's, bound with SO_REUSEPORT)."""
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(backlog)
    return sock
