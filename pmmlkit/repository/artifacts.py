"""Files published with a version beside its model (report.html, profile.json, plots/*.svg).

They are written with the version, before it becomes visible, and the manifest records each
one's size and sha256, so a reader gets exactly what was published or an IntegrityError.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import IntegrityError, RepositoryError
from .manifest import sha256_hex

# Plain names, at most one folder deep: no "..", no absolute paths, nothing hidden.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}(/[A-Za-z0-9_][A-Za-z0-9_.-]{0,99})?$")


def checked(files: Mapping[str, bytes] | None, *, reserved: tuple[str, ...]) -> dict[str, bytes]:
    """``files`` as a dict after checking every name and value; RepositoryError names the first bad one."""
    out: dict[str, bytes] = {}
    for name, data in (files or {}).items():
        if not isinstance(name, str) or not _NAME.match(name) or ".." in name or name in reserved:
            raise RepositoryError(f"cannot publish a file named {name!r} with a version: expected a plain "
                                  f"name such as report.html or plots/roc.svg, not one of {list(reserved)}")
        if not isinstance(data, (bytes, bytearray)):
            raise RepositoryError(f"the file {name!r} must be bytes, got {type(data).__name__}")
        out[name] = bytes(data)
    return out


def digests(files: Mapping[str, bytes]) -> dict[str, dict[str, Any]]:
    """What the manifest records of each file."""
    return {name: {"size": len(data), "sha256": sha256_hex(data)} for name, data in sorted(files.items())}


def verify(ref: str, uri: str, data: bytes, expected: Mapping[str, Any]) -> bytes:
    """``data`` read from ``uri`` when it has the manifest's ``size`` and ``sha256``, else IntegrityError."""
    digest = sha256_hex(data)
    if len(data) != expected.get("size") or digest != expected.get("sha256"):
        raise IntegrityError(f"{ref}: {uri} has size {len(data)} and sha256 {digest}; the manifest expects "
                             f"size {expected.get('size')} and sha256 {expected.get('sha256')}. The file "
                             "changed after publishing: publish the model again.")
    return data
