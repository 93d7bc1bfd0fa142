"""A document without an element PMML requires is refused by name, not with a compiler's TypeError.

The native compilers once read such children unchecked (``children(None)``): the document failed
with "NativeCompileError ... TypeError", which blames pmmlkit; or, for a multinomialLogistic
regression, only when the first row was scored ("'NoneType' object is not callable").
"""
from __future__ import annotations

import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import InvalidPmmlError, UnsupportedElement

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>
  <DataField name="x" optype="continuous" dataType="double"/>
  <DataField name="y" optype="continuous" dataType="double"/>
  <DataField name="c" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/></DataField>
</DataDictionary>
"""
TARGET_Y = '<MiningSchema><MiningField name="y" usageType="target"/><MiningField name="x"/></MiningSchema>'
TARGET_C = '<MiningSchema><MiningField name="c" usageType="target"/><MiningField name="x"/></MiningSchema>'

NEURAL_WITHOUT_OUTPUTS = f"""<NeuralNetwork functionName="regression" activationFunction="identity">{TARGET_Y}
  <NeuralInputs><NeuralInput id="0"><DerivedField optype="continuous" dataType="double">
    <FieldRef field="x"/></DerivedField></NeuralInput></NeuralInputs>
  <NeuralLayer><Neuron id="1" bias="0"><Con from="0" weight="2"/></Neuron></NeuralLayer>
</NeuralNetwork>"""

SVM_WITHOUT_COEFFICIENTS = f"""<SupportVectorMachineModel functionName="regression">{TARGET_Y}
  <LinearKernelType/>
  <VectorDictionary><VectorFields><FieldRef field="x"/></VectorFields>
    <VectorInstance id="v"><Array type="real">1</Array></VectorInstance></VectorDictionary>
  <SupportVectorMachine><SupportVectors><SupportVector vectorId="v"/></SupportVectors></SupportVectorMachine>
</SupportVectorMachineModel>"""

BAYES_WITHOUT_INPUTS = f"""<NaiveBayesModel functionName="classification" threshold="0.001">{TARGET_C}
  <BayesOutput fieldName="c"><TargetValueCounts><TargetValueCount value="a" count="1"/>
    <TargetValueCount value="b" count="1"/></TargetValueCounts></BayesOutput>
</NaiveBayesModel>"""


def _document(model: str) -> bytes:
    return (HEAD + model + "</PMML>").encode()


@pytest.mark.parametrize("model, missing", [(NEURAL_WITHOUT_OUTPUTS, "<NeuralOutputs>"),
                                            (SVM_WITHOUT_COEFFICIENTS, "<Coefficients>"),
                                            (BAYES_WITHOUT_INPUTS, "<BayesInputs>")],
                         ids=["neural-network", "svm", "naive-bayes"])
def test_a_missing_required_child_is_named(model: str, missing: str) -> None:
    with pytest.raises(InvalidPmmlError, match=f"has no {missing}, which PMML requires there; add it"):
        Evaluator.from_bytes(_document(model), backend="native", verify=False)


def test_a_multinomial_regression_is_refused_when_loaded() -> None:
    model = f"""<GeneralRegressionModel functionName="regression" modelType="multinomialLogistic">{TARGET_Y}
      <ParameterList><Parameter name="p0"/></ParameterList>
      <ParamMatrix><PCell parameterName="p0" beta="1"/></ParamMatrix>
    </GeneralRegressionModel>"""
    with pytest.raises(UnsupportedElement, match="multinomialLogistic without functionName=classification"):
        Evaluator.from_bytes(_document(model), backend="native", verify=False)


def _knn_segment() -> str:
    return f"""<Segment><True/><NearestNeighborModel functionName="classification" numberOfNeighbors="1"
      categoricalScoringMethod="majorityVote">{TARGET_C}
      <TrainingInstances><InstanceFields><InstanceField field="x" column="x"/><InstanceField field="c" column="c"/>
        </InstanceFields><InlineTable><row><x>0</x><c>a</c></row><row><x>1</x><c>b</c></row></InlineTable>
      </TrainingInstances>
      <ComparisonMeasure kind="distance"><euclidean/></ComparisonMeasure>
      <KNNInputs><KNNInput field="x"/></KNNInputs></NearestNeighborModel></Segment>"""


def test_a_vote_of_nearest_neighbor_models_counts_their_labels() -> None:
    # k-NN results carry labels but no probabilities; a majority vote needs only the labels
    # (it once failed every row with "TypeError: object of type 'NoneType' has no len()").
    pytest.importorskip("jpmml_evaluator")
    doc = _document(f"""<MiningModel functionName="classification">{TARGET_C}
      <Segmentation multipleModelMethod="majorityVote">{_knn_segment()}{_knn_segment()}</Segmentation>
    </MiningModel>""")
    native = Evaluator.from_bytes(doc, backend="native", verify=False)
    reference = Evaluator.from_bytes(doc, backend="jpmml", verify=False)
    for x in (0.1, 0.9):
        assert native.predict({"x": x}) == reference.predict({"x": x}) == {"predicted_c": "a" if x < 0.5 else "b"}
