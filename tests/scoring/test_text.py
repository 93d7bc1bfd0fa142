"""The CSV text of `pmmlkit score`'s Arrow writer is byte for byte what pandas' to_csv wrote (issue 19)."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pmmlkit.scoring.text import _ARROW_FIXED_BELOW, csv_lines, float_text, header_line, lines_bytes

ODD_FLOATS = [0.0, -0.0, 1.0, -1.0, 100.0, 0.1, 2 / 3, 1e-4, 9.9999e-5, 1e-5, 1.5e-7, 5e-324, 123456789.5,
              1e9 + 0.5, 999999999999999.0, 1e15, 1e16, 2.0 ** 53, 1e21, 1.7976931348623157e308, np.inf, -np.inf,
              np.nan, 0.5689849573075888, 12345.678]


def _pandas_csv(frame: pd.DataFrame) -> bytes:
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue().encode()


def _arrow_csv(frame: pd.DataFrame) -> bytes:
    columns = [pa.array(frame[c].array if frame[c].dtype != object else frame[c].to_numpy(), from_pandas=True,
                        type=pa.string() if frame[c].dtype == object else None) for c in frame.columns]
    return header_line(list(frame.columns)) + bytes(lines_bytes(csv_lines(columns)))


def test_every_kind_of_result_column_is_written_as_pandas_wrote_it():
    rng = np.random.default_rng(3)
    n = 20_000
    floats = np.concatenate([rng.random(n) * 10.0 ** rng.integers(-12, 22, n), ODD_FLOATS])
    floats = np.concatenate([floats, -floats])
    m = len(floats)
    frame = pd.DataFrame({
        "p": floats,
        "whole": np.round(rng.normal(size=m) * 1e4),
        "n": pd.array(np.where(rng.random(m) < 0.1, None, rng.integers(-10 ** 12, 10 ** 12, m)), dtype="Int64"),
        "b": pd.array(np.where(rng.random(m) < 0.1, None, rng.random(m) < 0.5), dtype="boolean"),
        "s": np.array([None, "a", "b,c", 'd"e', "f\ng", "", "h\ri", " j", "1.0"], dtype=object)[
            rng.integers(0, 9, m)],
    })
    assert _arrow_csv(frame) == _pandas_csv(frame)


def test_a_lone_column_writes_an_empty_cell_as_two_quotes():
    for values in ([None, "", " a"], [1.0, None]):
        frame = pd.DataFrame({"only": pd.Series(values, dtype=object if isinstance(values[0], str) or
                                                 values[0] is None else "float64")})
        assert _arrow_csv(frame) == _pandas_csv(frame)


def test_floats_are_python_repr_and_read_back_exactly():
    values = np.array(ODD_FLOATS)
    text = float_text(pa.array(values)).to_pylist()
    assert text == [None if np.isnan(v) else repr(float(v)) for v in values]
    assert text[:4] == ["0.0", "-0.0", "1.0", "-1.0"] and "1e-05" in text and "1e+16" in text
    back = np.array([float(t) for t in text if t is not None])
    assert np.array_equal(back, values[~np.isnan(values)])


def test_arrow_writes_positional_floats_where_the_writer_trusts_it():
    """The writer takes Arrow's text as repr's in [1e-4, _ARROW_FIXED_BELOW): hold Arrow to it."""
    rng = np.random.default_rng(11)
    parts = []
    for exponent in range(-4, int(np.log10(_ARROW_FIXED_BELOW))):
        x = (1 + rng.random(20_000) * 9) * 10.0 ** exponent
        parts += [x, np.round(x, 1), np.round(x, 3), np.round(x, 7)]
    x = np.concatenate(parts)
    x = x[(x != np.floor(x)) & (x >= 1e-4) & (x < _ARROW_FIXED_BELOW)]
    arrow = pc.cast(pa.array(x), pa.string()).to_numpy(zero_copy_only=False)
    assert (arrow == x.astype(str)).all()
