"""Train the lightweight last layer (logistic regression or a small MLP) on embedding features.

The spec is a training spec (name, data, label, numeric, categorical, estimator,
validation, verify_rows) plus the lookup declaration (lookups, features,
fallback, store). The data holds request-like rows: key fields, context fields
and the label. The vectors come from the store's current versions; the feature
table is built with ``features.build_features`` (the same code serving uses),
trained with ``spark.training.fit`` like any spec, and published with the
lookups in its manifest.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...embeddings.features import LookupSpec, build_features, feature_names
from ...embeddings.store import EmbeddingStore, key_text, open_store
from ...errors import ConfigError
from ...formats import read_frame

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ...repository.store import Repository, Version

LOOKUP_KEYS = ("lookups", "features", "fallback", "store")


def load_spec(path: str | os.PathLike) -> dict[str, Any]:
    """A ranker spec from YAML/JSON; a relative data path is relative to the spec file."""
    import yaml

    p = Path(path)
    try:
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: cannot read the ranker spec ({e})") from None
    if not isinstance(d, dict):
        raise ConfigError(f"{path}: a ranker spec must be a mapping of keys")
    if isinstance(d.get("data"), str) and "://" not in d["data"] and not os.path.isabs(d["data"]):
        d["data"] = str((p.parent / d["data"]).resolve())
    return d


def feature_table(frame: pd.DataFrame, spec: LookupSpec, store: EmbeddingStore) -> tuple[pd.DataFrame, dict]:
    """``frame`` plus the feature columns; rows whose keys have no vector are left out (counted)."""
    vectors, keep, versions = {}, np.ones(len(frame), dtype=bool), {}
    for lk in spec.lookups:
        if lk.key not in frame.columns:
            raise ConfigError(f"ranker data: no key column {lk.key!r} for lookup {lk.name!r}; "
                              f"columns: {list(frame.columns)}")
        keys = [key_text(v) for v in frame[lk.key].tolist()]
        distinct = list(dict.fromkeys(keys))
        fetched = store.fetch(lk.table, distinct)
        pos = {k: i for i, k in enumerate(distinct)}
        rows = np.array([pos[k] for k in keys], dtype=np.int64)
        keep &= fetched.found[rows]
        vectors[lk.name] = fetched.vectors[rows]
        versions[lk.table] = fetched.info.version
    dims = {name: m.shape[1] for name, m in vectors.items()}
    feats = build_features(spec, {n: m[keep] for n, m in vectors.items()})
    out = frame.loc[keep].reset_index(drop=True).assign(**feats)
    return out[[*frame.columns, *feature_names(spec, dims)]], {"versions": versions,
                                                                 "dropped_rows": int((~keep).sum())}


def train_ranker(spec_or_path: Mapping[str, Any] | str | os.PathLike, *, repo: Repository | str | None = None,
                 store: EmbeddingStore | str | None = None, spark: SparkSession | None = None) -> Version:
    """Build the feature table, fit the last layer on Spark, publish it with its lookups."""
    from ...repository.store import open_repository
    from .. import spec as specs
    from ..session import spark_session
    from ..training import build_manifest, fit

    d = dict(spec_or_path) if isinstance(spec_or_path, Mapping) else load_spec(spec_or_path)
    lookup_spec = LookupSpec.from_dict(d, source="ranker spec")
    store = store if isinstance(store, EmbeddingStore) else open_store(store or lookup_spec.store)
    data = str(d.get("data") or "")
    if not data:
        raise ConfigError("ranker spec: key 'data' is required (the labelled request rows)")
    frame = read_frame(data, what="ranker spec key 'data'")
    table, info = feature_table(frame, lookup_spec, store)
    if table.empty:
        raise ConfigError(f"ranker data {data!r}: no row has vectors for all its keys in {store.url}")
    names = [c for c in table.columns if c not in frame.columns]
    repository = open_repository(repo)
    with tempfile.TemporaryDirectory(prefix="pmmlkit-ranker-") as tmp:
        path = os.path.join(tmp, "features.parquet")
        table.drop(columns=[k for k in lookup_spec.key_fields if k not in d.get("categorical", [])]
                   ).to_parquet(path, index=False)
        base = {k: v for k, v in d.items() if k not in LOOKUP_KEYS}
        spec = specs.from_dict({**base, "data": path, "numeric": [*(d.get("numeric") or []), *names]},
                               source="ranker spec")
        with spark_session(spark) as session:
            fitted = fit(spec, spark=session)
            manifest = build_manifest(fitted.pmml, spark_version=session.version, metrics=fitted.metrics,
                                      data_source=data, row_count=fitted.row_count,
                                      spec={**spec.to_dict(), "data": data})
    manifest.update(lookup_spec.to_dict())
    manifest["store"] = lookup_spec.store or store.url
    manifest["embedding_versions"] = info["versions"]
    manifest["dropped_rows"] = info["dropped_rows"]
    return repository.publish(spec.name, fitted.pmml, manifest=manifest)
