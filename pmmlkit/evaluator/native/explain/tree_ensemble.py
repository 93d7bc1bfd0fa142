"""Which trees a tree model or ensemble adds up: its raw score as ``constant + sum of w_t * tree_t(x)``.

Every shape explained here is linear in its trees' leaf values, so exact TreeSHAP of each
tree, weighted, is exact for the whole: a tree's value (regression), its probability of
the positive class (classification), or its vote for it (majorityVote); sums, averages
and weighted ones of those; a regression's Targets rescale; and the model chains
sklearn2pmml (GradientBoosting, XGBoost, LightGBM) and JPMML-SparkML (GBTClassifier)
write, whose last segment is a RegressionModel over the summed trees: its value before the
link (the margin, e.g. log-odds) is what is explained. Anything else is refused by name.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

from ....errors import ExplanationError
from ....pmml.fields import MODEL_ELEMENTS, child, children, local
from ..compile import target_of
from ..elements.mining import treats
from ..predicates import predicate_element
from .inputs import binary_classes, target_rescale, top_model

if TYPE_CHECKING:
    from ..backend import NativeBackend

LINEAR_METHODS = ("sum", "weightedSum", "average", "weightedAverage")
VOTES = ("majorityVote", "weightedMajorityVote")
SYMMETRIC_LINKS = ("logit", "probit", "cauchit")  # link(1 - p) == -link(p): the other class is the negation


@dataclass(frozen=True)
class TreeTerm:
    model: Element               # the TreeModel
    path: str                    # where it is, for messages
    scopes: tuple[Element, ...]  # the model elements around it, outermost first, the TreeModel last
    weight: float
    leaf: str                    # "value", or "probability" / "vote" of the positive class


@dataclass(frozen=True)
class TreeSum:
    constant: float
    terms: tuple[TreeTerm, ...]

    def scaled(self, factor: float, constant: float = 0.0) -> TreeSum:
        return TreeSum(self.constant * factor + constant,
                       tuple(replace(t, weight=t.weight * factor) for t in self.terms))

    def plus(self, other: TreeSum) -> TreeSum:
        return TreeSum(self.constant + other.constant, self.terms + other.terms)


@dataclass(frozen=True)
class Ensemble:
    of: str                       # what the raw score is, in words
    form: TreeSum
    is_positive: Callable[[str], bool] | None  # classification: is this label the explained class


def ensemble_of(backend: NativeBackend) -> Ensemble:
    """The document's model as a weighted sum of trees, or ExplanationError saying what is not one."""
    model = top_model(backend)
    name, target = local(model.tag), target_of(model) or "the target"
    if backend._ctx.types.get(target) == "integer" and model.get("functionName") == "regression":
        raise ExplanationError(f"the {name} predicts the integer field {target!r}: rounding the prediction is "
                               "not linear, so no contributions add up to it exactly")
    if model.get("functionName") == "regression":
        return Ensemble(f"predicted {target}", _model(model, f"PMML/{name}", (), None), None)
    if model.get("functionName") != "classification":
        raise ExplanationError(f"explain supports regression and binary classification trees; this {name} has "
                               f"functionName={model.get('functionName')!r}")
    negative, positive = binary_classes(backend, ())
    is_positive = _matcher(negative, positive, backend._ctx.is_numeric(target), target)
    form = _model(model, f"PMML/{name}", (), is_positive)
    seg = child(model, "Segmentation")
    if _chained(model) and seg is not None:
        link = model_of(children(seg, "Segment")[-1]).get("normalizationMethod", "none")
        of = f"log-odds of {target}={positive}" if link in ("logit", "softmax") else \
            f"{link} margin of {target}={positive}"
    elif any(t.leaf == "vote" for t in form.terms):
        of = f"share of the trees' votes for {target}={positive}"
    else:
        of = f"probability of {target}={positive}"
    return Ensemble(of, form, is_positive)


def _matcher(negative: str, positive: str, numeric: bool, target: str) -> Callable[[str], bool]:
    """Whether a label names the positive class; a label of neither class is refused (it would count as 0)."""
    def key(label: str) -> object:
        try:  # "1" and "1.0" name the same class of a numeric target
            return float(label) if numeric else label
        except ValueError:
            return label
    pos, neg = key(positive), key(negative)

    def is_positive(label: str) -> bool:
        k = key(label)
        if k != pos and k != neg:
            raise ExplanationError(f"a tree predicts {target}={label!r}, which is neither of the target's two "
                                   f"classes {[negative, positive]}")
        return k == pos
    return is_positive


def model_of(segment: Element) -> Element:
    found = next((c for c in segment if local(c.tag) in MODEL_ELEMENTS), None)
    if found is None:
        raise ExplanationError("a Segment without a model element cannot be explained")
    return found


def _chained(model: Element) -> bool:
    seg = child(model, "Segmentation")
    return local(model.tag) == "MiningModel" and seg is not None and seg.get("multipleModelMethod") == "modelChain"


def _model(model: Element, path: str, scopes: tuple[Element, ...], is_positive: Callable[[str], bool] | None
           ) -> TreeSum:
    name, scopes = local(model.tag), (*scopes, model)
    classification = model.get("functionName") == "classification"
    if name == "TreeModel":
        form = TreeSum(0.0, (TreeTerm(model, path, scopes, 1.0, "probability" if classification else "value"),))
    elif name == "MiningModel":
        form = _mining(model, path, scopes, is_positive)
    else:
        raise ExplanationError(f"{path}: a {name} inside a tree ensemble is not a tree; TreeSHAP explains "
                               "TreeModels and MiningModels of them (sum, average, vote, modelChain)")
    return _rescaled(model, path, form)


def _rescaled(model: Element, path: str, form: TreeSum) -> TreeSum:
    """A model's Targets: a regression's rescale is linear; clamping, rounding or defaults are not."""
    targets = child(model, "Targets")
    if targets is None or not children(targets, "Target"):
        return form
    if model.get("functionName") != "regression":
        raise ExplanationError(f"{path}/Targets/Target of a classification: not a linear rescale of the trees' "
                               "sum, so no contributions add up to it exactly")
    return form.scaled(*target_rescale(model, f"{path}/Targets/Target", values_too=True))


def _segments(model: Element, path: str) -> tuple[str, list[Element]]:
    seg = child(model, "Segmentation")
    if seg is None:
        raise ExplanationError(f"{path}: a MiningModel without Segmentation")
    segments = children(seg, "Segment")
    for i, s in enumerate(segments):
        pred = predicate_element(s)
        if pred is not None and local(pred.tag) != "True":
            raise ExplanationError(f"{path}/Segmentation/Segment[{i + 1}] is selected by a {local(pred.tag)}: only "
                                   "segments that always apply (<True/>) add up linearly; TreeSHAP refuses the rest")
    return seg.get("multipleModelMethod", ""), segments


def _mining(model: Element, path: str, scopes: tuple[Element, ...],
            is_positive: Callable[[str], bool] | None) -> TreeSum:
    method, segments = _segments(model, path)
    where = [f"{path}/Segmentation/Segment[{i + 1}]" for i in range(len(segments))]
    if method == "modelChain":
        return _chain(segments, where, scopes, is_positive)
    weights = [float(s.get("weight", "1")) if method.startswith("weighted") else 1.0 for s in segments]
    total = sum(weights) if method in ("average", "weightedAverage", *VOTES) else 1.0
    if method in LINEAR_METHODS:
        out = TreeSum(0.0, ())
        for s, w, at in zip(segments, weights, where):
            inner = model_of(s)
            out = out.plus(_model(inner, f"{at}/{local(inner.tag)}", scopes, is_positive).scaled(w / total))
        return out
    if method in VOTES:
        terms = []
        for s, w, at in zip(segments, weights, where):
            tree = model_of(s)
            if local(tree.tag) != "TreeModel" or tree.get("functionName") != "classification":
                raise ExplanationError(f"{at}: a {local(tree.tag)} in a {method}; TreeSHAP explains votes of "
                                       "classification TreeModels")
            terms.append(TreeTerm(tree, f"{at}/TreeModel", (*scopes, tree), w / total, "vote"))
        return TreeSum(0.0, tuple(terms))
    raise ExplanationError(f"{path}/Segmentation multipleModelMethod={method!r} does not add its trees up "
                           f"linearly; TreeSHAP explains {', '.join(LINEAR_METHODS + VOTES)} and modelChain")


def _chain(segments: list[Element], where: list[str], scopes: tuple[Element, ...],
           is_positive: Callable[[str], bool] | None) -> TreeSum:
    """Tree segments publishing their predictions, then a RegressionModel over them (the link's input)."""
    outputs: dict[str, TreeSum] = {}
    for s, at in zip(segments[:-1], where):
        inner = model_of(s)
        if inner.get("functionName") != "regression":
            raise ExplanationError(f"{at}: a {inner.get('functionName')} {local(inner.tag)} inside a modelChain; "
                                   "TreeSHAP explains chains of regression trees feeding one RegressionModel")
        form = _model(inner, f"{at}/{local(inner.tag)}", scopes, is_positive)
        out = child(inner, "Output")
        for of in children(out, "OutputField") if out is not None else []:
            if of.get("feature", "predictedValue") == "predictedValue" and not list(of):
                outputs[of.get("name", "")] = form
    last = model_of(segments[-1])
    at = f"{where[-1]}/{local(last.tag)}"
    if local(last.tag) != "RegressionModel":
        raise ExplanationError(f"{at}: a modelChain ending in a {local(last.tag)}; TreeSHAP explains chains "
                               "that end in a RegressionModel over the trees' predictions")
    ms = child(last, "MiningSchema")
    if any(treats(mf) for mf in (children(ms, "MiningField") if ms is not None else [])):
        raise ExplanationError(f"{at}/MiningSchema replaces missing or outlying predictions of the trees: "
                               "not linear, so no contributions add up to it exactly")
    tables = children(last, "RegressionTable")
    values = [_table(t, outputs, f"{at}/RegressionTable[{i + 1}]") for i, t in enumerate(tables)]
    method = last.get("normalizationMethod", "none")
    if last.get("functionName") == "regression":
        if method != "none" or len(values) != 1:
            raise ExplanationError(f"{at}: normalizationMethod={method!r} is not linear")
        return _rescaled(last, at, values[0])
    assert is_positive is not None  # a classification chain inside a regression model is refused by compile
    first = [is_positive(t.get("targetCategory", "")) for t in tables]
    if len(tables) != 2 or sum(first) != 1:
        raise ExplanationError(f"{at}: {len(tables)} RegressionTables for categories "
                               f"{[t.get('targetCategory') for t in tables]}; explain needs the two classes")
    if method == "softmax":  # log-odds: the positive table's value minus the negative one's
        pos, neg = (values[0], values[1]) if first[0] else (values[1], values[0])
        return pos.plus(neg.scaled(-1.0))
    if method in SYMMETRIC_LINKS:  # only the first table counts; the other class is its negation
        return values[0] if first[0] else values[0].scaled(-1.0)
    raise ExplanationError(f"{at}: normalizationMethod={method!r}; TreeSHAP explains the margin of logit, probit, "
                           "cauchit and softmax chains")


def _table(table: Element, outputs: dict[str, TreeSum], path: str) -> TreeSum:
    out = TreeSum(float(table.get("intercept", "0")), ())
    for c in table:
        kind, name = local(c.tag), c.get("name", "")
        if kind == "Extension":
            continue
        if kind != "NumericPredictor" or name not in outputs or float(c.get("exponent", "1")) != 1.0:
            raise ExplanationError(f"{path}/{kind}[@name={name!r}]: the chain's last model may only add up the "
                                   "trees' predictions (NumericPredictor, exponent 1); this term is not one")
        out = out.plus(outputs[name].scaled(float(c.get("coefficient", "0"))))
    return out
