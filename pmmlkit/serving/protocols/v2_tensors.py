"""Open Inference Protocol v2 tensors <-> pmmlkit columns, in JSON and in binary.

One tensor per PMML field, shape ``[n]`` or ``[n, 1]``. Data may also travel as raw
bytes after the JSON header (Triton's ``binary_tensor_data`` extension, which
``tritonclient`` uses by default): numbers little-endian, BOOL one byte, BYTES each
element as a 4-byte little-endian length then its UTF-8 bytes.

Values are checked against the tensor's declared datatype here (an INT32 tensor holds
integers within 32 bits); what they mean for the model (types, categories, missing
values) is the input contract's business, as for every other protocol. ``null`` (and NaN
in a binary floating-point tensor) is a missing value.
"""
from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import quote
from ...pmml.fields import Field
from ..predict import BadRequest

# datatype -> (kind, little-endian NumPy dtype of its binary form)
DATATYPES: dict[str, tuple[str, str]] = {
    "BOOL": ("bool", "?"), "BYTES": ("bytes", ""),
    "INT8": ("int", "<i1"), "INT16": ("int", "<i2"), "INT32": ("int", "<i4"), "INT64": ("int", "<i8"),
    "UINT8": ("int", "<u1"), "UINT16": ("int", "<u2"), "UINT32": ("int", "<u4"), "UINT64": ("int", "<u8"),
    "FP16": ("float", "<f2"), "FP32": ("float", "<f4"), "FP64": ("float", "<f8"),
}
_JSON_TYPES = {"bool": (bool,), "int": (int,), "float": (int, float), "bytes": (str,)}
_EXPECTED = {"bool": "true or false", "int": "an integer", "float": "a number", "bytes": "a string"}
# PMML dataType -> the datatype that describes it; the date/time types with a number form
# (dateDaysSince[...], timeSeconds...) are integers, the others travel as ISO text.
_PMML = {"string": "BYTES", "integer": "INT64", "float": "FP32", "double": "FP64", "boolean": "BOOL",
         "date": "BYTES", "time": "BYTES", "dateTime": "BYTES"}
_LENGTH = struct.Struct("<I")


def datatype_of(field: Field) -> str:
    """The v2 datatype of a PMML field."""
    return _PMML.get(field.data_type, "INT64")


def metadata_tensor(field: Field) -> dict[str, Any]:
    return {"name": field.name, "datatype": datatype_of(field), "shape": [-1]}


@dataclass(frozen=True)
class Body:
    """An infer request body split in two: the JSON header and the binary tensor data after it."""

    header: bytes
    binary: memoryview

    @classmethod
    def split(cls, raw: bytes, header_length: str | None) -> Body:
        """``raw`` cut at ``Inference-Header-Content-Length`` (absent: all JSON)."""
        if header_length is None:
            return cls(raw, memoryview(b""))
        text = header_length.strip()
        if not text.isdigit() or len(text) > 18 or int(text) > len(raw):  # (int() refuses 4,300+ digits)
            raise BadRequest(f"Inference-Header-Content-Length {quote(header_length)} is not a length "
                             f"within the {len(raw)}-byte body")
        n = int(text)
        return cls(raw[:n], memoryview(raw)[n:])


def decode_inputs(inputs: Any, binary: memoryview) -> dict[str, list[Any]]:
    """``inputs`` (the request's list of tensors) as equal-length columns, by tensor name."""
    if not isinstance(inputs, list) or not inputs:
        raise BadRequest('"inputs" must be a non-empty list of tensors {"name", "shape", "datatype", "data"}, '
                         "one per model input field")
    columns: dict[str, list[Any]] = {}
    offset = 0
    for i, tensor in enumerate(inputs):
        name, datatype, rows, size = _header(tensor, i)
        if name in columns:
            raise BadRequest(f"input tensor {quote(name)} appears twice in \"inputs\"")
        if size is None:
            values = _json_values(tensor, name, datatype, rows)
        else:
            if offset + size > len(binary):
                raise BadRequest(f"input {quote(name)}: binary_data_size {size} runs past the end of the "
                                 f"binary data ({len(binary) - offset} bytes left)")
            values = _binary_values(binary[offset:offset + size], name, datatype, rows)
            offset += size
        columns[name] = values
    if offset != len(binary):
        raise BadRequest(f"the body holds {len(binary) - offset} bytes of binary data that no input's "
                         "binary_data_size accounts for")
    lengths = {k: len(v) for k, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise BadRequest(f"input tensors have different numbers of rows: {quote(lengths, limit=300)}; "
                         "one tensor per field, each with one element per record")
    return columns


def _header(tensor: Any, i: int) -> tuple[str, str, int, int | None]:
    """Name, datatype, rows, and binary size (None: JSON data) of input tensor ``i``, checked."""
    if not isinstance(tensor, dict):
        raise BadRequest(f"inputs[{i}] is not an object; expected {{\"name\", \"shape\", \"datatype\", \"data\"}}")
    name, shape, datatype = tensor.get("name"), tensor.get("shape"), tensor.get("datatype")
    if not isinstance(name, str):
        raise BadRequest(f"inputs[{i}] has no \"name\" string")
    unknown = sorted(set(tensor) - {"name", "shape", "datatype", "parameters", "data"})
    if unknown:
        raise BadRequest(f"input {quote(name)}: unknown key(s) {quote(unknown)}; expected name, shape, datatype, "
                         "parameters, data")
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        raise BadRequest(f"input {quote(name)}: datatype {quote(datatype)} is not one of {sorted(DATATYPES)}")
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 2 or (len(shape) == 2 and shape[1] != 1)
            or not all(type(d) is int and d >= 0 for d in shape)):
        raise BadRequest(f"input {quote(name)}: shape {quote(shape)} is not [n] or [n, 1]; send one tensor "
                         "per model field, one element per record")
    params = tensor.get("parameters", {})
    if not isinstance(params, dict):
        raise BadRequest(f"input {quote(name)}: \"parameters\" must be an object")
    unknown = sorted(set(params) - {"binary_data_size", "content_type"})
    if unknown:
        raise BadRequest(f"input {quote(name)}: unsupported parameter(s) {quote(unknown)}; supported: "
                         "binary_data_size, content_type")
    size = params.get("binary_data_size")
    if size is not None and (type(size) is not int or size < 0):
        raise BadRequest(f"input {quote(name)}: binary_data_size {quote(size)} is not a byte count")
    if (size is None) == ("data" not in tensor):
        raise BadRequest(f"input {quote(name)}: give either \"data\" or parameters.binary_data_size, not "
                         + ("both" if size is not None else "neither"))
    return name, datatype, shape[0], size


def _json_values(tensor: dict[str, Any], name: str, datatype: str, rows: int) -> list[Any]:
    data = tensor["data"]
    if not isinstance(data, list):
        raise BadRequest(f"input {quote(name)}: \"data\" must be a list")
    if any(isinstance(v, list) for v in data):  # [[a], [b]] for shape [n, 1]
        if not all(isinstance(v, list) and len(v) == 1 for v in data):
            raise BadRequest(f"input {quote(name)}: nested \"data\" must hold one element per row, "
                             "like [[a], [b]]")
        data = [v[0] for v in data]
    if len(data) != rows:
        raise BadRequest(f"input {quote(name)}: shape says {rows} rows but \"data\" holds {len(data)} elements")
    kind = DATATYPES[datatype][0]
    allowed = {*_JSON_TYPES[kind], type(None)}
    if allowed.issuperset(map(type, data)) and (kind != "int" or all(_fits(v, datatype) for v in data)):
        return data  # the common case, checked at C speed
    for row, v in enumerate(data):
        if type(v) not in allowed or (kind == "int" and not _fits(v, datatype)):
            raise BadRequest(f"row {row}: input {quote(name)} ({datatype}): element {quote(v)} is not "
                             f"{_EXPECTED[kind]}" + (f" within {datatype}" if type(v) is int else "")
                             + " (or null for a missing value)")
    return data


_RANGES = {t: (int(np.iinfo(code).min), int(np.iinfo(code).max)) for t, (k, code) in DATATYPES.items() if k == "int"}


def _fits(v: int | None, datatype: str) -> bool:
    low, high = _RANGES[datatype]
    return v is None or low <= v <= high


def _binary_values(raw: memoryview, name: str, datatype: str, rows: int) -> list[Any]:
    if datatype == "BYTES":
        values = _bytes_elements(raw, name)
    else:
        dtype = np.dtype(DATATYPES[datatype][1])
        if len(raw) % dtype.itemsize:
            raise BadRequest(f"input {quote(name)}: {len(raw)} bytes is not a whole number of {datatype} "
                             f"elements ({dtype.itemsize} bytes each)")
        values = np.frombuffer(raw, dtype=dtype).tolist()  # NaN stays NaN: a missing value
    if len(values) != rows:
        raise BadRequest(f"input {quote(name)}: shape says {rows} rows but its binary data holds "
                         f"{len(values)} elements")
    return values


def _bytes_elements(raw: memoryview, name: str) -> list[str]:
    data = bytes(raw)  # slicing bytes is ~3x faster than slicing a memoryview, element by element
    values: list[str] = []
    at = 0
    while at < len(data):
        if at + 4 > len(data):
            raise BadRequest(f"input {quote(name)}: BYTES element {len(values)} has a truncated length prefix")
        (length,) = _LENGTH.unpack_from(data, at)
        end = at + 4 + length
        if end > len(data):
            raise BadRequest(f"input {quote(name)}: BYTES element {len(values)} says {length} bytes; "
                             f"{len(data) - at - 4} are left")
        try:
            values.append(data[at + 4:end].decode("utf-8"))
        except UnicodeDecodeError:
            raise BadRequest(f"row {len(values)}: input {quote(name)} (BYTES): the element is not UTF-8 "
                             "text") from None
        at = end
    return values


def output_tensor(name: str, datatype: str, values: Sequence[Any], *,
                  binary: bool) -> tuple[dict[str, Any], bytes]:
    """One response output, and its binary data (b"" when it travels as JSON).

    A missing value is ``null`` in JSON and NaN in a binary floating-point tensor; an
    integer, boolean or string tensor that holds one is sent as JSON, since its binary
    form has no way to say "missing".
    """
    kind = DATATYPES[datatype][0]
    if not {*_JSON_TYPES[kind], type(None)}.issuperset(map(type, values)):  # else already of the datatype
        values = [_typed(v, kind) for v in values]
    tensor: dict[str, Any] = {"name": name, "datatype": datatype, "shape": [len(values)]}
    exact = kind == "float" or (None not in values and (kind != "int" or all(type(v) is int for v in values)))
    if binary and exact:
        raw = (b"".join(_LENGTH.pack(len(b)) + b for b in (v.encode() for v in values)) if kind == "bytes"
               else np.array([math.nan if v is None else v for v in values],
                             dtype=DATATYPES[datatype][1]).tobytes())
        tensor["parameters"] = {"binary_data_size": len(raw)}
        return tensor, raw
    tensor["data"] = values
    return tensor, b""


def _typed(v: Any, kind: str) -> Any:
    """A result value as its tensor's kind has it (an integral 1.0 in an INT64 tensor is 1)."""
    if v is None:
        return None
    if kind == "int" and isinstance(v, float):
        return int(v) if v.is_integer() else v
    if kind == "bytes" and not isinstance(v, str):
        return str(v)
    return v
