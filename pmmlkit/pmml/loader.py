"""Hardened loading of PMML documents: size cap, no DOCTYPE, is-it-PMML.

Every backend gets its document from here, so no backend ever parses a file
that carries a DOCTYPE (XXE, entity expansion) or is not PMML at all.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

from ..errors import InvalidPmmlError, PmmlTooLargeError, UnsafePmmlError
from .fields import ModelSchema, describe, local

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8 = {"utf-8", "utf8", "us-ascii", "ascii"}


@dataclass(frozen=True)
class PmmlDocument:
    """A checked PMML document: the raw bytes for JVM backends, the tree for the native one."""

    raw: bytes
    root: Element
    schema: ModelSchema
    source: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def version(self) -> str:
        return self.root.get("version", "")


def max_bytes_from_env() -> int:
    return int(os.environ.get("PMMLKIT_MAX_PMML_BYTES", DEFAULT_MAX_BYTES))


def read_file(path: str | os.PathLike, *, max_bytes: int | None = None) -> bytes:
    """Read a local PMML file, refusing it before reading when it is over the cap."""
    cap = max_bytes_from_env() if max_bytes is None else max_bytes
    p = Path(path)
    if not p.is_file():
        raise InvalidPmmlError(f"{path}: no such PMML file")
    size = p.stat().st_size
    if size > cap:
        raise PmmlTooLargeError(f"{path}: {size} bytes is over the {cap}-byte cap "
                                "(raise it with max_bytes or PMMLKIT_MAX_PMML_BYTES)")
    return p.read_bytes()


def parse(raw: bytes, *, source: str = "<bytes>", max_bytes: int | None = None) -> PmmlDocument:
    """Check and parse PMML bytes. Raises a PmmlError subclass naming the problem."""
    cap = max_bytes_from_env() if max_bytes is None else max_bytes
    if len(raw) > cap:
        raise PmmlTooLargeError(f"{source}: {len(raw)} bytes is over the {cap}-byte cap")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or raw[:4] in (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00"):
        raise UnsafePmmlError(f"{source}: only UTF-8 PMML is accepted (found a UTF-16/32 byte order mark)")
    enc = _ENCODING.match(raw)
    if enc and enc.group(1).decode().lower() not in _UTF8:
        raise UnsafePmmlError(f"{source}: only UTF-8 PMML is accepted (declared {enc.group(1).decode()!r})")
    m = _FORBIDDEN.search(raw)
    if m:
        line = raw.count(b"\n", 0, m.start()) + 1
        raise UnsafePmmlError(f"{source}: line {line}: a <!{m.group(1).decode()}> declaration is refused; "
                              "PMML needs none, and it can carry external entities or entity expansion")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as e:
        raise InvalidPmmlError(f"{source}: not well-formed XML ({e}); is the file truncated?") from None
    if local(root.tag) != "PMML":
        raise InvalidPmmlError(f"{source}: the root element is <{local(root.tag)}>, not <PMML>; "
                               "this is XML but not a PMML document")
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if ns and not ns.startswith("http://www.dmg.org/PMML-"):
        raise InvalidPmmlError(f"{source}: unknown PMML namespace {ns!r}")
    return PmmlDocument(raw=raw, root=root, schema=describe(root), source=source)


def load(path: str | os.PathLike, *, max_bytes: int | None = None) -> PmmlDocument:
    return parse(read_file(path, max_bytes=max_bytes), source=str(path), max_bytes=max_bytes)
