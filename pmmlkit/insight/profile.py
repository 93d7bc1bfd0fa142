"""A data profile: each input column as bins or category counts, stored as JSON with a version.

Numeric columns are cut at their training deciles (the edges are kept, so later batches fall
into the same bins); categorical columns keep their most frequent categories and lump the rest.
Missing values are a bin of their own in both: a column that starts arriving empty has drifted.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..evaluator.contract import canonical_text, is_missing

FORMAT = 1
BINS = 10          # deciles
TOP_CATEGORIES = 50
VOCABULARY_CAP = 10_000   # categories kept to tell unseen ones apart; past this, unseen is unknown
OTHER = "__other__"


@dataclass(frozen=True)
class ColumnProfile:
    """One column: ``counts`` per bin (numeric: ``len(edges) + 1`` bins) and the missing count."""

    name: str
    kind: str                                  # "numeric" | "categorical"
    rows: int
    missing: int
    counts: tuple[int, ...]
    edges: tuple[float, ...] = ()              # numeric: bin i holds (edges[i-1], edges[i]]
    categories: tuple[str, ...] = ()           # categorical: bin i counts categories[i]; last bin is OTHER
    stats: dict[str, float] = field(default_factory=dict)
    vocabulary: tuple[str, ...] | None = None  # categorical: every category seen (None: too many to keep)

    @property
    def labels(self) -> list[str]:
        """A readable name for each bin, then the missing bin."""
        if self.kind == "categorical":
            names = [*self.categories, "(other)"]
        else:
            bounds = ["-inf", *(f"{e:.6g}" for e in self.edges), "inf"]
            names = [f"({lo}, {hi}]" for lo, hi in zip(bounds, bounds[1:])]
        return [*names, "missing"]

    def histogram(self) -> np.ndarray:
        """Counts per bin with the missing bin last: what PSI compares."""
        return np.array([*self.counts, self.missing], dtype=np.float64)

    @property
    def bins(self) -> int:
        """How many bins, the missing bin included."""
        return (len(self.edges) if self.kind == "numeric" else len(self.categories)) + 2

    def slots(self, column: pd.Series) -> tuple[np.ndarray, pd.Series]:
        """Each value's bin (the missing bin is the last), and the values never seen in training."""
        missing = self.bins - 1
        if self.kind == "numeric":
            values = _numbers(column)
            slots = np.searchsorted(np.asarray(self.edges), values, side="left")
            return np.where(np.isnan(values), missing, slots), pd.Series([], dtype=object)
        texts = _texts(column)
        index = {c: i for i, c in enumerate(self.categories)}
        slots = texts.map(index).fillna(missing - 1).to_numpy(dtype=np.intp)
        absent = texts.isna().to_numpy()
        slots[absent] = missing
        unseen = pd.Series([], dtype=object)
        if self.vocabulary is not None:
            outside = texts[(slots == missing - 1)]
            unseen = outside[~outside.isin(frozenset(self.vocabulary))]
        return slots, unseen

    def bin_counts(self, column: pd.Series) -> tuple[np.ndarray, dict[str, int]]:
        """Another batch's counts in this column's bins (missing last), and its unseen categories."""
        slots, unseen = self.slots(column)
        counts = np.bincount(slots, minlength=self.bins).astype(np.float64)
        return counts, {str(k): int(v) for k, v in unseen.value_counts().items()}

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "rows": self.rows, "missing": self.missing,
                             "counts": list(self.counts), "stats": self.stats}
        if self.kind == "numeric":
            d["edges"] = list(self.edges)
        else:
            d["categories"] = list(self.categories)
            d["vocabulary"] = None if self.vocabulary is None else list(self.vocabulary)
        return d

    @classmethod
    def from_dict(cls, name: str, d: dict[str, Any]) -> ColumnProfile:
        try:
            return cls(name, d["kind"], int(d["rows"]), int(d["missing"]), tuple(int(c) for c in d["counts"]),
                       tuple(float(e) for e in d.get("edges", ())), tuple(str(c) for c in d.get("categories", ())),
                       dict(d.get("stats", {})),
                       None if d.get("vocabulary") is None else tuple(str(v) for v in d["vocabulary"]))
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"profile field {name!r} is malformed ({type(e).__name__}: {e}); "
                              "re-create the profile from the training data") from None


@dataclass(frozen=True)
class Profile:
    """The profile of a table: one ColumnProfile per profiled column."""

    rows: int
    columns: dict[str, ColumnProfile]

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "rows": self.rows,
                           "columns": {n: c.as_dict() for n, c in self.columns.items()}}, indent=1)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "<profile>") -> Profile:
        try:
            d = json.loads(text)
            if d.get("format") != FORMAT:
                raise ConfigError(f"{source}: not a pmmlkit data profile of format {FORMAT} "
                                  f"(format {d.get('format')!r}); re-create it from the training data")
            return cls(int(d["rows"]), {n: ColumnProfile.from_dict(n, c) for n, c in d["columns"].items()})
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ConfigError(f"{source}: not a pmmlkit data profile ({type(e).__name__}: {e})") from None


def profile_frame(df: pd.DataFrame, columns: Iterable[tuple[str, str]], *, bins: int = BINS,
                  top: int = TOP_CATEGORIES) -> Profile:
    """Profile ``columns`` of ``df``, given as (name, kind) with kind "numeric" or "categorical"."""
    out: dict[str, ColumnProfile] = {}
    for name, kind in columns:
        if name not in df.columns:
            raise ConfigError(f"cannot profile column {name!r}: absent from the data's columns "
                              f"{list(df.columns)[:20]}")
        col = df[name]
        out[name] = _numeric(name, col, bins) if kind == "numeric" else _categorical(name, col, top)
    return Profile(len(df), out)


def _numeric(name: str, col: pd.Series, bins: int) -> ColumnProfile:
    values = _numbers(col)
    present = values[~np.isnan(values) & np.isfinite(values)]
    if len(present):
        edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]))
        stats = {"min": float(present.min()), "max": float(present.max()), "mean": float(present.mean()),
                 "std": float(present.std())}
    else:
        edges, stats = np.array([]), {}
    counts = np.bincount(np.searchsorted(edges, values[~np.isnan(values)], side="left"), minlength=len(edges) + 1)
    return ColumnProfile(name, "numeric", len(values), int(np.isnan(values).sum()), tuple(int(c) for c in counts),
                         tuple(float(e) for e in edges), (), stats)


def _categorical(name: str, col: pd.Series, top: int) -> ColumnProfile:
    texts = _texts(col)
    freq = texts.dropna().value_counts()
    kept = freq.iloc[:top]
    lumped = int(freq.iloc[top:].sum())
    stats = {"distinct": float(len(freq)), "lumped": float(lumped)}
    vocabulary = tuple(str(c) for c in freq.index) if len(freq) <= VOCABULARY_CAP else None
    return ColumnProfile(name, "categorical", len(texts), int(texts.isna().sum()),
                         (*(int(c) for c in kept), lumped), (), tuple(str(c) for c in kept.index), stats,
                         vocabulary)


def _numbers(col: pd.Series) -> np.ndarray:
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _texts(col: pd.Series) -> pd.Series:
    """Categories as PMML's canonical text (1.0 and "1" are the same category); missing as None."""
    return col.map(lambda v: None if v is pd.NA or is_missing(v) else canonical_text(v)).astype(object)


def input_columns(fields: Iterable[Any]) -> list[tuple[str, str]]:
    """(name, kind) for a model's input fields: continuous numbers are binned, the rest counted."""
    numeric = ("double", "float", "integer")
    return [(f.name, "numeric" if f.op_type == "continuous" and f.data_type in numeric else "categorical")
            for f in fields]
