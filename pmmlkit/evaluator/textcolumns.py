"""Arrow text columns for the input contract: one parse and one factorisation per column, in C.

A CSV is read as text; these turn a column of it into numbers (NaN where the text is not a
plain number) or into (codes, distinct values), without a Python object per row.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Text Arrow parses exactly as Python's float() does (both round correctly). When Arrow refuses a
# column, only such text is parsed by Arrow: the rest takes the per-value rules (Python's float),
# so neither parser's extensions ("nan(1)", "1_0", " 1") decide anything. A NaN always does too.
_DECIMAL = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))  # pyarrow is untyped (Any)


def as_text(values: Any) -> pa.ChunkedArray | None:
    """An object column of strings (and None/NaN) as Arrow text; None when it holds anything else."""
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):  # mixed types, huge ints, lists...
        return None
    return pa.chunked_array([array]) if pa.types.is_string(array.type) else None


Factorized = tuple[np.ndarray, list[Any]]  # (codes, distinct values): code -1 for a missing value


def factorize_objects(values: np.ndarray) -> Factorized | None:
    """``factorize_text(as_text(values))`` of an object column in one compiled pass.

    None when the compiled kernels are absent or an item is not a str or a missing value
    (None, float NaN): the caller then takes the Arrow path, which gives the same answer.
    """
    from .native import compiled

    ckernels = compiled.kernels()
    if ckernels is None:
        return None
    codes = np.empty(len(values), dtype=np.int64)
    if not _in_place(values):
        uniques = ckernels.factorize_text(values.tolist(), codes)  # a list of the items, in order
    else:  # the array's own item pointers, read in place with the GIL held (no copy of 100,000s of refs)
        uniques = ckernels.factorize_text(values, codes, values.__array_interface__["data"][0])
    return None if uniques is None else (codes, uniques)


def factorize_object_columns(columns: list[np.ndarray], threads: int) -> list[Factorized | None]:
    """``factorize_objects`` of each column, the columns shared among up to ``threads`` native threads.

    The calling thread keeps the GIL until all are done (ckernels.factorize_columns), so the
    arrays' items are read in place and nothing can replace them meanwhile.
    """
    from .native import compiled

    ckernels = compiled.kernels()
    if ckernels is None or not all(_in_place(c) for c in columns):
        return [factorize_objects(c) for c in columns]
    codes = [np.empty(len(c), dtype=np.int64) for c in columns]
    found = ckernels.factorize_columns(list(columns), codes, threads)
    return [None if uniques is None else (c, uniques) for c, uniques in zip(codes, found)]


def _in_place(values: np.ndarray) -> bool:
    """Whether the compiled pass can read ``values``' item pointers where they lie."""
    return values.dtype == object and values.ndim == 1 and bool(values.flags.c_contiguous)


def plain_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text as values (dictionaries decoded); chunks stay as they are (joining them copies)."""
    return col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col


def factorize_text(text: pa.ChunkedArray) -> tuple[np.ndarray, list[Any]]:
    """(codes, uniques) as pd.factorize gives them: code -1 for null."""
    encoded = pc.dictionary_encode(text).unify_dictionaries()
    if encoded.num_chunks == 0:
        return np.zeros(0, dtype=np.int64), []
    indices = pa.chunked_array([c.indices for c in encoded.chunks], type=encoded.type.index_type)
    codes = pc.fill_null(indices, -1).to_numpy().astype(np.int64)
    return codes, encoded.chunk(0).dictionary.to_pylist()


def parse_decimals(text: pa.ChunkedArray) -> np.ndarray:
    """Numbers parsed (float64), NaN for any other value (missing, typos, nan...)."""
    try:  # the common case, a column of numbers and empty cells, in one cast
        numbers = pc.cast(pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text), pa.float64())
    except pa.ArrowInvalid:
        plain = pc.fill_null(pc.match_substring_regex(text, _DECIMAL), False)
        numbers = pc.cast(pc.if_else(plain, text, pa.scalar(None, text.type)), pa.float64())
    return np.asarray(numbers.to_numpy(), dtype=np.float64)
