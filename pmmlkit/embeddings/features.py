"""Declared lookups and the features built from looked-up vectors.

The same functions build the training table and the serving inputs, so a model
sees exactly the features it was trained on. A manifest declares, e.g.::

    {"lookups": [{"key": "user_id", "table": "users", "as": "user"},
                 {"key": "ad_id", "table": "ads", "as": "ad"}],
     "features": {"dot": true, "products": true, "vectors": false},
     "fallback": {"user": {"default": "mean"}, "ad": {"default": "zeros"}},
     "store": "file:///srv/embeddings"}

Feature columns, for lookups ``a`` and ``b`` of dimension k: ``a_b_dot`` (the
dot product), ``a_b_p0..a_b_p{k-1}`` (element-wise products), and with
``vectors`` the raw components ``a_0..a_{k-1}``, ``b_0..``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError

DEFAULTS = ("zeros", "mean")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Lookup:
    key: str     # request field holding the id
    table: str   # embedding table
    name: str    # "as": the prefix of the fields built from the vector


@dataclass(frozen=True)
class Fallback:
    """What a missing key gets: a default vector, or the output of a fallback PMML model."""

    default: str | None = None   # "zeros" | "mean"
    model: str | None = None     # repository ref or .pmml path; outputs <as>_0..<as>_{k-1}


@dataclass(frozen=True)
class LookupSpec:
    lookups: tuple[Lookup, ...]
    dot: bool = True
    products: bool = False
    vectors: bool = False
    fallback: Mapping[str, Fallback] = field(default_factory=dict)
    store: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str = "manifest") -> LookupSpec:
        """Validate the declaration; every problem is a ConfigError naming the key."""
        raw = d.get("lookups")
        if not isinstance(raw, list) or not raw:
            raise ConfigError(f"{source}: 'lookups' must be a non-empty list of "
                              "{key: <request field>, table: <embedding table>, as: <name>}")
        lookups = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping) or set(item) - {"key", "table", "as"} or not all(
                    isinstance(item.get(k), str) and item.get(k) for k in ("key", "table", "as")):
                raise ConfigError(f"{source}: lookups[{i}] is {item!r}; expected {{key: ..., table: ..., as: ...}} "
                                  "with non-empty strings")
            if not _IDENT.match(item["as"]):
                raise ConfigError(f"{source}: lookups[{i}].as {item['as']!r}: expected an identifier (a-z, 0-9, _)")
            lookups.append(Lookup(item["key"], item["table"], item["as"]))
        names = [lk.name for lk in lookups]
        if len(set(names)) != len(names):
            raise ConfigError(f"{source}: lookup names ('as') repeat: {names}")
        feats = d.get("features") or {}
        if not isinstance(feats, Mapping) or set(feats) - {"dot", "products", "vectors"}:
            raise ConfigError(f"{source}: 'features' is {feats!r}; "
                              "expected {dot: bool, products: bool, vectors: bool}")
        spec = cls(tuple(lookups), bool(feats.get("dot", True)), bool(feats.get("products", False)),
                   bool(feats.get("vectors", False)), _fallbacks(d.get("fallback") or {}, names, source),
                   d.get("store"))
        if (spec.dot or spec.products) and len(lookups) != 2:
            raise ConfigError(f"{source}: 'dot' and 'products' pair two lookups; {len(lookups)} declared "
                              "(set features.vectors instead)")
        if not (spec.dot or spec.products or spec.vectors):
            raise ConfigError(f"{source}: 'features' enables nothing; set dot, products or vectors")
        return spec

    def to_dict(self) -> dict[str, Any]:
        """The manifest keys (goes into ``Repository.publish(manifest=...)``)."""
        return {"lookups": [{"key": lk.key, "table": lk.table, "as": lk.name} for lk in self.lookups],
                "features": {"dot": self.dot, "products": self.products, "vectors": self.vectors},
                "fallback": {n: {k: v for k, v in (("default", f.default), ("model", f.model)) if v}
                             for n, f in self.fallback.items()},
                **({"store": self.store} if self.store else {})}

    @property
    def key_fields(self) -> tuple[str, ...]:
        return tuple(lk.key for lk in self.lookups)


def _fallbacks(raw: Any, names: list[str], source: str) -> dict[str, Fallback]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: 'fallback' is {raw!r}; expected {{<as>: {{default: zeros|mean}}}}")
    out = {}
    for name, f in raw.items():
        if name not in names:
            raise ConfigError(f"{source}: fallback for {name!r}, which is not a lookup name; names: {names}")
        ok = isinstance(f, Mapping) and len(f) == 1 and (
            f.get("default") in DEFAULTS or (isinstance(f.get("model"), str) and f["model"]))
        if not ok:
            raise ConfigError(f"{source}: fallback.{name} is {f!r}; expected {{default: zeros}}, "
                              "{default: mean} or {model: <ref>}")
        out[name] = Fallback(f.get("default"), f.get("model"))
    return out


def feature_names(spec: LookupSpec, dims: Mapping[str, int]) -> list[str]:
    """The model input columns the lookups produce, in a fixed order."""
    names: list[str] = []
    if spec.dot or spec.products:
        a, b = (lk.name for lk in spec.lookups)
        if dims[a] != dims[b]:
            raise ConfigError(f"lookups {a!r} and {b!r} have dimensions {dims[a]} and {dims[b]}; "
                              "dot and products need equal dimensions")
        if spec.dot:
            names.append(f"{a}_{b}_dot")
        if spec.products:
            names += [f"{a}_{b}_p{i}" for i in range(dims[a])]
    if spec.vectors:
        for lk in spec.lookups:
            names += [f"{lk.name}_{i}" for i in range(dims[lk.name])]
    return names


def build_features(spec: LookupSpec, vectors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Feature columns (float64) from one (n, dim) matrix per lookup name."""
    mats = {name: np.asarray(m, dtype=np.float64) for name, m in vectors.items()}
    out: dict[str, np.ndarray] = {}
    if spec.dot or spec.products:
        a, b = (lk.name for lk in spec.lookups)
        prod = mats[a] * mats[b]
        if spec.dot:
            out[f"{a}_{b}_dot"] = prod.sum(axis=1)
        if spec.products:
            out.update({f"{a}_{b}_p{i}": prod[:, i] for i in range(prod.shape[1])})
    if spec.vectors:
        for lk in spec.lookups:
            out.update({f"{lk.name}_{i}": mats[lk.name][:, i] for i in range(mats[lk.name].shape[1])})
    return out
