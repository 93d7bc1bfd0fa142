"""Training spec: what to train on, how, and under which name. Loaded from YAML or JSON.

Plain Python only (no pyspark), so the CLI can validate a spec before starting Spark.
"""
from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..formats import data_format

IMPUTER_STRATEGIES = ("mean", "median", "mode")
_TOP_KEYS = {"name", "data", "format", "label", "numeric", "categorical", "estimator",
             "validation", "verify_rows", "pipeline", "imputer"}


@dataclass(frozen=True)
class EstimatorSpec:
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ValidationSpec:
    fraction: float = 0.2
    seed: int = 42


@dataclass(frozen=True)
class TrainingSpec:
    name: str
    data: str
    label: str | None                # None only for clustering (kmeans), which learns no label
    format: str = "csv"
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    estimator: EstimatorSpec | None = None
    validation: ValidationSpec = ValidationSpec()
    verify_rows: int = 10
    pipeline: str | None = None      # "module:function" returning an unfitted pyspark Pipeline
    imputer: str = "mean"            # strategy for missing numeric values

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + self.categorical

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (goes into the version manifest)."""
        d = dataclasses.asdict(self)
        d["numeric"], d["categorical"] = list(self.numeric), list(self.categorical)
        if self.estimator is not None:
            d["estimator"] = {"type": self.estimator.type, "params": dict(self.estimator.params)}
        return d


def _where(source: str, key: str) -> str:
    return f"{source}: key {key!r}"


def _required_str(d: Mapping[str, Any], key: str, source: str) -> str:
    value = _str(d, key, source, required=True)
    assert value is not None  # _str raised otherwise
    return value


def _str(d: Mapping[str, Any], key: str, source: str, *, required: bool) -> str | None:
    v = d.get(key)
    if v is None:
        if required:
            raise ConfigError(f"{_where(source, key)} is required (none given)")
        return None
    if not isinstance(v, str) or not v.strip():
        raise ConfigError(f"{_where(source, key)}: expected a non-empty string, got {v!r}")
    return v.strip()


def _names(d: Mapping[str, Any], key: str, source: str) -> tuple[str, ...]:
    v = d.get(key) or []
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise ConfigError(f"{_where(source, key)}: expected a list of column names, got {v!r}")
    dupes = sorted({x for x in v if v.count(x) > 1})
    if dupes:
        raise ConfigError(f"{_where(source, key)}: column(s) listed twice: {', '.join(dupes)}")
    return tuple(v)


def _estimator(v: Any, source: str) -> EstimatorSpec | None:
    if v is None:
        return None
    if isinstance(v, str):
        v = {"type": v}
    if not isinstance(v, Mapping):
        raise ConfigError(f"{_where(source, 'estimator')}: expected {{type: ..., params: {{...}}}}, got {v!r}")
    unknown = set(v) - {"type", "params"}
    if unknown:
        raise ConfigError(f"{_where(source, 'estimator')}: unknown key(s) {sorted(unknown)}; "
                          "expected 'type' and 'params'")
    etype = _str(v, "type", source + ": estimator", required=True)
    params = v.get("params") or {}
    if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
        raise ConfigError(f"{_where(source, 'estimator.params')}: expected a mapping, got {params!r}")
    from .pipeline import ESTIMATORS

    if etype not in ESTIMATORS:
        raise ConfigError(f"{_where(source, 'estimator.type')}: unknown estimator {etype!r}; "
                          f"supported: {', '.join(sorted(ESTIMATORS))}")
    return EstimatorSpec(etype, dict(params))


def _is_clustering(estimator: EstimatorSpec | None) -> bool:
    from .pipeline import CLUSTERING, ESTIMATORS

    return estimator is not None and ESTIMATORS[estimator.type].task == CLUSTERING


def _validation(v: Any, source: str) -> ValidationSpec:
    if v is None:
        return ValidationSpec()
    if not isinstance(v, Mapping) or set(v) - {"fraction", "seed"}:
        raise ConfigError(f"{_where(source, 'validation')}: expected {{fraction: 0.2, seed: 42}}, got {v!r}")
    fraction = v.get("fraction", 0.2)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ConfigError(f"{_where(source, 'validation.fraction')}: expected a number in (0, 1), got {fraction!r}")
    seed = v.get("seed", 42)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"{_where(source, 'validation.seed')}: expected an integer, got {seed!r}")
    return ValidationSpec(float(fraction), seed)


def from_dict(d: Mapping[str, Any], *, source: str = "<spec>") -> TrainingSpec:
    """Validate a spec mapping; every problem is a ConfigError naming the key."""
    if not isinstance(d, Mapping):
        raise ConfigError(f"{source}: a training spec must be a mapping of keys, got {type(d).__name__}")
    unknown = set(d) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}; "
                          f"known keys: {', '.join(sorted(_TOP_KEYS))}")
    name = _required_str(d, "name", source)
    data = _required_str(d, "data", source)
    estimator = _estimator(d.get("estimator"), source)
    label = _str(d, "label", source, required=not _is_clustering(estimator))
    pipeline = _str(d, "pipeline", source, required=False)
    if pipeline is not None and (pipeline.count(":") != 1 or not all(pipeline.split(":"))):
        raise ConfigError(f"{_where(source, 'pipeline')}: expected 'module:function', got {pipeline!r}")
    numeric, categorical = _names(d, "numeric", source), _names(d, "categorical", source)
    both = sorted(set(numeric) & set(categorical))
    if both:
        raise ConfigError(f"{source}: column(s) {', '.join(both)} are listed as both numeric and categorical")
    if label is not None and label in numeric + categorical:
        raise ConfigError(f"{_where(source, 'label')}: the label {label!r} is also listed as a feature")
    if pipeline is None:
        if not numeric and not categorical:
            raise ConfigError(f"{source}: keys 'numeric' and 'categorical' are both empty; "
                              "list at least one feature column (or give a 'pipeline')")
        if estimator is None:
            raise ConfigError(f"{_where(source, 'estimator')} is required (none given) unless 'pipeline' is set")
    verify_rows = d.get("verify_rows", 10)
    if isinstance(verify_rows, bool) or not isinstance(verify_rows, int) or verify_rows < 0:
        raise ConfigError(f"{_where(source, 'verify_rows')}: expected an integer >= 0, got {verify_rows!r}")
    imputer = d.get("imputer", "mean")
    if imputer not in IMPUTER_STRATEGIES:
        raise ConfigError(f"{_where(source, 'imputer')}: unknown strategy {imputer!r}; "
                          f"supported: {', '.join(IMPUTER_STRATEGIES)}")
    return TrainingSpec(
        name=name, data=data, label=label, format=data_format(data, d.get("format"), what=f"{source}: key 'data'"),
        numeric=numeric, categorical=categorical, estimator=estimator,
        validation=_validation(d.get("validation"), source), verify_rows=verify_rows,
        pipeline=pipeline, imputer=imputer,
    )


def load(path: str | os.PathLike) -> TrainingSpec:
    """Read a YAML (.yaml/.yml) or JSON spec file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{path}: no such spec file")
    import yaml

    text = p.read_text(encoding="utf-8")
    try:
        d = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:  # json.JSONDecodeError is a ValueError
        raise ConfigError(f"{path}: cannot parse the spec ({e})") from None
    # A relative data path is relative to the spec file, so specs travel with their data.
    if isinstance(d, dict) and isinstance(d.get("data"), str) and "://" not in d["data"]:
        data = Path(d["data"]).expanduser()
        if not data.is_absolute():
            d = {**d, "data": str((p.parent / data).resolve())}
    return from_dict(d, source=str(path))


def parse_param(text: str) -> tuple[str, Any]:
    """`--param key=value`: the value is read as YAML, so 20 is an int and 0.1 a float."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--param {text!r}: expected key=value")
    import yaml

    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def with_overrides(spec: TrainingSpec, overrides: Mapping[str, Any] | None) -> TrainingSpec:
    """Apply CLI overrides (data, name, label, estimator, params, format) and re-validate."""
    if not overrides:
        return spec
    d = spec.to_dict()
    for key in ("data", "name", "label", "format"):
        if overrides.get(key) is not None:
            d[key] = overrides[key]
    if overrides.get("data") is not None and overrides.get("format") is None:
        d.pop("format")  # the new path's extension decides
    est = dict(d.get("estimator") or {})
    if overrides.get("estimator") is not None:
        if est.get("type") != overrides["estimator"]:
            est = {"type": overrides["estimator"], "params": {}}  # old params belong to the old estimator
    if overrides.get("params"):
        if not est:
            raise ConfigError("--param needs an estimator (in the spec or with --estimator)")
        est["params"] = {**est.get("params", {}), **dict(overrides["params"])}
    d["estimator"] = est or None
    return from_dict(d, source="spec with command-line overrides")
