"""A CSV input's bytes (decompressed as its suffix says) and its header line (delimiter sniffed).

Compression follows pmmlkit.formats.compression: ``.gz``, ``.bz2``, ``.zst``, ``.lz4`` are
read by Arrow's codecs, ``.xz`` by Python's lzma. Without ``--delimiter`` the header line
decides: a comma if it holds one, else the one of ``;``, tab and ``|`` it holds most of.
"""
from __future__ import annotations

import csv
import io
import lzma
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..errors import ConfigError, InputFileError
from ..formats import compression

MAX_HEADER_BYTES = 1 << 20
SNIFFED = (";", "\t", "|")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# What a corrupt or truncated compressed file raises while it is read.
DECOMPRESSION_ERRORS = (pa.ArrowInvalid, pa.ArrowIOError, OSError, EOFError, lzma.LZMAError)


@dataclass(frozen=True)
class Header:
    names: list[str]
    delimiter: str
    detected: bool  # sniffed, not given

    def describe(self) -> str:
        how = "detected; --delimiter to choose another" if self.detected else "given"
        return f"delimiter {delimiter_name(self.delimiter)} ({how})"


def delimiter_name(delimiter: str) -> str:
    return f"{_NAMES[delimiter]} {delimiter!r}" if delimiter in _NAMES else repr(delimiter)


def open_bytes(path: str) -> Any:
    """A binary file object of the file's content, decompressed."""
    codec = compression(path)
    try:
        if codec is None:
            return open(path, "rb")
        if codec == "xz":
            return lzma.open(path, "rb")
        return io.BufferedReader(pa.input_stream(path, compression=codec), buffer_size=1 << 20)
    except (pa.ArrowNotImplementedError, ValueError) as e:
        raise InputFileError(f"{path}: cannot read {codec}-compressed files here ({e}); decompress it first "
                             "or use .gz, .bz2 or .zst") from None


def read_header(path: str, delimiter: str | None) -> Header:
    """The column names; an empty or unreadable first line is an InputFileError."""
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise ConfigError(f"--delimiter {delimiter!r}: expected one character other than a quote or a newline "
                          "(for a tab, pass $'\\t' or \\t)")
    try:
        with open_bytes(path) as f:
            line = f.readline(MAX_HEADER_BYTES)
    except DECOMPRESSION_ERRORS as e:
        raise InputFileError(f"{path}: cannot read it as {compression(path)}-compressed data ({e})") from None
    if not line.strip(b"\r\n\xef\xbb\xbf \t"):
        raise InputFileError(f"{path} is empty: a CSV input needs a header line naming its columns")
    try:
        text = line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as e:
        raise InputFileError(f"{path}: the header line is not UTF-8 (byte 0x{line[e.start]:02x} at offset "
                             f"{e.start}); save the file as UTF-8") from None
    chosen = delimiter or sniff(text)
    return Header(next(csv.reader([text], delimiter=chosen), []), chosen, delimiter is None)


def sniff(header: str) -> str:
    """The delimiter of a header line: a comma when there is one, else the most frequent candidate."""
    if "," in header:
        return ","
    counts = {d: header.count(d) for d in SNIFFED}
    best = max(SNIFFED, key=lambda d: counts[d])
    return best if counts[best] else ","
