"""Typed description of a PMML document's fields: DataDictionary, MiningSchema, Output."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from ..errors import InvalidPmmlError

MODEL_ELEMENTS = (
    "AnomalyDetectionModel", "AssociationModel", "BayesianNetworkModel", "BaselineModel",
    "ClusteringModel", "GaussianProcessModel", "GeneralRegressionModel", "MiningModel",
    "NaiveBayesModel", "NearestNeighborModel", "NeuralNetwork", "RegressionModel",
    "RuleSetModel", "Scorecard", "SequenceModel", "SupportVectorMachineModel", "TextModel",
    "TimeSeriesModel", "TreeModel",
)
TARGET_USAGES = ("target", "predicted")


@dataclass(frozen=True)
class Interval:
    closure: str
    left: float | None
    right: float | None

    def contains(self, x: float) -> bool:
        lo_ok = self.left is None or (x > self.left if self.closure.startswith("open") else x >= self.left)
        hi_ok = self.right is None or (x < self.right if self.closure.endswith("Open") else x <= self.right)
        return lo_ok and hi_ok

    def __str__(self) -> str:
        lb = "(" if self.closure.startswith("open") else "["
        rb = ")" if self.closure.endswith("Open") else "]"
        lo = "-inf" if self.left is None else repr(self.left)
        hi = "inf" if self.right is None else repr(self.right)
        return f"{lb}{lo}, {hi}{rb}"


@dataclass(frozen=True)
class Field:
    """A named, typed field: what users see of a model's inputs, targets and outputs."""

    name: str
    data_type: str
    op_type: str
    values: tuple[str, ...] = ()
    intervals: tuple[Interval, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "dataType": self.data_type, "opType": self.op_type}
        if self.values:
            d["values"] = list(self.values)
        if self.intervals:
            d["intervals"] = [str(i) for i in self.intervals]
        return d


@dataclass(frozen=True)
class InputField(Field):
    """A DataField joined with its MiningField: everything the input contract needs."""

    invalid_values: tuple[str, ...] = ()
    missing_values: tuple[str, ...] = ()
    missing_value_treatment: str | None = None
    missing_value_replacement: str | None = None
    invalid_value_treatment: str = "returnInvalid"
    invalid_value_replacement: str | None = None
    outliers: str = "asIs"
    low_value: float | None = None
    high_value: float | None = None


@dataclass(frozen=True)
class OutputField(Field):
    feature: str = "predictedValue"
    target_field: str | None = None
    value: str | None = None
    is_final_result: bool = True


@dataclass(frozen=True)
class Verification:
    """ModelVerification: expected results for a few records, in the document itself."""

    columns: dict[str, str]                      # field name -> InlineTable column
    tolerances: dict[str, tuple[float, float]]   # field -> (precision, zeroThreshold)
    rows: tuple[dict[str, str | None], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ModelSchema:
    model_type: str
    function_name: str
    inputs: tuple[InputField, ...]
    targets: tuple[Field, ...]
    outputs: tuple[OutputField, ...]
    verification: Verification | None = None

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.inputs)

    @property
    def result_names(self) -> tuple[str, ...]:
        """Result columns in their fixed order: targets first, then final output fields."""
        names = [t.name for t in self.targets]
        names += [o.name for o in self.outputs if o.name not in names]
        return tuple(names)


def local(tag: str) -> str:
    """Tag without its XML namespace."""
    return tag.rsplit("}", 1)[-1]


def child(el: Element, name: str) -> Element | None:
    return next((c for c in el if local(c.tag) == name), None)


def children(el: Element, name: str) -> list[Element]:
    return [c for c in el if local(c.tag) == name]


def model_element(root: Element) -> Element:
    for c in root:
        if local(c.tag) in MODEL_ELEMENTS:
            return c
    raise InvalidPmmlError("the PMML document holds no model element "
                           f"(expected one of {', '.join(MODEL_ELEMENTS)})")


def _float(v: str | None) -> float | None:
    return None if v is None else float(v)


def _data_field(el: Element) -> tuple[Field, tuple[str, ...], tuple[str, ...]]:
    valid, invalid, missing = [], [], []
    for v in children(el, "Value"):
        prop = v.get("property", "valid")
        {"valid": valid, "invalid": invalid, "missing": missing}[prop].append(v.get("value", ""))
    intervals = tuple(
        Interval(i.get("closure", "closedClosed"), _float(i.get("leftMargin")), _float(i.get("rightMargin")))
        for i in children(el, "Interval")
    )
    f = Field(el.get("name", ""), el.get("dataType", "string"), el.get("optype", "categorical"),
              tuple(valid), intervals)
    return f, tuple(invalid), tuple(missing)


def _verification(model: Element) -> Verification | None:
    mv = child(model, "ModelVerification")
    if mv is None:
        return None
    columns: dict[str, str] = {}
    tolerances: dict[str, tuple[float, float]] = {}
    vfs = child(mv, "VerificationFields")
    for vf in children(vfs, "VerificationField") if vfs is not None else []:
        name = vf.get("field", "")
        columns[name] = vf.get("column", name)
        tolerances[name] = (float(vf.get("precision", "1e-6")), float(vf.get("zeroThreshold", "1e-16")))
    rows = []
    table = child(mv, "InlineTable")
    for row in children(table, "row") if table is not None else []:
        rows.append({local(c.tag): c.text for c in row})
    # Column names carry a prefix such as "data:"; cells are keyed by local name.
    columns = {k: v.split(":", 1)[-1] for k, v in columns.items()}
    return Verification(columns, tolerances, tuple(rows))


def _outputs(model: Element) -> list[OutputField]:
    """Output fields of a model; a modelChain also yields its last segment's outputs."""
    outputs = []
    out = child(model, "Output")
    for of in children(out, "OutputField") if out is not None else []:
        outputs.append(OutputField(
            of.get("name", ""), of.get("dataType", "string"), of.get("optype", "categorical"),
            feature=of.get("feature", "predictedValue"), target_field=of.get("targetField"),
            value=of.get("value"), is_final_result=of.get("isFinalResult", "true") == "true",
        ))
    seg = child(model, "Segmentation")
    if local(model.tag) == "MiningModel" and seg is not None and seg.get("multipleModelMethod") == "modelChain":
        segments = children(seg, "Segment")
        if segments:
            last = next((c for c in segments[-1] if local(c.tag) in MODEL_ELEMENTS), None)
            if last is not None:
                outputs += _outputs(last)
    return outputs


def describe(root: Element) -> ModelSchema:
    """Read the DataDictionary, top-level MiningSchema and Output into a ModelSchema."""
    dd = child(root, "DataDictionary")
    if dd is None:
        raise InvalidPmmlError("the PMML document has no DataDictionary")
    data_fields = {}
    for el in children(dd, "DataField"):
        f, invalid, missing = _data_field(el)
        data_fields[f.name] = (f, invalid, missing)
    model = model_element(root)
    ms = child(model, "MiningSchema")
    if ms is None:
        raise InvalidPmmlError(f"the {local(model.tag)} element has no MiningSchema")
    inputs: list[InputField] = []
    targets: list[Field] = []
    for mf in children(ms, "MiningField"):
        name = mf.get("name", "")
        if name not in data_fields:
            raise InvalidPmmlError(f"MiningField {name!r} is not declared in the DataDictionary")
        f, invalid, missing = data_fields[name]
        usage = mf.get("usageType", "active")
        if usage in TARGET_USAGES:
            targets.append(f)
        elif usage == "active":
            inputs.append(InputField(
                f.name, f.data_type, mf.get("optype", f.op_type), f.values, f.intervals,
                invalid_values=invalid, missing_values=missing,
                missing_value_treatment=mf.get("missingValueTreatment"),
                missing_value_replacement=mf.get("missingValueReplacement"),
                invalid_value_treatment=mf.get("invalidValueTreatment", "returnInvalid"),
                invalid_value_replacement=mf.get("invalidValueReplacement"),
                outliers=mf.get("outliers", "asIs"),
                low_value=_float(mf.get("lowValue")), high_value=_float(mf.get("highValue")),
            ))
    outputs = _outputs(model)
    return ModelSchema(
        model_type=local(model.tag),
        function_name=model.get("functionName", ""),
        inputs=tuple(inputs),
        targets=tuple(targets),
        outputs=tuple(o for o in outputs if o.is_final_result),
        verification=_verification(model),
    )
