"""Typed description of a PMML document's fields: DataDictionary, MiningSchema, Output."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np

from ..errors import InvalidPmmlError, quote, quote_list

MODEL_ELEMENTS = (
    "AnomalyDetectionModel", "AssociationModel", "BayesianNetworkModel", "BaselineModel",
    "ClusteringModel", "GaussianProcessModel", "GeneralRegressionModel", "MiningModel",
    "NaiveBayesModel", "NearestNeighborModel", "NeuralNetwork", "RegressionModel",
    "RuleSetModel", "Scorecard", "SequenceModel", "SupportVectorMachineModel", "TextModel",
    "TimeSeriesModel", "TreeModel",
)
TARGET_USAGES = ("target", "predicted")
NUMERIC_TYPES = ("double", "float", "integer")
_BOOLEAN_TEXT = {"true": 1.0, "1": 1.0, "1.0": 1.0, "false": 0.0, "0": 0.0, "0.0": 0.0}


_FLOAT32 = struct.Struct("f")


def to_float32(x: float) -> float:
    """A number as PMML's dataType="float" holds it: rounded to 32 bits (kept as a Python float)."""
    try:  # C's (float) cast, as NumPy's, without NumPy's per-call cost (big forests call this per node)
        return float(_FLOAT32.unpack(_FLOAT32.pack(x))[0])
    except (OverflowError, struct.error):
        with np.errstate(over="ignore"):  # beyond float32's range is +-inf, as Java's floatValue()
            return float(np.float32(x))


def is_number(text: str) -> bool:
    """True when ``text`` reads as a number (PMML's and Python's float syntax agree here)."""
    try:
        float(text)
        return True
    except ValueError:
        return False


def typed_value(text: str, data_type: str) -> Any:
    """A <Value>'s text as a value of its field's type, as the input contract delivers values.

    "1.0" of an integer field is the number 1.0 (JPMML-SparkML writes integer categories so),
    "0.1" of a float field is float32(0.1), "true" of a boolean field is 1.0. Text that does not
    parse (a missing-value marker such as "NA") stays text, so it can only ever match text.
    """
    if data_type == "boolean":
        return _BOOLEAN_TEXT.get(text.strip().lower(), text)
    if data_type not in NUMERIC_TYPES:
        return text
    try:
        number = float(text)
    except ValueError:
        return text
    return to_float32(number) if data_type == "float" else number


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
    # The Value lists read with the field's type, once: what the contract compares inputs with.
    valid_set: frozenset[Any] = field(init=False, repr=False, compare=False)
    invalid_set: frozenset[Any] = field(init=False, repr=False, compare=False)
    missing_set: frozenset[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, texts in (("valid_set", self.values), ("invalid_set", self.invalid_values),
                            ("missing_set", self.missing_values)):
            object.__setattr__(self, name, frozenset(typed_value(t, self.data_type) for t in texts))


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
        """The PMML names of the results, in their fixed order: targets first, then final output fields.

        What backends answer in; users see them published by ``evaluator.names`` (``predicted_<target>``).
        """
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


def required_child(el: Element, name: str, where: str) -> Element:
    """The child ``name`` that PMML requires ``el`` to have; a document without it is refused."""
    found = child(el, name)
    if found is None:
        raise InvalidPmmlError(f"<{local(el.tag)}> at {where} has no <{name}>, which PMML requires there; add it")
    return found


def model_element(root: Element) -> Element:
    for c in root:
        if local(c.tag) in MODEL_ELEMENTS:
            return c
    raise InvalidPmmlError("the PMML document holds no model element "
                           f"(expected one of {', '.join(MODEL_ELEMENTS)})")


def _float_or(el: Element, attribute: str, default: float) -> float:
    """A numeric attribute with a default, checked as ``_float`` checks it."""
    value = _float(el, attribute)
    return default if value is None else value


def _float(el: Element, attribute: str, default: str | None = None) -> float | None:
    """A numeric attribute; a malformed one ("1,5") is refused naming the element and attribute."""
    v = el.get(attribute, default)
    if v is None:
        return None
    try:
        return float(v)
    except ValueError:
        raise InvalidPmmlError(f"<{local(el.tag)} {attribute}={quote(v)}>: {attribute} is not a number; "
                               "PMML numbers use '.' as the decimal point") from None


def _data_field(el: Element) -> tuple[Field, tuple[str, ...], tuple[str, ...]]:
    valid: list[str] = []
    invalid: list[str] = []
    missing: list[str] = []
    for v in children(el, "Value"):
        prop = v.get("property", "valid")
        {"valid": valid, "invalid": invalid, "missing": missing}[prop].append(v.get("value", ""))
    intervals = tuple(
        Interval(i.get("closure", "closedClosed"), _float(i, "leftMargin"), _float(i, "rightMargin"))
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
        tolerances[name] = (_float_or(vf, "precision", 1e-6), _float_or(vf, "zeroThreshold", 1e-16))
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
                low_value=_float(mf, "lowValue"), high_value=_float(mf, "highValue"),
            ))
    check_references(root, set(data_fields))
    outputs = _outputs(model)
    return ModelSchema(
        model_type=local(model.tag),
        function_name=model.get("functionName", ""),
        inputs=tuple(inputs),
        targets=tuple(targets),
        outputs=tuple(o for o in outputs if o.is_final_result),
        verification=_verification(model),
    )


# --- references ---------------------------------------------------------------

def check_references(root: Element, data_fields: set[str]) -> None:
    """Refuse a document whose MiningFields or OutputFields name a field it never declares.

    Backends would otherwise load it and fail on every record (a KeyError per predict).
    A field is declared by a DataField, a DerivedField (global or local) or an OutputField,
    anywhere in the document: nested models may use their siblings' outputs.
    """
    models, declarations = _scaffold(root)
    declared = set(data_fields) | {el.get("name", "") for el in declarations}
    for model in models:
        ms = child(model, "MiningSchema")
        mining = children(ms, "MiningField") if ms is not None else []
        for mf in mining:
            _refer(mf.get("name", ""), declared, f"{_where(model)}: a MiningField")
        targets = {mf.get("name", "") for mf in mining if mf.get("usageType") in TARGET_USAGES}
        out = child(model, "Output")
        for of in children(out, "OutputField") if out is not None else []:
            _check_output(of, model, targets, declared)


# Only these elements can hold models, DerivedFields or OutputFields: the walk never enters
# tree nodes, tables or vectors, so it costs microseconds even on a 300,000-node forest.
_CONTAINERS = frozenset({"PMML", "TransformationDictionary", "LocalTransformations", "Output",
                         "Segmentation", "Segment", *MODEL_ELEMENTS})


def _scaffold(root: Element) -> tuple[list[Element], list[Element]]:
    """Every model element and every DerivedField/OutputField of the document."""
    models: list[Element] = []
    declarations: list[Element] = []
    stack = [root]
    while stack:  # iterative: deep segmentations must not hit the recursion limit
        el = stack.pop()
        for c in el:
            name = local(c.tag) if isinstance(c.tag, str) else ""
            if name in ("DerivedField", "OutputField"):
                declarations.append(c)
            elif name in _CONTAINERS:
                stack.append(c)
                if name in MODEL_ELEMENTS:
                    models.append(c)
    return models, declarations


def _check_output(of: Element, model: Element, targets: set[str], declared: set[str]) -> None:
    where = f"OutputField {quote(of.get('name', ''))} of {_where(model)}"
    target = of.get("targetField")
    if target is not None and target not in targets:
        raise InvalidPmmlError(f"{where}: targetField {quote(target)} is not a target of this model "
                               f"(targets: {quote_list(sorted(targets))}); fix the document's Output")
    for el in of.iter():
        ref = el.get("field") if el is not of else None
        if ref is not None:
            if ref == of.get("name"):
                raise InvalidPmmlError(f"{where}: <{local(el.tag)}> refers to the output field itself")
            _refer(ref, declared, f"{where}: <{local(el.tag)} field={quote(ref)}>")


def _refer(name: str, declared: set[str], where: str) -> None:
    if name not in declared:
        raise InvalidPmmlError(f"{where} refers to field {quote(name)}, which the document never declares "
                               "(no DataField, DerivedField or OutputField has that name)")


def _where(model: Element) -> str:
    name = model.get("modelName")
    return f"<{local(model.tag)}" + (f" modelName={quote(name)}>" if name else ">")
