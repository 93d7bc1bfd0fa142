"""NaiveBayesModel, SupportVectorMachineModel and DefineFunction from sklearn2pmml, natively vs JPMML.

Models are fitted on a few iris rows, converted by sklearn2pmml (JPMML-SkLearn, one JVM per
conversion, so once per module) and scored on rows with missing values by the native backend
and by JPMML-Evaluator: auto must pick native, and both must agree row by row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import UnsupportedElement
from tests.evaluator.apply_docs import apply, assert_agrees, const, expression_document, ref

pytest.importorskip("jpmml_evaluator")
pytest.importorskip("sklearn2pmml")


def add_eps(x):
    return x + 1e-8


def _models() -> dict:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.svm import SVC, SVR
    from sklearn2pmml.preprocessing import ExpressionTransformer
    from sklearn2pmml.util import Expression

    expr = ColumnTransformer([
        ("e", ExpressionTransformer(Expression("add_eps(X[0]) / X[1]", function_defs=[add_eps])), ["a", "b"]),
        ("e2", ExpressionTransformer("X[0] % 2 if X[1] > 1 else X[0] ** 2"), ["c", "d"])])
    return {
        "gaussian_nb": ([GaussianNB()], "class"),
        "svc_rbf": ([SVC()], "class"),
        "svc_sigmoid_binary": ([SVC(kernel="sigmoid", gamma=0.01)], "binary"),
        "svr": ([SVR()], "regression"),
        "expression_define_function": ([expr, LinearRegression()], "regression"),
    }


def _iris() -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = ["a", "b", "c", "d"]
    return X.iloc[::2].reset_index(drop=True), y.iloc[::2].reset_index(drop=True)


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline

    X, y = _iris()
    out = {}
    for name, (steps, kind) in _models().items():
        pipe = PMMLPipeline([(f"s{i}", s) for i, s in enumerate(steps)])
        target = (y == 1).astype(int) if kind == "binary" else (X["a"] * 2).rename("y") \
            if kind == "regression" else y
        features = X
        pipe.fit(features, target)
        path = tmp_path_factory.mktemp("pmml") / f"{name}.pmml"
        sklearn2pmml(pipe, str(path))
        out[name] = path.read_bytes()
    return out


def _scoring_rows() -> pd.DataFrame:
    X, _ = _iris()
    X = X.iloc[::2].reset_index(drop=True).copy()
    X.loc[1, "a"] = np.nan
    X.loc[4, "c"] = np.nan
    X.loc[6, "b"] = 0.0  # add_eps(X[0]) / 0: an infinite value, not a failure
    return X


@pytest.mark.parametrize("name", ["expression_define_function", "gaussian_nb", "svc_rbf", "svc_sigmoid_binary",
                                  "svr"])
def test_sklearn2pmml_model_agrees(documents, name):
    raw = documents[name]
    assert Evaluator.from_bytes(raw, backend="auto").backend_name == "native"
    rows = _scoring_rows()
    assert_agrees(raw, rows)


# --- hand-written: PairCounts (discrete Naive Bayes), thresholds, ties -----------------------------

def _pair_counts_nb(threshold: str = "0.001", variance: str = "2") -> bytes:
    def counts(*cs: int) -> str:
        return "<TargetValueCounts>" + "".join(
            f'<TargetValueCount value="{v}" count="{c}"/>' for v, c in zip(("yes", "no"), cs)) + "</TargetValueCounts>"
    return f'''<?xml version="1.0"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>
  <DataField name="colour" optype="categorical" dataType="string"><Value value="red"/><Value value="blue"/><Value value="green"/></DataField>
  <DataField name="size" optype="categorical" dataType="integer"><Value value="1"/><Value value="2"/></DataField>
  <DataField name="w" optype="continuous" dataType="double"/>
  <DataField name="y" optype="categorical" dataType="string"><Value value="yes"/><Value value="no"/></DataField>
</DataDictionary>
<NaiveBayesModel functionName="classification" threshold="{threshold}">
  <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="colour"/><MiningField name="size"/><MiningField name="w"/></MiningSchema>
  <Output><OutputField name="p_yes" optype="continuous" dataType="double" feature="probability" value="yes"/>
          <OutputField name="p_no" optype="continuous" dataType="double" feature="probability" value="no"/></Output>
  <BayesInputs>
    <BayesInput fieldName="colour">
      <PairCounts value="red">{counts(3, 0)}</PairCounts>
      <PairCounts value="blue">{counts(1, 4)}</PairCounts>
    </BayesInput>
    <BayesInput fieldName="size">
      <PairCounts value="1">{counts(2, 2)}</PairCounts>
      <PairCounts value="2">{counts(2, 3)}</PairCounts>
    </BayesInput>
    <BayesInput fieldName="w"><TargetValueStats>
      <TargetValueStat value="yes"><GaussianDistribution mean="1.5" variance="0.25"/></TargetValueStat>
      <TargetValueStat value="no"><GaussianDistribution mean="0" variance="{variance}"/></TargetValueStat>
    </TargetValueStats></BayesInput>
  </BayesInputs>
  <BayesOutput fieldName="y">{counts(4, 5)}</BayesOutput>
</NaiveBayesModel></PMML>'''.encode()  # noqa: E501 - PMML text reads one element per line


@pytest.mark.parametrize("threshold", ["0.001", "0", "0.5"])
def test_naive_bayes_pair_counts_agrees(threshold):
    """Counts of 0 (threshold), a category no PairCounts lists, missing inputs, a far-off w."""
    raw = _pair_counts_nb(threshold)
    assert Evaluator.from_bytes(raw, backend="auto").backend_name == "native"
    df = pd.DataFrame({"colour": ["red", "blue", "green", None, "red", "blue"], "size": [1, 2, None, 1, 2, 1],
                       "w": [1.4, np.nan, 0.0, 9.0, -30.0, 1.5]})
    assert_agrees(raw, df)


def test_naive_bayes_zero_variance_is_refused():
    """JPMML-Evaluator fails every row on variance 0; native refuses the document, so auto uses JPMML."""
    raw = _pair_counts_nb(variance="0")
    with pytest.raises(UnsupportedElement, match="variance"):
        Evaluator.from_bytes(raw, backend="native")
    assert Evaluator.from_bytes(raw, backend="auto").backend_name == "jpmml"


# --- DefineFunction ----------------------------------------------------------------------------------

_FUNCTIONS = (
    '<DefineFunction name="scaled" optype="continuous" dataType="double">'
    '<ParameterField name="v" dataType="double"/><ParameterField name="k" dataType="double"/>'
    + apply("*", apply("+", ref("v"), const("1e-8", "double")), ref("k")) + "</DefineFunction>"
    '<DefineFunction name="halve" optype="continuous" dataType="integer">'
    '<ParameterField name="n" dataType="integer"/>' + apply("/", ref("n"), const("2")) + "</DefineFunction>"
    '<DefineFunction name="outer" optype="continuous" dataType="double">'
    '<ParameterField name="x"/>' + apply("scaled", ref("x"), const("3")) + "</DefineFunction>"
    '<DefineFunction name="shout" optype="categorical" dataType="string">'
    '<ParameterField name="s" dataType="string"/>' + apply("concat", apply("uppercase", ref("s")), const("!"))
    + "</DefineFunction>"
)
DEFINED = {
    "scaled": ("double", apply("scaled", ref("x"), ref("z"))),
    "halve": ("integer", apply("halve", ref("i"))),  # Java integer division inside the function
    "outer": ("double", apply("outer", ref("z"))),  # a function calling a function; x shadows a field
    "shout": ("string", apply("shout", ref("s"))),  # a strict function inside: missing s fails the row
    "mapped": ("double", apply("scaled", ref("x"), ref("z"), mapMissingTo="-1")),
    "default": ("string", apply("shout", ref("t"), defaultValue="none")),
}


@pytest.mark.parametrize("name", sorted(DEFINED))
def test_define_function_agrees(name):
    from tests.evaluator.apply_docs import frame

    raw = expression_document({name: DEFINED[name]}, transformations=_FUNCTIONS)
    assert Evaluator.from_bytes(raw, backend="auto").backend_name == "native"
    assert_agrees(raw, frame())


def test_unknown_function_is_refused_by_name():
    raw = expression_document({"u": ("double", apply("nosuch", ref("x")))})
    with pytest.raises(UnsupportedElement, match="nosuch"):
        Evaluator.from_bytes(raw, backend="native")
