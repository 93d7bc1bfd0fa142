"""Fit user and item embeddings with Spark ML's ALS on an interactions table.

Spec (YAML/JSON)::

    data: interactions.csv      # .csv or .parquet
    user: user_id               # any id type: ids are indexed for ALS and mapped back
    item: ad_id
    rating: clicks              # optional; without it every row counts 1 (implicit feedback)
    implicit: true              # default true
    rank: 8
    max_iter: 10
    reg_param: 0.1
    alpha: 1.0                  # confidence scale, implicit feedback only
    seed: 42
    tables: {user: users, item: ads}
    output: embeddings/         # writes <table>.parquet (id, vector)
    store: file:///srv/emb      # optional: also publish both tables there
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_KEYS = {"data", "format", "user", "item", "rating", "implicit", "rank", "max_iter", "reg_param", "alpha",
         "seed", "tables", "output", "store"}


@dataclass(frozen=True)
class AlsSpec:
    data: str
    user: str
    item: str
    output: str
    rating: str | None = None
    implicit: bool = True
    rank: int = 8
    max_iter: int = 10
    reg_param: float = 0.1
    alpha: float = 1.0
    seed: int = 42
    tables: Mapping[str, str] = field(default_factory=lambda: {"user": "users", "item": "items"})
    store: str | None = None
    format: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str = "<embeddings spec>") -> AlsSpec:
        if not isinstance(d, Mapping):
            raise ConfigError(f"{source}: expected a mapping of keys, got {type(d).__name__}")
        unknown = set(d) - _KEYS
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {sorted(unknown)}; known keys: {sorted(_KEYS)}")
        for key in ("data", "user", "item", "output"):
            if not isinstance(d.get(key), str) or not d[key]:
                raise ConfigError(f"{source}: key {key!r} is required (a non-empty string), got {d.get(key)!r}")
        for key, kind in (("rank", int), ("max_iter", int), ("seed", int), ("reg_param", (int, float)),
                          ("alpha", (int, float))):
            if key in d and (isinstance(d[key], bool) or not isinstance(d[key], kind) or d[key] < 0):
                raise ConfigError(f"{source}: key {key!r}: expected a number >= 0, got {d[key]!r}")
        tables = {"user": "users", "item": "items", **(d.get("tables") or {})}
        if set(tables) != {"user", "item"}:
            raise ConfigError(f"{source}: key 'tables': expected {{user: <table>, item: <table>}}, got {tables!r}")
        return cls(**{k: v for k, v in d.items() if k != "tables"}, tables=tables)


def load_spec(path: str | os.PathLike) -> AlsSpec:
    """Read a YAML/JSON spec; relative data/output paths are relative to the spec file."""
    import yaml

    p = Path(path)
    try:
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: cannot read the embeddings spec ({e})") from None
    if isinstance(d, dict):
        for key in ("data", "output"):
            if isinstance(d.get(key), str) and "://" not in d[key] and not os.path.isabs(d[key]):
                d[key] = str((p.parent / d[key]).resolve())
    return AlsSpec.from_dict(d, source=str(path))


def fit(spec: AlsSpec, *, spark: SparkSession) -> dict[str, tuple[list[str], np.ndarray]]:
    """{table: (ids, vectors)} for the user and item tables."""
    from pyspark.ml.feature import StringIndexer
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    from ...formats import data_format
    from ..training import read_data

    df = read_data(spark, spec.data, fmt=data_format(spec.data, spec.format, what="embeddings spec key 'data'"))
    needed = [spec.user, spec.item] + ([spec.rating] if spec.rating else [])
    absent = [c for c in needed if c not in df.columns]
    if absent:
        raise ConfigError(f"data {spec.data!r}: column(s) {absent} named in the spec are missing; "
                          f"columns: {df.columns}")
    rating = F.col(spec.rating).cast("float") if spec.rating else F.lit(1.0)
    df = df.select(F.col(spec.user).cast("string").alias("u"), F.col(spec.item).cast("string").alias("i"),
                   rating.alias("r")).dropna()
    # ALS wants integer ids; StringIndexer maps any id to 0..n-1 and keeps the labels to map back.
    indexers = [StringIndexer(inputCol=c, outputCol=f"{c}_ix", stringOrderType="alphabetAsc").fit(df)
                for c in ("u", "i")]
    for ix in indexers:
        df = ix.transform(df)
    als = ALS(rank=spec.rank, maxIter=spec.max_iter, regParam=spec.reg_param, alpha=spec.alpha,
              implicitPrefs=spec.implicit, seed=spec.seed, userCol="u_ix", itemCol="i_ix", ratingCol="r",
              nonnegative=False, coldStartStrategy="drop")
    model = als.fit(df)
    out = {}
    for side, factors, ix in (("user", model.userFactors, indexers[0]), ("item", model.itemFactors, indexers[1])):
        rows = factors.orderBy("id").collect()
        labels = ix.labels
        out[spec.tables[side]] = ([labels[r["id"]] for r in rows],
                                  np.array([r["features"] for r in rows], dtype=np.float32))
    return out


def train(spec: AlsSpec | str | os.PathLike, *, spark: SparkSession | None = None,
          publish: bool = True) -> dict[str, Any]:
    """Fit, write ``<output>/<table>.parquet`` and (with a store) publish; returns a summary."""
    from ...embeddings.tables import write_table
    from ..session import spark_session

    spec = spec if isinstance(spec, AlsSpec) else load_spec(spec)
    with spark_session(spark) as session:
        tables = fit(spec, spark=session)
    os.makedirs(spec.output, exist_ok=True)
    summary: dict[str, Any] = {}
    for table, (ids, vectors) in tables.items():
        path = os.path.join(spec.output, f"{table}.parquet")
        write_table(path, ids, vectors)
        summary[table] = {"path": path, "count": len(ids), "dim": int(vectors.shape[1])}
        if publish and spec.store:
            from ...embeddings.store import open_store

            summary[table]["version"] = open_store(spec.store).publish(table, ids, vectors).version
    return summary
