"""What the native compiler implements, as one table; strict.py walks documents against it.

The walk runs once over the whole document before any compiler: every element, every
attribute and every enumerated value that can change a result must be listed here, or
compilation fails with UnsupportedElement naming it (and its value, and where it is).
Nothing is ignored in silence.

Contract for adding to the table (helpers B, C...): one small entry per element.

    allow("NaiveBayesModel", MODEL_ATTRS + " threshold", kind="model",
          enums={"functionName": "classification"},
          children=MODEL_CHILDREN + " BayesInputs BayesOutput")
    allow("BayesInput", "fieldName", children="TargetValueStats PairCounts DerivedField Extension")
    allow("TextIndex", "textField localTermWeights isCaseSensitive maxLevenshteinDistance",
          kind="expression", numbers="maxLevenshteinDistance",
          enums={"localTermWeights": "termFrequency binary", "countHits": "allHits"},
          children="<expression> TextIndexNormalization Extension")

- ``attrs``: space-separated attributes allowed with any value. An attribute that is not
  in ``attrs``, ``enums`` or ``numbers`` is refused.
- ``enums``: attribute -> space-separated implemented values (other values are refused).
  An attribute in ``enums`` is allowed; do not repeat it in ``attrs``.
- ``numbers``: attributes that must parse as a PMML number (refused with the value named
  otherwise), so compilers can call float() on them safely.
- ``children``: allowed child elements; ``<expression>``, ``<predicate>`` and ``<model>``
  stand for every element registered with that ``kind``. ``Extension`` is always allowed.
- ``kind``: puts the element in a group (``expression``, ``predicate`` or ``model``), so
  every parent that accepts the group accepts it, with no other edit.
- ``informational=True``: content that never changes a result (Header, ModelStats...);
  neither its attributes nor its subtree are checked.
- ``text="numbers"``: the element's text is a list of PMML numbers (checked the same way).
- Apply functions need no entry: the walk accepts any name registered in
  ``functions.FUNCTIONS`` or defined by a DefineFunction of the document.
- Categories: ``CATEGORIES[element] = fn(el) -> [(field, value), ...]`` lists the category
  values an element compares a field with. The walk (strict.py) collects them all, so the
  vocabulary of every string field is complete before any compiler runs.

Extension elements are skipped everywhere, as JPMML-Evaluator does: they carry vendor
information that no conforming consumer may need to score. Extension attributes (``x-*``,
such as JPMML's ``x-mathContext``) are refused unless listed, since they can change math.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from ...errors import InvalidPmmlError
from ...pmml.fields import local


@dataclass(frozen=True)
class Spec:
    """What the native compiler implements of one element."""

    attrs: frozenset[str]
    enums: Mapping[str, frozenset[str]]
    numbers: frozenset[str]
    children: frozenset[str]
    informational: bool = False
    text_numbers: bool = False


SPECS: dict[str, Spec] = {}
KINDS: dict[str, set[str]] = {"expression": set(), "predicate": set(), "model": set()}
CATEGORIES: dict[str, Callable[[Element], Iterable[tuple[str, str]]]] = {}


def allow(name: str, attrs: str = "", *, enums: Mapping[str, str] | None = None, numbers: str = "",
          children: str = "", kind: str | None = None, informational: bool = False, text: str = "") -> None:
    """Declare what the native compiler implements of element ``name`` (see the module docstring)."""
    enum_sets = {k: frozenset(v.split()) for k, v in (enums or {}).items()}
    nums = frozenset(numbers.split())
    SPECS[name] = Spec(frozenset(attrs.split()) | nums, enum_sets, nums,
                       frozenset(children.split()) | {"Extension"}, informational, text == "numbers")
    if kind is not None:
        KINDS[kind].add(name)


# --- informational: never changes a result -------------------------------------------------

for _name in ("Extension", "Header", "MiningBuildTask", "ModelStats", "ModelExplanation", "ModelVerification",
              "Partition", "Annotation", "Timestamp", "Decisions", "PCovMatrix"):
    allow(_name, informational=True)

# --- document, dictionaries, schema, targets, outputs --------------------------------------

DATA_TYPES = "string integer float double boolean"
OPTYPES = "categorical ordinal continuous"
MODEL_ATTRS = "modelName algorithmName"
MODEL_CHILDREN = ("MiningSchema Output ModelStats ModelExplanation Targets LocalTransformations "
                  "ModelVerification")
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"

allow("PMML", f"version {_XSI}schemaLocation {_XSI}noNamespaceSchemaLocation",
      children="Header MiningBuildTask DataDictionary TransformationDictionary <model>")
allow("DataDictionary", "numberOfFields", children="DataField")
# Dates may be declared (the input contract checks them) but nothing native may read them: see _DATES.
allow("DataField", "name displayName", enums={"optype": OPTYPES, "dataType": DATA_TYPES + " date dateTime",
                                              "isCyclic": "0"},
      children="Value Interval")
allow("Value", "value displayValue", enums={"property": "valid invalid missing"})
allow("Interval", numbers="leftMargin rightMargin",
      enums={"closure": "openClosed openOpen closedOpen closedClosed"})
allow("TransformationDictionary", children="DerivedField DefineFunction")
allow("LocalTransformations", children="DerivedField")
allow("DerivedField", "name displayName", enums={"optype": OPTYPES, "dataType": DATA_TYPES},
      children="<expression> Value")
allow("MiningSchema", children="MiningField")
allow("MiningField", "name missingValueReplacement invalidValueReplacement importance",
      numbers="lowValue highValue",
      enums={"usageType": "active target predicted supplementary", "optype": OPTYPES,
             "outliers": "asIs asMissingValues asExtremeValues",
             "missingValueTreatment": "asIs asMean asMode asMedian asValue returnInvalid",
             "invalidValueTreatment": "returnInvalid asIs asMissing asValue"})
allow("Targets", children="Target")
allow("Target", "field", numbers="min max rescaleFactor rescaleConstant",
      enums={"optype": OPTYPES, "castInteger": "round ceiling floor"}, children="TargetValue")
allow("TargetValue", "value displayValue", numbers="priorProbability defaultValue")
allow("Output", children="OutputField")
allow("OutputField", "name displayName targetField value", numbers="rank",
      enums={"optype": OPTYPES, "dataType": DATA_TYPES, "isFinalResult": "true false",
             "feature": "predictedValue probability transformedValue decision entityId clusterId "
                        "clusterAffinity affinity entityAffinity reasonCode"},
      children="<expression> Decisions Value")  # Values: see compile._outputs

# --- expressions and predicates --------------------------------------------------------------

allow("Constant", enums={"dataType": DATA_TYPES, "missing": "true false"}, kind="expression")
allow("FieldRef", "field mapMissingTo", kind="expression")
allow("NormContinuous", "field mapMissingTo", enums={"outliers": "asIs asMissingValues asExtremeValues"},
      children="LinearNorm", kind="expression")
allow("LinearNorm", numbers="orig norm")
allow("NormDiscrete", "field value mapMissingTo", enums={"method": "indicator"}, kind="expression")
allow("Discretize", "field mapMissingTo defaultValue", enums={"dataType": DATA_TYPES},
      children="DiscretizeBin", kind="expression")
allow("DiscretizeBin", "binValue", children="Interval")
allow("MapValues", "mapMissingTo defaultValue outputColumn", enums={"dataType": DATA_TYPES},
      children="FieldColumnPair InlineTable", kind="expression")
allow("FieldColumnPair", "field column")
allow("InlineTable", children="row")
allow("row", informational=True)  # cells are named after table columns; MapValues reads them
allow("Apply", "function mapMissingTo defaultValue",
      enums={"invalidValueTreatment": "returnInvalid asMissing"}, children="<expression>", kind="expression")

allow("True", kind="predicate")
allow("False", kind="predicate")
allow("SimplePredicate", "field value", kind="predicate",
      enums={"operator": "equal notEqual lessThan lessOrEqual greaterThan greaterOrEqual isMissing isNotMissing"})
allow("SimpleSetPredicate", "field", enums={"booleanOperator": "isIn isNotIn"}, children="Array",
      kind="predicate")
allow("CompoundPredicate", enums={"booleanOperator": "and or xor surrogate"}, children="<predicate>",
      kind="predicate")
allow("Array", numbers="n", enums={"type": "int real string"})

# User functions and text (helper B: expressions.py, functions.py, text.py)
allow("DefineFunction", "name", enums={"optype": OPTYPES, "dataType": DATA_TYPES},
      children="ParameterField <expression>")
allow("ParameterField", "name displayName", enums={"optype": OPTYPES, "dataType": DATA_TYPES})
allow("TextIndex", "textField wordSeparatorCharacterRE", kind="expression",
      enums={"localTermWeights": "termFrequency binary logarithmic", "isCaseSensitive": "true false",
             "tokenize": "true", "countHits": "allHits", "maxLevenshteinDistance": "0"},
      children="<expression> TextIndexNormalization")
allow("TextIndexNormalization", "inField outField regexField",
      enums={"recursive": "true false", "isCaseSensitive": "true false"}, children="InlineTable")

# --- models -----------------------------------------------------------------------------------

_REG_CLASS = {"functionName": "regression classification", "isScorable": "true"}

# JPMML's x-mathContext="float" (XGBoost): 32-bit arithmetic, implemented for regression trees, their
# sums, RegressionModels (elements/regression.py) and modelChains; compile.float_math refuses the rest.
_MATH = {"x-mathContext": "double float"}
allow("TreeModel", MODEL_ATTRS, numbers="missingValuePenalty", kind="model",
      enums={**_REG_CLASS, **_MATH, "splitCharacteristic": "binarySplit multiSplit",
             "missingValueStrategy": "nullPrediction lastPrediction defaultChild none",
             "noTrueChildStrategy": "returnNullPrediction returnLastPrediction"},
      children=MODEL_CHILDREN + " Node")
# missingValuePenalty only scales the confidence, which native does not output.
allow("Node", "id score defaultChild", numbers="recordCount",
      children="<predicate> Node ScoreDistribution Partition")
allow("ScoreDistribution", "value", numbers="recordCount confidence probability")

allow("MiningModel", MODEL_ATTRS, enums={**_REG_CLASS, **_MATH}, kind="model",
      children=MODEL_CHILDREN + " Segmentation")
allow("Segmentation", children="Segment",
      enums={"multipleModelMethod": "sum weightedSum average weightedAverage median majorityVote "
                                    "weightedMajorityVote modelChain selectFirst",
             "missingPredictionTreatment": "continue returnMissing", "missingThreshold": "1 1.0"})
allow("Segment", "id", numbers="weight", children="<predicate> <model>")

allow("RegressionModel", MODEL_ATTRS + " modelType targetFieldName", kind="model",
      enums={**_REG_CLASS, **_MATH,
             "normalizationMethod": "none softmax simplemax logit probit cloglog loglog cauchit exp"},
      children=MODEL_CHILDREN + " RegressionTable")
allow("RegressionTable", "targetCategory", numbers="intercept",
      children="NumericPredictor CategoricalPredictor PredictorTerm")
allow("NumericPredictor", "name", numbers="exponent coefficient")
allow("CategoricalPredictor", "name value", numbers="coefficient")
allow("PredictorTerm", "name", numbers="coefficient", children="FieldRef")

allow("GeneralRegressionModel", MODEL_ATTRS + " targetVariableName targetReferenceCategory distribution modelDF",
      numbers="distParameter linkParameter", kind="model",
      enums={**_REG_CLASS,
             "modelType": "regression generalLinear generalizedLinear multinomialLogistic",
             "linkFunction": "identity log logit probit cloglog loglog cauchit power"},
      children=MODEL_CHILDREN + " ParameterList FactorList CovariateList PPMatrix PCovMatrix ParamMatrix")
allow("ParameterList", children="Parameter")
allow("Parameter", "name label", enums={"referencePoint": "0 0.0"})
allow("FactorList", children="Predictor")
allow("CovariateList", children="Predictor")
allow("Predictor", "name")
allow("PPMatrix", children="PPCell")
allow("PPCell", "value predictorName parameterName targetCategory")
allow("ParamMatrix", children="PCell")
allow("PCell", "targetCategory parameterName", numbers="beta df")

_ACTIVATIONS = "logistic tanh identity rectifier exponential reciprocal square Gauss sine cosine arctan Elliott"
allow("NeuralNetwork", MODEL_ATTRS, numbers="numberOfLayers", kind="model",
      enums={**_REG_CLASS, "activationFunction": _ACTIVATIONS, "normalizationMethod": "none softmax simplemax"},
      children=MODEL_CHILDREN + " NeuralInputs NeuralLayer NeuralOutputs")
allow("NeuralInputs", numbers="numberOfInputs", children="NeuralInput")
allow("NeuralInput", "id", children="DerivedField")
allow("NeuralLayer", numbers="numberOfNeurons", children="Neuron",
      enums={"activationFunction": _ACTIVATIONS, "normalizationMethod": "none softmax simplemax"})
allow("Neuron", "id", numbers="bias", children="Con")
allow("Con", "from", numbers="weight")
allow("NeuralOutputs", numbers="numberOfOutputs", children="NeuralOutput")
allow("NeuralOutput", "outputNeuron", children="DerivedField")

allow("ClusteringModel", MODEL_ATTRS, numbers="numberOfClusters", kind="model",
      enums={"functionName": "clustering", "modelClass": "centerBased", "isScorable": "true"},
      children=MODEL_CHILDREN + " ComparisonMeasure ClusteringField Cluster")
allow("ComparisonMeasure", numbers="minimum maximum", enums={"kind": "distance", "compareFunction": "absDiff"},
      children="squaredEuclidean euclidean cityBlock chebychev minkowski")
for _name in ("squaredEuclidean", "euclidean", "cityBlock", "chebychev"):
    allow(_name)
allow("minkowski", numbers="p-parameter")  # k-NN only: clustering.py refuses it
allow("ClusteringField", "field", numbers="fieldWeight",
      enums={"isCenterField": "true false", "compareFunction": "absDiff"})
allow("Cluster", "id name", numbers="size", children="Array KohonenMap Partition")
allow("KohonenMap", informational=True)

# NaiveBayesModel and SupportVectorMachineModel (helper B: elements/naive_bayes.py, support_vector_machine.py)
allow("NaiveBayesModel", MODEL_ATTRS, numbers="threshold", kind="model",
      enums={"functionName": "classification", "isScorable": "true"},
      children=MODEL_CHILDREN + " BayesInputs BayesOutput")
allow("BayesInputs", children="BayesInput")
allow("BayesInput", "fieldName", children="TargetValueStats PairCounts")
allow("TargetValueStats", children="TargetValueStat")
allow("TargetValueStat", "value", children="GaussianDistribution")
allow("GaussianDistribution", numbers="mean variance")
allow("PairCounts", "value", children="TargetValueCounts")
allow("TargetValueCounts", children="TargetValueCount")
allow("TargetValueCount", "value", numbers="count")
allow("BayesOutput", "fieldName", children="TargetValueCounts")
allow("SupportVectorMachineModel", MODEL_ATTRS, numbers="threshold", kind="model",
      enums={"functionName": "classification regression", "isScorable": "true",
             "classificationMethod": "OneAgainstOne", "svmRepresentation": "SupportVectors"},
      children=MODEL_CHILDREN + " LinearKernelType PolynomialKernelType RadialBasisKernelType "
                                "SigmoidKernelType VectorDictionary SupportVectorMachine")
allow("LinearKernelType", "description")
allow("PolynomialKernelType", "description", numbers="gamma coef0 degree")
allow("RadialBasisKernelType", "description", numbers="gamma")
allow("SigmoidKernelType", "description", numbers="gamma coef0")
allow("VectorDictionary", numbers="numberOfVectors", children="VectorFields VectorInstance")
allow("VectorFields", numbers="numberOfFields", children="FieldRef")
allow("VectorInstance", "id", children="Array")
allow("SupportVectorMachine", "targetCategory alternateTargetCategory", numbers="threshold",
      children="SupportVectors Coefficients")
allow("SupportVectors", numbers="numberOfAttributes numberOfSupportVectors", children="SupportVector")
allow("SupportVector", "vectorId")
allow("Coefficients", numbers="numberOfCoefficients absoluteValue", children="Coefficient")
allow("Coefficient", numbers="value")

# NearestNeighborModel (elements/nearest_neighbor.py): what JPMML-SkLearn writes for KNeighbors*
allow("NearestNeighborModel", MODEL_ATTRS + " instanceIdVariable", numbers="numberOfNeighbors threshold",
      kind="model", enums={"functionName": "regression classification", "isScorable": "true",
                           "continuousScoringMethod": "average weightedAverage median",
                           "categoricalScoringMethod": "majorityVote weightedMajorityVote"},
      children=MODEL_CHILDREN + " TrainingInstances ComparisonMeasure KNNInputs")
allow("TrainingInstances", numbers="recordCount fieldCount", enums={"isTransformed": "true false"},
      children="InstanceFields InlineTable")
allow("InstanceFields", children="InstanceField")
allow("InstanceField", "field column")
allow("KNNInputs", children="KNNInput")
allow("KNNInput", "field", numbers="fieldWeight", enums={"compareFunction": "absDiff"})

# Scorecard (elements/scorecard.py). baselineMethod only records how the baselines were chosen.
allow("Scorecard", MODEL_ATTRS, numbers="initialScore baselineScore", kind="model",
      enums={"functionName": "regression", "isScorable": "true", "useReasonCodes": "true false",
             "reasonCodeAlgorithm": "pointsBelow pointsAbove", "baselineMethod": "max min mean neutral other"},
      children=MODEL_CHILDREN + " Characteristics")
allow("Characteristics", children="Characteristic")
allow("Characteristic", "name reasonCode", numbers="baselineScore", children="Attribute")
allow("Attribute", "reasonCode", numbers="partialScore", children="<predicate> ComplexPartialScore")
allow("ComplexPartialScore", children="<expression>")

# --- category values each element compares a field with ---------------------------------------


def _array_values(el: Element) -> list[str]:
    from .predicates import set_values
    return set_values(el)


def _map_values_keys(el: Element) -> list[tuple[str, str]]:
    """The input cells of a MapValues InlineTable, for each field they are matched against."""
    pairs = [(p.get("field", ""), p.get("column", "").split(":", 1)[-1]) for p in el
             if local(p.tag) == "FieldColumnPair"]
    table = next((c for c in el if local(c.tag) == "InlineTable"), None)
    out = []
    for row in table if table is not None else []:
        cells = {local(c.tag): (c.text or "") for c in row}
        out += [(name, cells[col]) for name, col in pairs if col in cells]
    return out


CATEGORIES.update({
    "MapValues": _map_values_keys,
    "SimplePredicate": lambda el: [(el.get("field", ""), el.get("value", ""))] if el.get("value") is not None else [],
    "SimpleSetPredicate": lambda el: [(el.get("field", ""), v) for v in _array_values(el)],
    "NormDiscrete": lambda el: [(el.get("field", ""), el.get("value", ""))],
    "CategoricalPredictor": lambda el: [(el.get("name", ""), el.get("value", ""))],
    "PPCell": lambda el: [(el.get("predictorName", ""), el.get("value", ""))],
    "BayesInput": lambda el: [(el.get("fieldName", ""), p.get("value", "")) for p in el
                              if local(p.tag) == "PairCounts"],
})

# --- numbers ------------------------------------------------------------------------------------

_NUMBER = re.compile(r"\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)\s*", re.IGNORECASE)


_PARSED: dict[str, float] = {}  # a forest repeats its numbers: 156k attributes, 13k distinct (RF 100x8)
_PARSED_LIMIT = 1 << 16


def parse_number(text: str | None, what: str, path: str) -> float:
    """A PMML number, or InvalidPmmlError naming what holds it (e.g. "1,5" is no number)."""
    found = _PARSED.get(text) if text is not None else None
    if found is not None:
        return found
    if text is None or not _NUMBER.fullmatch(text):
        raise InvalidPmmlError(f"{what} at {path} is {text!r}, which is not a number; "
                               "write it as a decimal such as 1.5 or 1e-3")
    value = float(text)
    if len(_PARSED) >= _PARSED_LIMIT:
        _PARSED.clear()  # bounded: a document of a million distinct numbers costs no memory here
    _PARSED[text] = value
    return value
