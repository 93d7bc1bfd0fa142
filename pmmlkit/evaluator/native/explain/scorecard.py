"""A Scorecard explains itself: its score is initialScore plus one partial score per Characteristic.

No background is needed. ``base`` is the initialScore (plus the partial score of any Characteristic
that reads no input field, which is the same for every row), each input field's contribution is
the partial score of the Characteristics over it, and ``reason_codes`` are the codes the Scorecard
ranks for the row (what its OutputFields feature="reasonCode" rank=1, 2... give). A Targets
rescale (linear) scales every part alike. A Characteristic over two or more input fields, or a
Target that clamps or rounds the score, cannot be split exactly: refused (ExplanationError).

Rows the Scorecard refuses (no matching Attribute, a missing ComplexPartialScore: the evaluator
reports their error) get NaN everywhere and no reason codes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import ExplanationError, RowEvaluationError
from ....pmml.fields import child, children, local
from ..compile import target_of
from ..context import Env
from ..elements.scorecard import fields_read
from ..result import ModelResult
from .base import Explanation
from .inputs import Sources, input_names, target_rescale, top_model

if TYPE_CHECKING:
    from ..backend import NativeBackend


class Parts:
    """What a Scorecard document says about its parts: whose each Characteristic is, and the Targets scale."""

    def __init__(self, backend: NativeBackend):
        model = top_model(backend)
        if local(model.tag) != "Scorecard":
            raise ExplanationError(f"explain_scorecard explains a Scorecard, not a {local(model.tag)}")
        self.target = target_of(model) or "score"
        sources = Sources(backend)
        self.owners = [_owner(c, i, sources) for i, c in enumerate(_characteristics(model))]
        self.factor, self.constant = _scale(model, self.target, backend._ctx.types.get(self.target, "double"))
        self.initial = float(model.get("initialScore", "0"))
        self.codes = model.get("useReasonCodes", "true") == "true"


_PARTS: WeakKeyDictionary[NativeBackend, Parts] = WeakKeyDictionary()


def explain_scorecard(backend: NativeBackend, columns: dict[str, np.ndarray], n_rows: int) -> Explanation:
    """Per-field partial scores, the initial score and the ranked reason codes of every row."""
    parts = _PARTS.get(backend)
    if parts is None:
        parts = _PARTS[backend] = Parts(backend)
    raw, partials, reasons = _score(backend, columns, n_rows, len(parts.owners))
    scale = parts.factor
    base = np.full(n_rows, parts.factor * parts.initial + parts.constant)
    contributions = {name: np.zeros(n_rows) for name in input_names(backend)}
    for c, owner in enumerate(parts.owners):
        if owner is None:
            base = base + scale * partials[:, c]
        else:
            contributions[owner] = contributions[owner] + scale * partials[:, c]
    failed = np.isnan(raw)
    if failed.any():  # a refused row has no score to explain: NaN parts, so no sum pretends otherwise
        base[failed] = np.nan
        for values in contributions.values():
            values[failed] = np.nan
    codes = [[c for c in row if c is not None] for row in reasons.tolist()] if parts.codes else None
    return Explanation(of=f"score of {parts.target}", base=base, raw=raw, contributions=contributions,
                       reason_codes=codes)


def _score(backend: NativeBackend, columns: dict[str, np.ndarray], n_rows: int,
           width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score, partial scores [rows, characteristics], reason codes [rows, ranks]) as the plan computes them.

    A batch with a refused row is scored row by row, the refused rows left NaN (no reason codes).
    """
    try:
        return _parts(_run(backend, columns, n_rows))
    except RowEvaluationError:
        pass  # some row is refused: find which, one row at a time
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = []
    for i in range(n_rows):
        try:
            rows.append(_parts(_run(backend, {k: v[i:i + 1] for k, v in columns.items()}, 1)))
        except RowEvaluationError:
            rows.append(None)
    ranks = max((r[2].shape[1] for r in rows if r is not None), default=0)
    raw, partials = np.full(n_rows, np.nan), np.full((n_rows, width), np.nan)
    reasons = np.full((n_rows, ranks), None, dtype=object)
    for i, r in enumerate(rows):
        if r is not None:
            raw[i], partials[i], reasons[i, :r[2].shape[1]] = r[0][0], r[1][0], r[2][0]
    return raw, partials, reasons


def _run(backend: NativeBackend, columns: dict[str, np.ndarray], n_rows: int) -> ModelResult:
    return backend._plan(Env(n_rows, dict(columns), backend._ctx, derived=backend._derived))


def _parts(result: ModelResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    assert result.value is not None and result.partials is not None  # what the Scorecard compiler returns
    n = len(result.value)
    reasons = result.reasons if result.reasons is not None else np.full((n, 0), None, dtype=object)
    return result.value, result.partials, reasons


def _characteristics(model: Element) -> list[Element]:
    found = child(model, "Characteristics")
    return children(found, "Characteristic") if found is not None else []


def _owner(characteristic: Element, index: int, sources: Sources) -> str | None:
    """The one input field a Characteristic reads (its predicates and ComplexPartialScores), None: none."""
    names = list(fields_read(characteristic))
    label = characteristic.get("name") or f"Characteristic[{index + 1}]"
    return sources.single(names, f"Characteristic {label!r}")


def _scale(model: Element, target: str, data_type: str) -> tuple[float, float]:
    """(rescaleFactor, rescaleConstant) of the Target; clamping, rounding or a float target is refused."""
    if data_type == "float":
        raise ExplanationError(f"the target {target!r} is a float: its score is rounded to 32 bits, so no parts "
                               "add up to it to 1e-9; declare it double")
    return target_rescale(model, repr(target))
