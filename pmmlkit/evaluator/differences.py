"""Where a backend is known to answer differently from PMML 4.4 and JPMML-Evaluator, found from the document.

One table of known differences, read by the facade at load (``backend="pypmml"`` warns
naming each one) and by ``pmmlkit diff`` and the agreement suite (which report them), so
that a backend never hands back a different answer in silence.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from ..pmml.fields import children, local, to_float32, typed_value


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


@dataclass(frozen=True)
class _Fields:
    """What a rule may need to know about the document's fields, read once per document."""

    types: dict[str, str]  # dataType of every DataField and DerivedField
    valid: dict[str, frozenset[Any]]  # DataField -> its valid values (typed), when it lists them


# (backend, element) -> (does this element trigger it, given the document's fields?, why and where)
_Rule = tuple[Callable[[Element, _Fields], bool], str]
RULES: dict[tuple[str, str], _Rule] = {
    ("pypmml", "TreeModel"): (
        lambda el, fields: el.get("missingValueStrategy") == "nullPrediction",
        "on rows where a split field is missing, PMML4S answers the score of the node reached so far, "
        "where PMML 4.4 and JPMML return no prediction (missingValueStrategy=\"nullPrediction\")"),
    ("pypmml", "RegressionModel"): (
        lambda el, fields: el.get("normalizationMethod") == "softmax",
        "PMML4S computes the softmax without subtracting the largest value, so exp() overflows "
        "on extreme inputs (|logit| > ~709): it answers NaN probabilities and the first class"),
    ("pypmml", "SimplePredicate"): (
        lambda el, fields: fields.types.get(el.get("field", "")) == "float" and not _is_float32(el.get("value")),
        "a split compares a dataType=\"float\" field with a threshold that is not a 32-bit float; "
        "PMML and JPMML round the threshold to float, PMML4S keeps it a double, so a value that rounds "
        "to the threshold goes the other way"),
    ("pypmml", "NearestNeighborModel"): (
        lambda el, fields: True,
        "on rows with a missing input, PMML4S answers no prediction where JPMML measures distances "
        "over the fields that are present"),
    ("pypmml", "SupportVectorMachineModel"): (
        lambda el, fields: True,
        "on rows with a missing input, JPMML refuses the row with an error where PMML4S answers "
        "no prediction and no error"),
    ("pypmml", "*"): (  # any element: XGBoost and LightGBM put it on MiningModel and TreeModel
        lambda el, fields: el.get("x-mathContext") == "float",
        "PMML4S ignores x-mathContext=\"float\" and computes in double precision where JPMML rounds "
        "to float as the producer did: results differ by about 1e-7 relative"),
    # The four below were found by the conformance suite (tests/conformance) on real producers.
    ("pypmml", "GeneralRegressionModel"): (
        lambda el, fields: bool(_factors_that_can_be_missing(el)),
        "on rows where a factor (categorical predictor) is missing, PMML4S answers a number (it "
        "leaves the factor's terms out) where PMML 4.4 and JPMML answer no prediction"),
    ("pypmml", "Apply"): (
        lambda el, fields: el.get("function") == "/" and _is_constant_zero(_arguments(el)[1:2]),
        "a derived field divides by the constant 0 (Spark's MinMaxScaler of a constant column "
        "writes this): JPMML answers infinity for x/0 and rejects the row for 0/0 (Function \"/\" "
        "returned invalid value), where PMML4S answers NaN without an error"),
    ("pypmml", "TextIndexNormalization"): (
        lambda el, fields: True,
        "performance: PMML4S is very slow on TextIndexNormalization: most texts take milliseconds, "
        "but on some it runs for more than 15 s a row or does not finish (Spark's stop-word "
        "normalization, text 'price bad good'), so a call without a timeout may hang and one with a "
        "timeout raises EvaluationTimeout where JPMML answers at once"),
    ("pypmml", "MiningField"): (
        lambda el, fields: _replacement_is_invalid(el, fields),
        "the missingValueReplacement is not a valid value of its field (sklearn's SimpleImputer "
        "fill_value=\"none\"): on rows where the field is missing, PMML4S takes the replacement for an "
        "invalid value, and a model such as LightGBM's MiningModel then answers no prediction where "
        "JPMML answers with the replacement"),
    ("pypmml", "Scorecard"): (  # found comparing the native Scorecard (tests/evaluator/test_scorecard.py)
        lambda el, fields: el.get("useReasonCodes", "true") == "true",
        "PMML4S ranks a Scorecard's reason codes otherwise: it leaves out codes with 0 points (PMML and "
        "JPMML keep every code with points >= 0), and a reasonCode output of a rank past the last code "
        "repeats the last one where JPMML answers missing"),
}


def known_differences(root: Element, backend: str) -> list[KnownDifference]:
    """Every known difference of ``backend`` that this document triggers, in document order."""
    if not any(b == backend for b, _ in RULES):  # native, jpmml: no walk over a big document
        return []
    fields = _fields(root)
    places: dict[tuple[str, str], list[tuple[str, str]]] = {}  # rule -> (element, path) where it applies
    for el, path in _walk(root, local(root.tag)):
        for key in ((backend, local(el.tag)), (backend, "*")):
            rule = RULES.get(key)
            if rule is not None and rule[0](el, fields):
                places.setdefault(key, []).append((local(el.tag), path))
    return [KnownDifference(backend, where[0][0], where[0][1], RULES[key][1], len(where) - 1)
            for key, where in places.items()]


def _fields(root: Element) -> _Fields:
    """dataType of every DataField and DerivedField, wherever it is declared; valid values of DataFields."""
    declared = [el for el in root.iter()
                if isinstance(el.tag, str) and local(el.tag) in ("DataField", "DerivedField")]
    types = {el.get("name", ""): el.get("dataType", "") for el in declared}
    valid: dict[str, frozenset[Any]] = {}
    for el in (el for el in declared if local(el.tag) == "DataField"):
        name = el.get("name", "")
        values = [v.get("value", "") for v in children(el, "Value") if v.get("property", "valid") == "valid"]
        if values:  # no valid Value listed: every value of the type is valid
            valid[name] = frozenset(typed_value(v, types[name]) for v in values)
    return _Fields(types, valid)


def _factors_that_can_be_missing(model: Element) -> list[str]:
    """Factors of a GeneralRegressionModel that may reach it missing: no missingValueReplacement.

    A factor computed by a DerivedField counts: it is missing when its inputs are.
    """
    replaced = {mf.get("name") for schema in children(model, "MiningSchema")
                for mf in children(schema, "MiningField") if mf.get("missingValueReplacement") is not None}
    return [p.get("name", "") for factors in children(model, "FactorList")
            for p in children(factors, "Predictor") if p.get("name") not in replaced]


def _arguments(apply: Element) -> list[Element]:
    """The argument expressions of an Apply (its Extensions are not arguments)."""
    return [c for c in apply if isinstance(c.tag, str) and local(c.tag) != "Extension"]


def _is_constant_zero(args: list[Element]) -> bool:
    """True when ``args`` is one <Constant> whose number is 0 (0, 0.0, -0.0, 0E0...)."""
    if len(args) != 1 or local(args[0].tag) != "Constant":
        return False
    try:
        return float((args[0].text or "").strip()) == 0.0
    except ValueError:
        return False


def _replacement_is_invalid(mining_field: Element, fields: _Fields) -> bool:
    """True when a MiningField's missingValueReplacement is not among its field's valid values."""
    replacement = mining_field.get("missingValueReplacement")
    valid = fields.valid.get(mining_field.get("name", ""))
    if replacement is None or valid is None:
        return False  # no replacement, or a field with no closed list of values
    return typed_value(replacement, fields.types.get(mining_field.get("name", ""), "")) not in valid


def _is_float32(text: str | None) -> bool:
    """True when the number ``text`` is exactly a 32-bit float (then both comparisons agree)."""
    try:
        value = float(text or "")
    except ValueError:
        return True  # not a number: no threshold to round
    return to_float32(value) == value


_NUMBERED = ("Segment", "Node")  # repeated siblings that a path must tell apart


def _walk(el: Element, path: str) -> Iterator[tuple[Element, str]]:
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
