"""Launch the server: one uvicorn process, or ``workers`` processes under uvicorn's supervisor.

Every worker process builds its own app from the environment, polls the
repository and loads versions on its own, and (for a JVM backend) starts its
own JVM: nothing is shared between workers. The same factory works under
gunicorn::

    PMMLKIT_SERVE_REPO=/models gunicorn -w 2 -k uvicorn.workers.UvicornWorker \\
        'pmmlkit.serving.run:app_from_env()'

SIGTERM is graceful: uvicorn stops accepting connections, lets in-flight
requests finish (up to ``GRACE_SECONDS``), then the lifespan stops the poller.
"""
from __future__ import annotations

import os

from ..errors import ConfigError
from .config import ServerConfig

REPO_ENV, CONFIG_ENV = "PMMLKIT_SERVE_REPO", "PMMLKIT_SERVE_CONFIG"
GRACE_SECONDS = 30


def app_from_env():
    """The app described by ``PMMLKIT_SERVE_REPO`` and ``PMMLKIT_SERVE_CONFIG`` (worker processes)."""
    from ..repository.store import Repository
    from .app import create_app

    text = os.environ.get(CONFIG_ENV)
    config = (ServerConfig.from_json(text) if text else ServerConfig()).with_env_token()
    return create_app(Repository(os.environ.get(REPO_ENV) or None), config=config)


def serve(*, repo: str, config: ServerConfig, host: str = "127.0.0.1", port: int = 8501,
          workers: int = 1, log_level: str = "info", access_log: bool = False) -> None:
    """Run until SIGINT/SIGTERM."""
    import uvicorn

    if workers < 1:
        raise ConfigError(f"--workers {workers}: expected 1 or more")
    options = dict(host=host, port=port, log_level=log_level, access_log=access_log,
                   timeout_graceful_shutdown=GRACE_SECONDS, lifespan="on")
    if workers == 1:
        from ..repository.store import Repository
        from .app import create_app

        uvicorn.run(create_app(Repository(repo), config=config), **options)
        return
    # Worker processes are spawned: they rebuild the app from the environment.
    os.environ[REPO_ENV] = repo
    os.environ[CONFIG_ENV] = config.to_json()
    uvicorn.run("pmmlkit.serving.run:app_from_env", factory=True, workers=workers, **options)
