"""Two published versions side by side: their manifests, and how their predictions differ on data."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from ..evaluator import Evaluator
    from .version import Version

# Numbers closer than this are the same prediction (two exports of one model differ in the last bits).
RTOL, ATOL = 1e-9, 1e-12
MAX_ROWS = 100_000  # compare reads DATA into memory: at most this many rows unless told otherwise


@dataclass(frozen=True)
class OutputDiff:
    """How one output differs between A and B over the rows both scored."""

    name: str
    changed: float                 # share of rows whose value differs (0..1)
    mean_abs_delta: float | None   # numbers only: mean |B - A|


@dataclass(frozen=True)
class PredictionDiff:
    rows: int                      # rows read
    compared: int                  # rows both versions scored
    rejected: tuple[int, int]      # rows A, B rejected
    outputs: tuple[OutputDiff, ...]
    only_in: tuple[tuple[str, ...], tuple[str, ...]]  # outputs one version has and the other not


def manifest_rows(a: Version, b: Version) -> list[tuple[str, str, str]]:
    """(what, A, B) rows: when, description, tags, data, rows, then every metric of either."""
    ma, mb = a.manifest, b.manifest
    rows = [("created", ma.created, mb.created),
            ("description", ma.description or "-", mb.description or "-"),
            ("tags", _tags(ma.tags), _tags(mb.tags)),
            ("git commit", (ma.git_commit or "-")[:12], (mb.git_commit or "-")[:12]),
            ("data", ma.data_source or "-", mb.data_source or "-"),
            ("rows", _text(ma.row_count), _text(mb.row_count))]
    for metric in sorted({*ma.metrics, *mb.metrics}):
        va, vb = ma.metrics.get(metric), mb.metrics.get(metric)
        delta = f" ({vb - va:+.4g})" if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else ""
        rows.append((metric, _text(va), _text(vb) + delta))
    return rows


def read_data(path: str, *, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """The first ``max_rows`` rows of a CSV (any compression pandas reads) or Parquet file."""
    import pandas as pd

    from ..formats import data_format

    fmt = data_format(path, what="DATA")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).read().slice(0, max_rows).to_pandas()
        return pd.read_csv(path, nrows=max_rows, keep_default_na=True)
    except (OSError, ValueError) as e:  # pandas and pyarrow errors are ValueErrors or OSErrors
        raise ConfigError(f"DATA {path}: cannot read it as {fmt} ({e})") from None


def compare_predictions(a: Evaluator, b: Evaluator, data: pd.DataFrame) -> PredictionDiff:
    """Score ``data`` with both; per common output, the share of changed values and mean |delta|."""
    pa = a.predict_batch(data, errors="column")
    pb = b.predict_batch(data, errors="column")
    ok = _scored(pa, a.error_column) & _scored(pb, b.error_column)
    outputs_a = [c for c in pa.columns if c != a.error_column]
    outputs_b = [c for c in pb.columns if c != b.error_column]
    common = [c for c in outputs_a if c in outputs_b]
    diffs = tuple(_diff(name, pa[name].to_numpy()[ok], pb[name].to_numpy()[ok]) for name in common)
    return PredictionDiff(
        rows=len(data), compared=int(ok.sum()),
        rejected=(int((~_scored(pa, a.error_column)).sum()), int((~_scored(pb, b.error_column)).sum())),
        outputs=diffs,
        only_in=(tuple(c for c in outputs_a if c not in common), tuple(c for c in outputs_b if c not in common)))


def _scored(frame: pd.DataFrame, error_column: str) -> np.ndarray:
    if error_column not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    errors = frame[error_column]
    scored: np.ndarray = (errors.isna() | (errors.astype(str) == "")).to_numpy(dtype=bool)
    return scored


def _diff(name: str, a: np.ndarray, b: np.ndarray) -> OutputDiff:
    if not len(a):
        return OutputDiff(name, 0.0, None)
    if _numeric(a) and _numeric(b):
        fa, fb = a.astype(float), b.astype(float)
        both_missing = np.isnan(fa) & np.isnan(fb)
        same = both_missing | np.isclose(fa, fb, rtol=RTOL, atol=ATOL)
        delta = np.abs(fb - fa)
        finite = ~np.isnan(delta)
        return OutputDiff(name, float((~same).mean()), float(delta[finite].mean()) if finite.any() else None)
    same = np.array([_same_label(x, y) for x, y in zip(a, b)])
    return OutputDiff(name, float((~same).mean()), None)


def _numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "biuf"


def _same_label(x: Any, y: Any) -> bool:
    missing_x, missing_y = _missing(x), _missing(y)
    return (missing_x and missing_y) or (not missing_x and not missing_y and x == y)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _tags(tags: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(tags.items())) or "-"


def _text(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.6g}" if isinstance(value, float) else str(value)

