"""Where a backend is known to answer differently from PMML 4.4 and JPMML-Evaluator, found from the document.

One table of known differences, read by the facade at load (``backend="pypmml"`` warns
naming each one) and by ``pmmlkit diff`` and the agreement suite (which report them), so
that a backend never hands back a different answer in silence.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from xml.etree.ElementTree import Element

import numpy as np

from ..pmml.fields import local


@dataclass(frozen=True)
class KnownDifference:
    """Where in a document ``backend`` answers differently (first place, how many more), and why."""

    backend: str
    element: str
    path: str
    reason: str
    more: int = 0  # further places of the same kind (a forest has one per split)

    def __str__(self) -> str:
        where = self.path + (f" (and {self.more} more)" if self.more else "")
        return f"{self.backend} differs at {where}: {self.reason}"


# (backend, element) -> (does this element trigger it, given every field's dataType?, why and where)
_Rule = tuple[Callable[[Element, dict[str, str]], bool], str]
RULES: dict[tuple[str, str], _Rule] = {
    ("pypmml", "TreeModel"): (
        lambda el, types: el.get("missingValueStrategy") == "nullPrediction",
        "on rows where a split field is missing, PMML4S answers the score of the node reached so far, "
        "where PMML 4.4 and JPMML return no prediction (missingValueStrategy=\"nullPrediction\")"),
    ("pypmml", "RegressionModel"): (
        lambda el, types: el.get("normalizationMethod") == "softmax",
        "PMML4S computes the softmax without subtracting the largest value, so exp() overflows "
        "on extreme inputs (|logit| > ~709): it answers NaN probabilities and the first class"),
    ("pypmml", "SimplePredicate"): (
        lambda el, types: types.get(el.get("field", "")) == "float" and not _is_float32(el.get("value")),
        "a split compares a dataType=\"float\" field with a threshold that is not a 32-bit float; "
        "PMML and JPMML round the threshold to float, PMML4S keeps it a double, so a value that rounds "
        "to the threshold goes the other way"),
    ("pypmml", "NearestNeighborModel"): (
        lambda el, types: True,
        "on rows with a missing input, PMML4S answers no prediction where JPMML measures distances "
        "over the fields that are present"),
    ("pypmml", "SupportVectorMachineModel"): (
        lambda el, types: True,
        "on rows with a missing input, JPMML refuses the row with an error where PMML4S answers "
        "no prediction and no error"),
    ("pypmml", "*"): (  # any element: XGBoost and LightGBM put it on MiningModel and TreeModel
        lambda el, types: el.get("x-mathContext") == "float",
        "PMML4S ignores x-mathContext=\"float\" and computes in double precision where JPMML rounds "
        "to float as the producer did: results differ by about 1e-7 relative"),
}


def known_differences(root: Element, backend: str) -> list[KnownDifference]:
    """Every known difference of ``backend`` that this document triggers, in document order."""
    types = _field_types(root)
    places: dict[tuple[str, str], list[tuple[str, str]]] = {}  # rule -> (element, path) where it applies
    for el, path in _walk(root, local(root.tag)):
        for key in ((backend, local(el.tag)), (backend, "*")):
            rule = RULES.get(key)
            if rule is not None and rule[0](el, types):
                places.setdefault(key, []).append((local(el.tag), path))
    return [KnownDifference(backend, where[0][0], where[0][1], RULES[key][1], len(where) - 1)
            for key, where in places.items()]


def _field_types(root: Element) -> dict[str, str]:
    """dataType of every DataField and DerivedField, wherever it is declared."""
    return {el.get("name", ""): el.get("dataType", "")
            for el in root.iter() if isinstance(el.tag, str) and local(el.tag) in ("DataField", "DerivedField")}


def _is_float32(text: str | None) -> bool:
    """True when the number ``text`` is exactly a 32-bit float (then both comparisons agree)."""
    try:
        value = float(text or "")
    except ValueError:
        return True  # not a number: no threshold to round
    with np.errstate(over="ignore"):
        return float(np.float32(value)) == value


_NUMBERED = ("Segment", "Node")  # repeated siblings that a path must tell apart


def _walk(el: Element, path: str):
    """Elements with a readable path (``PMML/MiningModel/Segmentation/Segment[2]/TreeModel``)."""
    stack = [(el, path)]
    while stack:  # iterative: a deep document must not hit the recursion limit
        node, where = stack.pop()
        yield node, where
        counts: dict[str, int] = {}
        kids = []
        for c in node:
            if not isinstance(c.tag, str):
                continue
            name = local(c.tag)
            counts[name] = counts.get(name, 0) + 1
            kids.append((c, f"{where}/{name}" + (f"[{counts[name]}]" if name in _NUMBERED else "")))
        stack.extend(reversed(kids))
