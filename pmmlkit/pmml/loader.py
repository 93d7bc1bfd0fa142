"""Hardened loading of PMML documents: size cap, UTF-8 only, no DOCTYPE, is-it-PMML.

Every backend gets its document from here, so no backend ever parses a file
that carries a DOCTYPE (XXE, entity expansion) or is not PMML at all. Only UTF-8
(or ASCII) documents are accepted: the JVM backends detect encodings on their own,
so one accepted encoding means every backend reads the very bytes that were checked.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.etree.ElementTree import Element
from xml.parsers import expat

from ..errors import InvalidPmmlError, PmmlTooLargeError, UnsafePmmlError
from .fields import ModelSchema, describe, local
from .gcpause import paused_gc

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_UTF8 = {"utf-8", "utf8", "us-ascii", "ascii"}
_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 LE/BE; UTF-32 LE starts with the first


@dataclass(frozen=True)
class PmmlDocument:
    """A checked PMML document: the raw bytes for JVM backends, the tree for the native one.

    ``raw`` holds exactly the bytes that were checked and parsed (less a UTF-8 byte order mark).
    """

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


def read_file(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> bytes:
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
    with paused_gc():  # ~100,000s of elements, no cycles: collections would only cost (gcpause.py)
        return _parse(raw, source=source, max_bytes=max_bytes)


def _parse(raw: bytes, *, source: str, max_bytes: int | None) -> PmmlDocument:
    cap = max_bytes_from_env() if max_bytes is None else max_bytes
    if len(raw) > cap:
        raise PmmlTooLargeError(f"{source}: {len(raw)} bytes is over the {cap}-byte cap")
    _check_encoding(raw, source)
    # PMML4S refuses a UTF-8 byte order mark ("Not a valid PMML"): the backends get the
    # same document without it.
    raw = raw.removeprefix(_UTF8_BOM)
    m = _FORBIDDEN.search(raw)  # the fast first pass; _check_prolog is the one that holds
    if m:
        line = raw.count(b"\n", 0, m.start()) + 1
        raise UnsafePmmlError(_refusal(source, line, m.group(1).decode()))
    _check_prolog(raw, source)
    try:
        root = _tree(raw)
    except ElementTree.ParseError as e:
        raise InvalidPmmlError(f"{source}: not well-formed XML ({e}); is the file truncated?") from None
    if local(root.tag) != "PMML":
        raise InvalidPmmlError(f"{source}: the root element is <{local(root.tag)}>, not <PMML>; "
                               "this is XML but not a PMML document")
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if ns and not ns.startswith("http://www.dmg.org/PMML-"):
        raise InvalidPmmlError(f"{source}: unknown PMML namespace {ns!r}")
    return PmmlDocument(raw=raw, root=root, schema=describe(root), source=source)


def _check_encoding(raw: bytes, source: str) -> None:
    if raw[:2] in _WIDE_BOMS or raw[:4] == b"\x00\x00\xfe\xff":
        raise UnsafePmmlError(f"{source}: only UTF-8 PMML is accepted (found a UTF-16/32 byte order mark); "
                              "convert the file to UTF-8")
    # Without a byte order mark expat still reads "<\0?\0" as UTF-16, where a byte scan for
    # "<!DOCTYPE" sees nothing. A NUL byte never starts a UTF-8 XML document.
    if b"\x00" in raw[:4]:
        raise UnsafePmmlError(f"{source}: only UTF-8 PMML is accepted (the first bytes {raw[:4]!r} are "
                              "UTF-16 or UTF-32 without a byte order mark); convert the file to UTF-8")


class _PrologOver(Exception):
    """The root element starts: nothing that declares entities can follow."""


def _check_prolog(raw: bytes, source: str) -> None:
    """Let expat itself read the prolog, in whatever encoding it detects, and refuse what it declares.

    This is the same expat that builds the tree, so what it sees here is what it would
    expand there. It stops at the root element, so it costs microseconds.
    """
    parser = expat.ParserCreate()

    def declared(version: str, encoding: str | None, standalone: int) -> None:
        if encoding is not None and encoding.lower() not in _UTF8:
            raise UnsafePmmlError(f"{source}: only UTF-8 PMML is accepted (declared encoding={encoding!r}); "
                                  "convert the file to UTF-8 and declare encoding=\"UTF-8\"")

    def refuse(what: str) -> Any:
        def handler(*args: Any) -> None:
            raise UnsafePmmlError(_refusal(source, parser.CurrentLineNumber, what))
        return handler

    def root(*args: Any) -> None:
        raise _PrologOver

    parser.XmlDeclHandler = declared
    parser.StartDoctypeDeclHandler = refuse("DOCTYPE")
    parser.EntityDeclHandler = refuse("ENTITY")
    parser.StartElementHandler = root
    try:
        parser.Parse(raw, True)
    except _PrologOver:
        pass
    except expat.ExpatError:
        pass  # not well-formed: the tree parse below says so, at the same place


_FEED = 1 << 16  # bytes per parser call: between calls, other threads get the GIL


def _tree(raw: bytes) -> Element:
    """``ElementTree.fromstring``, fed in slices: one call on 27 MB holds the GIL for seconds,
    stalling every other thread (a server loading a big model while it answers requests)."""
    parser = ElementTree.XMLParser()
    for start in range(0, len(raw), _FEED):
        parser.feed(raw[start:start + _FEED])
    return parser.close()


def _refusal(source: str, line: int, what: str) -> str:
    return (f"{source}: line {line}: a <!{what}> declaration is refused; "
            "PMML needs none, and it can carry external entities or entity expansion")


def load(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> PmmlDocument:
    return parse(read_file(path, max_bytes=max_bytes), source=str(path), max_bytes=max_bytes)
