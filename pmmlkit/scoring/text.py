"""CSV text of Arrow columns, computed per column by Arrow: the lines pandas' ``to_csv`` wrote.

The output's text is unchanged from the pandas writer it replaces (which was ~5x slower):

- a float is Python's ``repr``, the shortest text that reads back as the same double:
  ``0.25``, ``1.0``, ``1e-05``, ``1e+16``, ``inf``; a missing value is an empty cell;
- an integer is its digits; a boolean ``True``/``False``;
- text is quoted only when it holds a comma, a double quote or a newline (quotes doubled),
  as Python's csv module does; a line holding one empty cell is written ``""``.

Arrow formats most floats exactly as ``repr`` does (both print the shortest round-trip
digits); whole numbers get their ``.0`` here, and the few values where the two styles differ
(below 1e-4, from 1e9, -0.0) are formatted by ``repr`` itself.
"""
from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NEEDS_QUOTES = '[,"\n]'
# Below this (and from 1e-4) Arrow writes a double in positional notation, as repr does; above, it
# switches to scientific notation earlier than repr (tests/scoring/test_text.py holds it to this).
_ARROW_FIXED_BELOW = 1e9


def header_line(names: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(names)
    return out.getvalue().encode("utf-8")


def can_encode(kind: pa.DataType) -> bool:
    """Whether ``cell_text`` writes this type as pandas did (others go through pandas)."""
    return (pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind)
            or pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind))


def csv_lines(columns: list[pa.Array]) -> pa.Array:
    """One string per row: its CSV line, newline included."""
    cells = [cell_text(c) for c in columns]
    if len(cells) == 1:  # csv quotes a lone empty cell, so that the line is not blank
        cells = [pc.if_else(pc.equal(cells[0], ""), '""', cells[0])]
    line = pc.binary_join_element_wise(*cells, ",") if len(cells) > 1 else cells[0]
    return pc.binary_join_element_wise(line, "", "\n")


def lines_bytes(lines: pa.Array) -> memoryview:
    """The concatenated lines, without a copy: an Arrow string array's values are contiguous."""
    if len(lines) == 0:
        return memoryview(b"")
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)
    start, stop = int(bounds[lines.offset]), int(bounds[lines.offset + len(lines)])
    return memoryview(data)[start:stop]


def cell_text(values: pa.Array) -> pa.Array:
    """Each value's CSV cell (``""`` for null)."""
    kind = values.type
    if pa.types.is_floating(kind):
        text = float_text(values)
    elif pa.types.is_boolean(kind):
        text = pc.if_else(values, "True", "False")
    elif pa.types.is_integer(kind):
        text = pc.cast(values, pa.string())
    elif pa.types.is_null(kind):
        text = pa.array([""] * len(values), pa.string())
    else:
        text = _quoted(values.cast(pa.string()))
    return pc.fill_null(text, "")


def float_text(values: pa.Array) -> pa.Array:
    """Python's repr of each double (null stays null, NaN too: a missing value)."""
    nums = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    finite = np.isfinite(nums)
    safe = np.where(finite, nums, 0.0)
    size = np.abs(safe)
    whole = finite & (safe == np.floor(safe)) & (size < 1e15) & ~((safe == 0) & np.signbit(safe))
    text = pc.cast(pa.array(nums, mask=np.isnan(nums)), pa.string())
    if whole.any():
        ints = pc.cast(pa.array(np.where(whole, safe, 0.0).astype(np.int64)), pa.string())
        text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(ints, ".0", ""), text)
    odd = finite & ~whole & ((size < 1e-4) | (size >= _ARROW_FIXED_BELOW))
    if odd.any():
        text = pc.replace_with_mask(text, pa.array(odd), pa.array([repr(float(v)) for v in nums[odd]],
                                                                  pa.string()))
    return text


def _quoted(text: pa.Array) -> pa.Array:
    need = pc.fill_null(pc.match_substring_regex(text, _NEEDS_QUOTES), False)
    if not pc.any(need).as_py():
        return text
    chosen = text.filter(need)
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(chosen, '"', '""'), '"', "")
    return pc.replace_with_mask(text, need, quoted)

