"""The model server: TF Serving, KServe v2 and MLflow protocols over the repository, with hot reload."""
from __future__ import annotations

from typing import Any

from .config import Policy, ServerConfig

__all__ = ["Policy", "ServerConfig", "create_app"]


def __getattr__(name: str) -> Any:
    # The app needs the serve extra (starlette...): import it only when asked for, so that the
    # CLI can read the server's defaults (config.py) without it.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
