"""The model server: a TF-Serving-compatible REST API over the repository, with hot reload."""
from .app import create_app
from .config import Policy, ServerConfig

__all__ = ["Policy", "ServerConfig", "create_app"]
