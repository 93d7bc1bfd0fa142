"""Versioned models on shared storage: publish atomically, resolve name[:version|@label]."""
from .manifest import Manifest
from .store import Repository, Version

__all__ = ["Manifest", "Repository", "Version"]
