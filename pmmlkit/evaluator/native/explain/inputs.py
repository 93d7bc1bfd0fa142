"""What every explainer needs from a compiled document: the model's own field environment,
which input fields a (derived) field reads, and which class a binary classifier explains.

A term or split is evaluated through the native compiler's own code (derived fields,
MiningSchema treatments, category codes), so what is explained is exactly what is scored.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import ExplanationError
from ....pmml.fields import child, children, local, model_element
from ..compile import derived_fields, mining_treatments, target_of
from ..context import Env

if TYPE_CHECKING:
    from ..backend import NativeBackend

#: how to give a background, said by every explainer that needs one and has none
HOW_TO_GIVE_BACKGROUND = ("give background rows: Evaluator.load(..., background=DataFrame or path), "
                          "Evaluator.set_background(df), or load a repository version published by "
                          "pmmlkit train (it carries background.parquet)")


def top_model(backend: NativeBackend) -> Element:
    return model_element(backend.doc.root)


def input_names(backend: NativeBackend) -> tuple[str, ...]:
    """The players: the model's input fields (MiningSchema active fields), in schema order."""
    return backend.schema.input_names


def need_background(background: Any, n_background: int, what: str) -> None:
    if background is None or n_background <= 0:
        raise ExplanationError(f"explaining a {what} needs background rows (the baseline is the mean "
                               f"score over them) and this evaluator has none: {HOW_TO_GIVE_BACKGROUND}")


class ModelEnv:
    """Builds, for given input columns, the Env the top model's element reads its fields from.

    The same steps as compile.compile_model: the TransformationDictionary, the model's
    MiningSchema treatments (missingValueReplacement, outliers), then its LocalTransformations.
    """

    def __init__(self, backend: NativeBackend):
        self.backend = backend
        model = top_model(backend)
        path = f"PMML/{local(model.tag)}"
        self.treatments = mining_treatments(model, backend._ctx)
        self.local = derived_fields(child(model, "LocalTransformations"), backend._ctx,
                                    f"{path}/LocalTransformations")

    def __call__(self, columns: dict[str, np.ndarray], n_rows: int) -> Env:
        ctx = self.backend._ctx
        env = Env(n_rows, dict(columns), ctx, derived=self.backend._derived)
        cols = {f: treat(env.get(f)) for f, treat in self.treatments}
        return Env(n_rows, cols, ctx, derived=self.local, parent=env) if cols or self.local else env


class Sources:
    """Which input fields a field name reads, through any chain of DerivedFields."""

    def __init__(self, backend: NativeBackend):
        root, model = backend.doc.root, top_model(backend)
        self.inputs = frozenset(input_names(backend))
        self.defs: dict[str, Element] = {}
        for parent in (child(root, "TransformationDictionary"), child(model, "LocalTransformations")):
            for df in children(parent, "DerivedField") if parent is not None else []:
                self.defs[df.get("name", "")] = df
        self._memo: dict[str, frozenset[str]] = {}

    def of(self, name: str) -> frozenset[str]:
        found = self._memo.get(name)
        if found is None:
            found = self._memo[name] = self._walk(name, frozenset())
        return found

    def _walk(self, name: str, seen: frozenset[str]) -> frozenset[str]:
        if name in self.inputs:
            return frozenset((name,))
        df = self.defs.get(name)
        if df is None or name in seen:
            return frozenset()  # a constant-free name the compiler resolved elsewhere (none reads inputs)
        refs = {r for el in df.iter() for attr in ("field", "textField") if (r := el.get(attr))}
        out: frozenset[str] = frozenset()
        for ref in refs:
            out |= self._walk(ref, seen | {name})
        return out

    def single(self, names: list[str], element: str) -> str | None:
        """The one input field ``names`` read together (None: none); two or more cannot be split exactly."""
        fields: set[str] = set()
        for n in names:
            fields |= self.of(n)
        if len(fields) > 1:
            raise ExplanationError(f"{element} depends on the input fields {sorted(fields)} together, so its "
                                   "share cannot be attributed to one field exactly; pmmlkit does not guess "
                                   "(explain a model without interaction terms)")
        return next(iter(fields), None)


def binary_classes(backend: NativeBackend, labels: tuple[str, ...]) -> tuple[str, str]:
    """(negative, positive): the positive class is the second of the target's categories.

    The target DataField's Values order decides (sklearn's ``classes_[1]``, shap's output 1);
    without Values, the order of ``labels`` (the model's own). More than two: refused.
    """
    model = top_model(backend)
    target = target_of(model) or ""
    classes = backend._ctx.values.get(target) or labels
    if len(classes) != 2:
        raise ExplanationError(f"explain supports regression and binary classification; the "
                               f"{local(model.tag)} of {target!r} has {len(classes)} classes "
                               f"({list(classes)[:10]}); multiclass explanations are not implemented yet")
    return classes[0], classes[1]


def target_rescale(model: Element, where: str, *, values_too: bool = False) -> tuple[float, float]:
    """(rescaleFactor, rescaleConstant) of the model's Target: a linear map of the raw score.

    Clamping (min, max) and rounding (castInteger) are not linear, and neither are a
    Target's default values when ``values_too``: refused, since no contributions would add up
    to the result exactly. ``where`` names the Target in the message.
    """
    targets = child(model, "Targets")
    spec = next(iter(children(targets, "Target")), None) if targets is not None else None
    if spec is None:
        return 1.0, 0.0
    bad = [f"{a}={spec.get(a)!r}" for a in ("min", "max", "castInteger") if spec.get(a) is not None]
    bad += ["TargetValue"] if values_too and children(spec, "TargetValue") else []
    if bad:
        raise ExplanationError(f"Target {' '.join(bad)} of {where}: clamping, rounding or default values are not "
                               "linear, so no contributions add up to the score exactly")
    return float(spec.get("rescaleFactor", "1")), float(spec.get("rescaleConstant", "0"))
