"""The output of batch scoring as Arrow: kept input columns, then the results, one schema per run.

Kept columns pass through as Arrow read them (no pandas round trip). Results take the
Arrow type of their field (double, int64, bool, string) and are null where the model gave
no value. Parquet files carry the same pandas metadata as before, so ``pd.read_parquet``
gives the same dtypes (``Int64`` integers, ``boolean``). CSV text is encoded by ``text``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .text import can_encode, csv_lines, lines_bytes

_ARROW = {"double": pa.float64(), "float": pa.float64(), "integer": pa.int64(), "boolean": pa.bool_()}
_PANDAS = {"double": "float64", "float": "float64", "integer": "Int64", "boolean": "boolean"}


@dataclass(frozen=True)
class CsvText:
    """Encoded CSV lines of a chunk (no header): what Sink.write_payload appends."""

    names: list[str]
    data: Any  # bytes-like
    rows: int


class OutputLayout:
    """Which columns the output holds, typed once for the whole run."""

    def __init__(self, keep: tuple[str, ...], inputs: pa.Schema, results: dict[str, str]):
        kept = [inputs.field(name) for name in keep]
        self.keep, self.results = keep, results
        fields = [*kept, *(pa.field(name, _ARROW.get(t, pa.string())) for name, t in results.items())]
        frame = pd.DataFrame({**{f.name: pd.Series(dtype=_pandas_dtype(f.type)) for f in kept},
                              **{name: pd.Series(dtype=_PANDAS.get(t, object)) for name, t in results.items()}})
        metadata = pa.Schema.from_pandas(frame, preserve_index=False).metadata
        self.schema = pa.schema(fields, metadata=metadata)

    def table(self, inputs: pa.Table, results: dict[str, Any], good: np.ndarray) -> pa.Table:
        """The good rows: kept columns of ``inputs``, then the ``results`` (arrays over every row)."""
        everything = bool(good.all())
        mask = None if everything else pa.array(good)
        kept = [inputs.column(k) if everything else inputs.column(k).filter(mask) for k in self.keep]
        types = self.schema.types[len(self.keep):]
        columns = [_arrow(results[name] if everything else results[name][good], kind)
                   for name, kind in zip(self.results, types)]
        return pa.Table.from_arrays([*kept, *columns], schema=self.schema)

    def encode(self, table: pa.Table, fmt: str) -> Any:
        """What Sink.write_payload writes: the table (Parquet), CSV text, or a frame for pandas."""
        if fmt == "parquet":
            return table
        if all(can_encode(kind) for kind in table.schema.types):
            columns = [c.combine_chunks() for c in table.columns]
            return CsvText(table.column_names, lines_bytes(csv_lines(columns)), table.num_rows)
        # A kept type the text encoder does not know (dates, decimals...): pandas writes the chunk.
        return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get)


def _arrow(values: Any, kind: pa.DataType) -> pa.Array:
    if pa.types.is_string(kind):
        return pa.array(np.asarray(values, dtype=object), type=kind, from_pandas=True)
    return pa.array(values, type=kind, from_pandas=True)  # NaN is a missing value


def _pandas_dtype(kind: pa.DataType) -> Any:
    try:
        return kind.to_pandas_dtype()
    except NotImplementedError:
        return object
