"""Scoring with lookups: fetch the declared vectors, build the fields, score the PMML.

``with_lookups(evaluator, manifest, store)`` wraps an Evaluator whose model was
trained on embedding features. Per call it fetches each table once (one round
trip per table, the distinct keys of the whole batch), applies the declared
fallback to keys the table lacks, and adds a ``fallback`` result naming the
lookups that fell back (``"user"``, ``"user,ad"``; None when none did). A key
missing without a declared fallback is an InputError for its row, never a
silent zero vector.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError, MissingFieldError
from ..evaluator import Evaluator
from .features import Lookup, LookupSpec, build_features
from .store import STORE_ENV, EmbeddingStore, key_text, open_store

FALLBACK_COLUMN = "fallback"
OnFallback = Callable[[str, int], None]


@dataclass
class _Resolved:
    features: dict[str, np.ndarray]
    marks: list[list[str]]             # per row: lookup names that fell back
    errors: dict[int, InputError]      # per row position: a key with no vector and no fallback


class LookupEvaluator:
    """An Evaluator that looks up its embedding inputs first; same predict/predict_batch contract."""

    def __init__(self, evaluator: Evaluator, spec: LookupSpec, store: EmbeddingStore, *,
                 repo: str | None = None, on_fallback: OnFallback | None = None):
        self.base = evaluator
        self.spec = spec
        self.store = store
        self.on_fallback = on_fallback
        self._fallback_models = {name: Evaluator.load(f.model, repo=repo)
                                 for name, f in spec.fallback.items() if f.model}

    def __getattr__(self, name: str) -> Any:  # schema, input_fields, document, version...
        return getattr(self.base, name)

    @property
    def backend_name(self) -> str:
        # Not "native": the server must not run a network lookup inline on its event loop.
        return f"{self.base.backend_name}+lookups"

    @property
    def result_names(self) -> tuple[str, ...]:
        return (*self.base.result_names, FALLBACK_COLUMN)

    def predict(self, record: dict[str, Any]) -> dict[str, Any]:
        resolved = self._resolve({lk.key: [record.get(lk.key)] for lk in self.spec.lookups},
                                 pd.RangeIndex(1), lambda rows: pd.DataFrame([record]))
        if resolved.errors:
            raise resolved.errors[0]
        out = self.base.predict({**record, **{k: float(v[0]) for k, v in resolved.features.items()}})
        out[FALLBACK_COLUMN] = ",".join(resolved.marks[0]) or None
        return out

    def predict_batch(self, df: pd.DataFrame, *, errors: str = "raise") -> pd.DataFrame:
        if errors not in ("raise", "column"):
            raise ConfigError(f"errors={errors!r}; expected 'raise' or 'column'")
        columns = {lk.key: (df[lk.key].tolist() if lk.key in df.columns else [None] * len(df))
                   for lk in self.spec.lookups}
        resolved = self._resolve(columns, df.index, lambda rows: df.iloc[rows])
        if resolved.errors and errors == "raise":
            raise resolved.errors[min(resolved.errors)]
        frame = df.assign(**resolved.features) if len(df) else df.assign(**{k: [] for k in resolved.features})
        out = self.base.predict_batch(frame, errors=errors)
        if resolved.errors:
            bad = np.zeros(len(df), dtype=bool)
            bad[list(resolved.errors)] = True
            for name in self.base.result_names:
                out.loc[bad, name] = None
            error_column = self.base.error_column
            messages = out[error_column].to_numpy(dtype=object).copy()
            for pos, e in resolved.errors.items():
                messages[pos] = str(e)
            out[error_column] = messages
        marks = pd.Series([",".join(m) or None for m in resolved.marks], index=df.index, dtype=object)
        out.insert(len(self.base.result_names), FALLBACK_COLUMN, marks)
        return out

    def _resolve(self, columns: Mapping[str, Sequence[Any]], labels: pd.Index,
                 rows_of: Callable[[np.ndarray], pd.DataFrame]) -> _Resolved:
        n = len(labels)
        marks: list[list[str]] = [[] for _ in range(n)]
        errors: dict[int, InputError] = {}
        vectors = {lk.name: self._vectors(lk, columns[lk.key], labels, rows_of, marks, errors)
                   for lk in self.spec.lookups}
        return _Resolved(build_features(self.spec, vectors), marks, errors)

    def _vectors(self, lk: Lookup, values: Sequence[Any], labels: pd.Index,
                 rows_of: Callable[[np.ndarray], pd.DataFrame], marks: list[list[str]],
                 errors: dict[int, InputError]) -> np.ndarray:
        present = np.fromiter((not _missing(v) for v in values), dtype=bool, count=len(values))
        keys = [key_text(v) for v, p in zip(values, present) if p]
        distinct = list(dict.fromkeys(keys))  # the ranking case: one user, many ads -> one user key
        fetched = self.store.fetch(lk.table, distinct)  # the one round trip for this table
        where = {k: i for i, k in enumerate(distinct)}
        rows = np.full(len(values), -1, dtype=np.int64)
        rows[present] = [where[k] for k in keys]
        ok = present.copy()
        ok[present] = fetched.found[rows[present]]
        out = np.zeros((len(values), fetched.info.dim), dtype=np.float64)
        out[ok] = fetched.vectors[rows[ok]]
        lost = np.flatnonzero(~ok)
        if lost.size:
            self._fall_back(lk, out, lost, values, labels, rows_of, fetched.info, marks, errors)
        return out

    def _fall_back(self, lk: Lookup, out: np.ndarray, lost: np.ndarray, values: Sequence[Any],
                   labels: pd.Index, rows_of: Callable[[np.ndarray], pd.DataFrame], info: Any,
                   marks: list[list[str]], errors: dict[int, InputError]) -> None:
        fallback = self.spec.fallback.get(lk.name)
        if fallback is None:
            for pos in lost:
                what = "is missing" if _missing(values[pos]) else \
                    f"is not a key of embedding table {lk.table!r} (version {info.version})"
                errors.setdefault(int(pos), MissingFieldError(
                    labels[pos], lk.key, values[pos],
                    f"{what} and lookup {lk.name!r} declares no fallback; expected a known key"))
            return
        if fallback.default is not None:
            out[lost] = 0.0 if fallback.default == "zeros" else np.asarray(info.mean, dtype=np.float64)
            used = lost
        else:
            used = self._model_vectors(lk, out, lost, labels, rows_of(lost), info.dim, errors)
        for pos in used:
            marks[pos].append(lk.name)
        if self.on_fallback is not None and len(used):
            self.on_fallback(lk.name, len(used))

    def _model_vectors(self, lk: Lookup, out: np.ndarray, lost: np.ndarray, labels: pd.Index,
                       frame: pd.DataFrame, dim: int, errors: dict[int, InputError]) -> np.ndarray:
        """Vectors of the lost rows from the fallback model's outputs <as>_0..<as>_{dim-1}."""
        model = self._fallback_models[lk.name]
        names = [f"{lk.name}_{i}" for i in range(dim)]
        absent = [c for c in names if c not in model.result_names]
        if absent:
            raise ConfigError(f"fallback model of lookup {lk.name!r} lacks output(s) {absent}; "
                              f"it has {list(model.result_names)}")
        scored = model.predict_batch(frame.reset_index(drop=True), errors="column")
        good = scored[model.error_column].isna().to_numpy()
        out[lost[good]] = scored.loc[good, names].to_numpy(dtype=np.float64)
        for pos, msg in zip(lost[~good], scored.loc[~good, model.error_column]):
            errors.setdefault(int(pos), InputError(labels[pos], lk.key, None,
                                                   f"has no vector and the fallback model failed: {msg}"))
        return lost[good]

    def close(self) -> None:
        for model in self._fallback_models.values():
            model.close()
        self.base.close()

    def __enter__(self) -> LookupEvaluator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and np.isnan(v))


def with_lookups(evaluator: Evaluator, manifest: Mapping[str, Any], store: EmbeddingStore | str | None = None,
                 *, repo: str | None = None, on_fallback: OnFallback | None = None) -> LookupEvaluator:
    """Wrap ``evaluator`` with the lookups its manifest (extra keys) declares."""
    spec = LookupSpec.from_dict(manifest)
    if not isinstance(store, EmbeddingStore):
        store = open_store(store or os.environ.get(STORE_ENV) or spec.store)
    return LookupEvaluator(evaluator, spec, store, repo=repo, on_fallback=on_fallback)


def attach(evaluator: Evaluator, extra: Mapping[str, Any], *, repo: str | None = None,
           on_fallback: OnFallback | None = None) -> Evaluator | LookupEvaluator:
    """The evaluator unchanged when its manifest declares no lookups, else wrapped (server hook)."""
    if not extra.get("lookups"):
        return evaluator
    return with_lookups(evaluator, extra, repo=repo, on_fallback=on_fallback)
