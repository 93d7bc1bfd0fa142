"""Per-row explanations of the native backend: one explainer per kind of model element.

``explain(backend, columns, n_rows, background, n_background)`` picks it by the document's
model element: trees and ensembles (trees.py), linear models (linear.py), scorecards
(scorecard.py). Each returns an ``Explanation`` whose contributions add up to the raw score.
"""
from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any

import numpy as np

from ....errors import ExplanationError
from ....pmml.fields import local, model_element
from .base import Explanation

if TYPE_CHECKING:
    from ..backend import NativeBackend

__all__ = ["Explanation", "ExplanationError", "explain", "EXPLAINERS"]

#: model element -> (module of this package, function); imported on first use
EXPLAINERS: dict[str, tuple[str, str]] = {
    "TreeModel": ("trees", "explain_trees"),
    "MiningModel": ("trees", "explain_trees"),
    "RegressionModel": ("linear", "explain_linear"),
    "GeneralRegressionModel": ("linear", "explain_linear"),
    "Scorecard": ("scorecard", "explain_scorecard"),
}


def explain(backend: NativeBackend, columns: dict[str, np.ndarray], n_rows: int,
            background: dict[str, np.ndarray] | None, n_background: int) -> Explanation:
    """Contributions of every input field to the raw score of each row (typed columns, as evaluate takes)."""
    if getattr(backend, "name", None) != "native":
        raise ExplanationError(f"explanations are computed by the native backend only; this evaluator uses "
                               f"{getattr(backend, 'name', type(backend).__name__)}: load with backend='native'")
    element = local(model_element(backend.doc.root).tag)
    fn = _explainer(element)
    if element == "Scorecard":  # a scorecard's baseline is its own initialScore: no background
        found: Explanation = fn(backend, columns, n_rows)
    else:
        found = fn(backend, columns, n_rows, background, n_background)
    return found


@functools.cache  # a failed look-up raises, so only found explainers are kept
def _explainer(element: str) -> Any:
    where = EXPLAINERS.get(element)
    if where is None:
        raise ExplanationError(f"explanations cover {sorted(EXPLAINERS)}; this document's model is a {element}")
    module, name = where
    try:
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    except (ImportError, AttributeError):  # the explainer of that element is not built (yet)
        raise ExplanationError(f"explaining a {element} is not available in this build of pmmlkit "
                               f"({__name__}.{module}.{name} is missing)") from None
