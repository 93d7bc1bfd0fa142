"""Versioned models on shared storage: publish atomically, resolve name[:version|@label]."""
from .manifest import Manifest
from .store import Repository
from .version import Version, VersionProblem, VersionScan

__all__ = ["Manifest", "Repository", "Version", "VersionProblem", "VersionScan"]
