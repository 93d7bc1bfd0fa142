"""Scorecard: each Characteristic adds the partial score of its first matching Attribute; reason codes ranked.

As JPMML-Evaluator (ComplexScorecardEvaluator) and PMML 4.4 do:
- score = initialScore + the partial score of every Characteristic, summed in document order;
- a predicate that is unknown (a missing input) does not match: the next Attribute is tried, so a
  missing value scores through an ``isMissing`` (or ``True``) Attribute;
- a Characteristic with no matching Attribute makes the row's result invalid (the row is refused);
- so does a matching ComplexPartialScore that evaluates to a missing value (JPMML 1.7 refuses the
  row, whatever the Targets say);
- reason-code points: per Characteristic, baselineScore - partial (pointsBelow) or partial -
  baselineScore (pointsAbove), summed per reason code (an Attribute's reasonCode overrides its
  Characteristic's); codes with negative points are dropped, the rest ranked by points, highest
  first; equal points keep the order in which the codes were first met (Characteristic order).
baselineMethod only records how the baselines were chosen: it changes no result.
"""
from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import InvalidPmmlError, RowEvaluationError, UnsupportedElement
from ....pmml.fields import child, children, local
from ..compile import Core, OutputFn, register
from ..context import Ctx, Env, Expr
from ..expressions import compile_expression
from ..functions import subset_env
from ..predicates import compile_predicate, predicate_element
from ..result import ModelResult
from ..supported import parse_number


@dataclass(frozen=True)
class Attribute:
    predicate: Expr
    points: float | None        # partialScore, when there is no ComplexPartialScore
    complex: Expr | None        # ComplexPartialScore's expression (takes precedence)
    code: int                   # index of its reason code in Scorecard.codes (-1: none)


@dataclass(frozen=True)
class Characteristic:
    name: str
    path: str
    baseline: float
    attributes: tuple[Attribute, ...]
    fields: tuple[str, ...]     # what its predicates and expressions read, named in its errors


class Scorecard:
    """A compiled Scorecard: partial scores [rows, characteristics], the score and the ranked reason codes."""

    def __init__(self, model: Element, ctx: Ctx, path: str):
        self.path = path
        self.initial = _number(model, "initialScore", path, 0.0)
        self.use_codes = model.get("useReasonCodes", "true") == "true"
        self.below = model.get("reasonCodeAlgorithm", "pointsBelow") == "pointsBelow"
        self.codes: list[str] = []  # every reason code, in document order
        found = child(model, "Characteristics")
        chars = children(found, "Characteristic") if found is not None else []
        if not chars:
            raise InvalidPmmlError(f"the Scorecard at {path} has no Characteristic; it needs at least one")
        default = model.get("baselineScore")
        self.characteristics = tuple(self._characteristic(c, ctx, f"{path}/Characteristics/Characteristic[{i + 1}]",
                                                          default) for i, c in enumerate(chars))

    def _characteristic(self, el: Element, ctx: Ctx, path: str, default: str | None) -> Characteristic:
        baseline = el.get("baselineScore", default)
        if self.use_codes and baseline is None:
            raise InvalidPmmlError(f"Characteristic {el.get('name', '')!r} at {path} has no baselineScore, and "
                                   "neither has the Scorecard: useReasonCodes='true' needs one to rank reason codes")
        attrs = tuple(self._attribute(a, ctx, f"{path}/Attribute[{j + 1}]", el.get("reasonCode"))
                      for j, a in enumerate(children(el, "Attribute")))
        return Characteristic(el.get("name", f"Characteristic[{path}]"), path,
                              parse_number(baseline, "baselineScore", path) if baseline is not None else 0.0, attrs,
                              fields_read(el))

    def _attribute(self, el: Element, ctx: Ctx, path: str, char_code: str | None) -> Attribute:
        pred = predicate_element(el)
        if pred is None:
            raise InvalidPmmlError(f"the Attribute at {path} has no predicate; give it one (True for 'otherwise')")
        complex_el = child(el, "ComplexPartialScore")
        expr = None
        if complex_el is not None:
            inner = next((c for c in complex_el if local(c.tag) != "Extension"), None)
            if inner is None:
                raise InvalidPmmlError(f"the ComplexPartialScore at {path} has no expression")
            expr = compile_expression(inner, ctx, f"{path}/ComplexPartialScore")
        elif el.get("partialScore") is None:
            raise InvalidPmmlError(f"the Attribute at {path} has neither partialScore nor ComplexPartialScore; "
                                   "give it one of them")
        code = el.get("reasonCode", char_code)
        if self.use_codes and code is None:
            raise InvalidPmmlError(f"the Attribute at {path} has no reasonCode, and neither has its Characteristic: "
                                   "useReasonCodes='true' needs one")
        if code is not None and code not in self.codes:
            self.codes.append(code)
        points = _number(el, "partialScore", path) if expr is None else None
        index = self.codes.index(code) if code is not None else -1
        return Attribute(compile_predicate(pred, ctx, path), points, expr, index)

    def partials(self, env: Env) -> tuple[np.ndarray, np.ndarray]:
        """(partial scores [rows, characteristics], the matched Attribute of each [rows, characteristics]).

        A row fails where a Characteristic has no matching Attribute, or where the matching
        ComplexPartialScore is missing: JPMML-Evaluator refuses both (UndefinedResultException).
        """
        scores = np.full((env.n, len(self.characteristics)), np.nan)
        chosen = np.full((env.n, len(self.characteristics)), -1)
        for c, char in enumerate(self.characteristics):
            pick = chosen[:, c]
            for a, attr in enumerate(char.attributes):
                rows = (pick < 0) & (attr.predicate(env) == 1.0)  # NaN (unknown) does not match
                if rows.any():
                    pick[rows] = a
                    scores[rows, c] = attr.points if attr.complex is None else \
                        _as_points(attr.complex(env if rows.all() else subset_env(env, rows)))
                    if (pick >= 0).all():
                        break
            _check_rows(env, char, pick < 0, "no Attribute matches",
                        "give the Characteristic a last Attribute with <True/> to score every value")
            _check_rows(env, char, np.isnan(scores[:, c]), "the matching ComplexPartialScore is missing",
                        "give the row the values its expression reads")
        return scores, chosen

    def ranked_codes(self, scores: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """[rows, codes] reason codes best first, None past the last."""
        n, width = len(scores), len(self.codes)
        points, first = np.zeros((n, width)), np.full((n, width), len(self.characteristics))
        rows = np.arange(n)
        for c, char in enumerate(self.characteristics):
            code = np.array([a.code for a in char.attributes])[chosen[:, c]]
            base = char.baseline
            diff = base - scores[:, c] if self.below else scores[:, c] - base
            points[rows, code] += diff  # in Characteristic order, as JPMML adds them
            first[rows, code] = np.minimum(first[rows, code], c)
        keep = (first < len(self.characteristics)) & (points >= 0.0)  # negative points are no reason
        order = np.lexsort((first, np.where(keep, -points, np.inf)), axis=-1)
        names = np.array(self.codes + [None], dtype=object)
        ranked = np.where(np.take_along_axis(keep, order, axis=1), order, width)
        return names[ranked]

    def __call__(self, env: Env) -> ModelResult:
        scores, chosen = self.partials(env)
        value = np.full(env.n, self.initial)
        for c in range(scores.shape[1]):
            value = value + scores[:, c]  # one Characteristic at a time: JPMML's order of additions
        reasons = self.ranked_codes(scores, chosen) if self.use_codes else None
        return ModelResult(value=value, reasons=reasons, partials=scores)


def fields_read(characteristic: Element) -> tuple[str, ...]:
    """The fields a Characteristic's predicates and ComplexPartialScores read, in document order."""
    return tuple(dict.fromkeys(r for el in characteristic.iter() for k in ("field", "textField") if (r := el.get(k))))


def _check_rows(env: Env, char: Characteristic, bad: np.ndarray, what: str, fix: str) -> None:
    """Fail the ``bad`` rows, naming the Characteristic and the values of the first of them."""
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    values = ", ".join(f"{f}={_value(env, f, first)!r}" for f in char.fields)
    raise RowEvaluationError(f"Characteristic {char.name!r} at {char.path}: {what} for {values or 'this row'}, so "
                             "the Scorecard has no result (PMML: an invalid result; JPMML-Evaluator refuses the row "
                             f"too): {fix}", rows=bad)


def _value(env: Env, field: str, row: int) -> object:
    try:
        value = env.get(field)[row]
    except (KeyError, RowEvaluationError):  # a field only some rows can compute: the message does without it
        return "?"
    return None if value is None or value != value else value.item() if isinstance(value, np.generic) else value


def _as_points(col: np.ndarray) -> np.ndarray:
    if col.dtype == object:  # a string expression: JPMML reads it as a number (asDouble)
        return np.array([np.nan if v is None else float(v) for v in col])
    return col.astype(np.float64)


def _number(el: Element, attr: str, path: str, default: float | None = None) -> float:
    text = el.get(attr)
    if text is None:
        if default is None:
            raise InvalidPmmlError(f"{attr} is missing at {path}")
        return default
    return parse_number(text, attr, path)


def compile_scorecard(model: Element, ctx: Ctx, path: str) -> Core:
    return Scorecard(model, ctx, path)


def reason_code_output(of: Element, model: Element, path: str) -> OutputFn:
    """OutputField feature="reasonCode" rank=k: the k-th ranked reason code of a Scorecard (None past the last)."""
    text = of.get("rank", "1")
    rank = parse_number(text, "rank", path)
    if local(model.tag) != "Scorecard" or rank < 1 or rank != int(rank):
        raise UnsupportedElement(f"OutputField feature='reasonCode' rank={text!r} in a {local(model.tag)}", path,
                                 ["reasonCode with rank 1, 2... in a Scorecard"])
    if model.get("useReasonCodes", "true") != "true":
        raise InvalidPmmlError(f"OutputField feature='reasonCode' at {path} reads the reason codes of a Scorecard "
                               "with useReasonCodes='false', which has none; set useReasonCodes='true' or drop it")
    column = int(rank) - 1

    def reason(env: Env, r: ModelResult, target_type: str | None) -> np.ndarray:
        assert r.reasons is not None  # a Scorecard with useReasonCodes="true" ranks its codes
        if column >= r.reasons.shape[1]:
            return np.full(env.n, None, dtype=object)
        return r.reasons[:, column]
    return reason


register("Scorecard", compile_scorecard)

