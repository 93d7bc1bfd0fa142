"""What the repository hands out: versions, the problems of unreadable ones, safe names."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import InvalidModelName
from .manifest import Manifest

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_NUMBER = re.compile(r"^[1-9][0-9]{0,17}$")


def check_name(name: str, *, kind: str = "model name") -> str:
    """Return ``name`` if it is a safe, portable path segment; else InvalidModelName."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise InvalidModelName(
            f"invalid {kind} {name!r}: expected 1-128 characters from A-Z a-z 0-9 . _ -, "
            "starting with a letter or digit, without '..'")
    return name


@dataclass(frozen=True)
class Version:
    """One published version: ``uri`` is where its model.pmml lives."""

    name: str
    number: int
    uri: str
    manifest: Manifest = field(repr=False)

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.number}"


@dataclass(frozen=True)
class VersionProblem:
    """A published version that cannot be used: ``error`` says which file and why."""

    name: str
    number: int
    error: str

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.number}"


class VersionScan(NamedTuple):
    """``scan_versions``: the readable versions and the problems, both ascending by number."""

    versions: list[Version]
    problems: list[VersionProblem]
