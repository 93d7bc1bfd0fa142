"""Rows that probe a model's edges, generated from the document alone (``pmmlkit diff MODEL``).

For each input field: every valid category, interval and outlier bounds, both sides of
every split threshold the document tests the field against (as float32 neighbours where
the field, or the derived field a split reads, is ``float``), missing and invalid values,
and a few random values. Rows vary one field at a time from a base row, then mix fields
at random (seeded), so splits deeper in a tree are reached too. Comparing backends on
these rows (agreement.compare) checks a document before any data exists.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np
import pandas as pd

from ..pmml.fields import NUMERIC_TYPES as NUMERIC
from ..pmml.fields import InputField, children, is_number, local
from ..pmml.loader import PmmlDocument

INVALID_TEXT = "<pmmlkit probe: not a category>"
MAX_VALUES_PER_FIELD = 200  # a field with 50,000 categories gets a sample of them


@dataclass
class _Edges:
    """What the document says about one input field, beyond its DataField."""

    thresholds: list[tuple[float, str]] = field(default_factory=list)  # (value, dataType it is compared in)
    texts: list[str] = field(default_factory=list)                      # values it is compared with as text


def probe_rows(doc: PmmlDocument, *, mixes: int = 200, seed: int = 0, max_rows: int = 20_000) -> pd.DataFrame:
    """Input rows that exercise the edges of ``doc``: one column per input field, raw values."""
    rng = np.random.default_rng(seed)
    edges = _edges(doc.root, doc.schema.inputs)
    candidates = {f.name: _candidates(f, edges[f.name], rng) for f in doc.schema.inputs}
    base = {name: (valid[len(valid) // 2] if valid else None) for name, (valid, _) in candidates.items()}
    rows = [dict(base)]
    for name, (valid, odd) in candidates.items():
        for value in [*valid, *odd]:
            rows.append({**base, name: value})
    for _ in range(mixes):
        rows.append({name: _pick(valid, odd, rng) for name, (valid, odd) in candidates.items()})
    frame = pd.DataFrame(rows[:max_rows], columns=list(candidates), dtype=object)
    return frame.drop_duplicates(ignore_index=True) if len(frame.columns) else frame


def _pick(valid: list[Any], odd: list[Any], rng: np.random.Generator) -> Any:
    """Mostly a valid value, sometimes a missing or invalid one."""
    pool = odd if odd and (not valid or rng.random() < 0.1) else valid
    return pool[int(rng.integers(len(pool)))] if pool else None


def _candidates(f: InputField, edges: _Edges, rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    """(valid values, missing and invalid values) to try for one field."""
    odd: list[Any] = [None, *f.missing_values, *f.invalid_values]
    if f.data_type == "boolean":
        return [True, False], [*odd, "maybe"]
    if f.values:
        valid = _sample(list(f.values), rng)
        return valid + [t for t in edges.texts if t not in f.values], [*odd, _not_a_category(f)]
    if f.data_type in NUMERIC:
        valid, outside = _numbers(f, edges, rng)
        return valid, [*odd, *outside]
    return _unique([*edges.texts, "pmmlkit-probe"]), [*odd, ""]


def _not_a_category(f: InputField) -> Any:
    if f.data_type not in NUMERIC:
        return INVALID_TEXT
    numbers = [float(v) for v in f.values if is_number(v)]
    return (max(numbers) + 1 if numbers else 0) if f.data_type == "integer" else math.pi * 1e6


def _numbers(f: InputField, edges: _Edges, rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    points: list[float] = []
    for value, compared_as in edges.thresholds:
        points += _around(value, compared_as)
    for bound in (f.low_value, f.high_value):
        if bound is not None:
            points += _around(bound, f.data_type)
    outside: list[float] = []
    for iv in f.intervals:
        for bound, away in ((iv.left, -1.0), (iv.right, 1.0)):
            if bound is not None:
                points += _around(bound, f.data_type)
                outside.append(bound + away * max(1.0, abs(bound)))
    points += _random(points, rng)
    if f.data_type == "integer":
        points = [float(math.floor(p)) for p in points] + [float(math.ceil(p)) for p in points]
    valid = [p for p in _unique(points) if not f.intervals or any(iv.contains(p) for iv in f.intervals)]
    invalid = [p for p in _unique(points) if p not in valid]
    return _sample(sorted(valid) or [0.0], rng), _unique(outside + invalid)[:MAX_VALUES_PER_FIELD]


def _around(value: float, compared_as: str) -> list[float]:
    """A value and its nearest neighbours below and above, in the precision it is compared in."""
    if not math.isfinite(value):
        return []
    if compared_as == "float":
        v32 = np.float32(value)
        return [value, *(float(x) for x in (v32, np.nextafter(v32, np.float32(-np.inf)),
                                             np.nextafter(v32, np.float32(np.inf))))]
    if compared_as == "integer":
        return [value - 1, value, value + 1]
    return [value, float(np.nextafter(value, -np.inf)), float(np.nextafter(value, np.inf))]


def _random(points: list[float], rng: np.random.Generator, n: int = 3) -> list[float]:
    lo, hi = (min(points), max(points)) if points else (-10.0, 10.0)
    spread = max(hi - lo, 1.0)
    return [float(x) for x in rng.uniform(lo - spread / 2, hi + spread / 2, n)]


def _sample(values: list[Any], rng: np.random.Generator) -> list[Any]:
    if len(values) <= MAX_VALUES_PER_FIELD:
        return values
    keep = sorted(rng.choice(len(values), MAX_VALUES_PER_FIELD - 2, replace=False))
    return [values[0], *(values[i] for i in keep), values[-1]]


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


# --- reading the document's split points ---------------------------------------------------

def _edges(root: Element, inputs: tuple[InputField, ...]) -> dict[str, _Edges]:
    """Thresholds and texts the document compares each input with, through FieldRef chains."""
    names = {f.name for f in inputs}
    types = {f.name: f.data_type for f in inputs}
    aliases = _aliases(root, names, types)  # derived field -> (input it copies, its own dataType)
    found: dict[str, _Edges] = defaultdict(_Edges)
    for el in root.iter():
        tag = local(el.tag) if isinstance(el.tag, str) else ""
        ref = el.get("field")
        if tag not in ("SimplePredicate", "SimpleSetPredicate") or ref not in aliases:
            continue
        source, compared_as = aliases[ref]
        if tag == "SimplePredicate" and el.get("value") is not None:
            _note(found[source], el.get("value", ""), compared_as)
        for array in children(el, "Array"):
            for text in _array_values(array.text or ""):
                _note(found[source], text, compared_as)
    return {f.name: found[f.name] for f in inputs}


def _note(edges: _Edges, text: str, compared_as: str) -> None:
    if compared_as in NUMERIC and is_number(text):
        edges.thresholds.append((float(text), compared_as))
    else:
        edges.texts.append(text)


def _aliases(root: Element, names: set[str], types: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Every field name that stands for an input: the input itself, or a DerivedField that is a FieldRef."""
    aliases = {n: (n, types[n]) for n in names}
    derived = [el for el in root.iter() if isinstance(el.tag, str) and local(el.tag) == "DerivedField"]
    changed = True
    while changed:  # chains of FieldRefs, in any order of declaration
        changed = False
        for el in derived:
            refs = [c for c in el if isinstance(c.tag, str) and local(c.tag) == "FieldRef"]
            name, ref = el.get("name", ""), refs[0].get("field", "") if len(refs) == 1 else ""
            if ref in aliases and name not in aliases:
                source = aliases[ref][0]
                aliases[name] = (source, el.get("dataType", types[source]))
                changed = True
    return aliases


def _array_values(text: str) -> list[str]:
    """The values of a PMML Array: space-separated, double-quoted when they hold spaces."""
    import shlex

    try:
        return shlex.split(text)
    except ValueError:
        return text.split()
