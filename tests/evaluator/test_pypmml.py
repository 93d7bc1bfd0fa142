from tests.docs import x_to_y
from tests.evaluator.conformance import check_backend


def test_pypmml_conformance():
    check_backend("pypmml")


def test_a_known_difference_is_declared_at_load_and_is_real(caplog):
    import logging

    from pmmlkit import Evaluator
    from tests.docs import logistic_pmml, null_prediction_tree_pmml

    caplog.set_level(logging.WARNING)
    raw = null_prediction_tree_pmml()
    ev = Evaluator.from_bytes(raw, backend="pypmml", source="tree.pmml")
    [d] = ev.known_differences
    assert (d.backend, d.element, d.path) == ("pypmml", "TreeModel", "PMML/TreeModel")
    [said] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert said.startswith("tree.pmml: pypmml differs at PMML/TreeModel: on rows where a split field is missing")
    assert "nullPrediction" in said and "backend='jpmml'" in said
    # What is declared is what happens: the reference gives no prediction, PMML4S the root's score.
    assert Evaluator.from_bytes(raw, backend="jpmml").predict({"cat": None})["predicted_y"] is None
    assert ev.predict({"cat": None})["predicted_y"] == 0.0
    assert ev.predict({"cat": "b"})["predicted_y"] == 2.0
    # Nothing is declared where nothing differs.
    for backend in ("jpmml", "native"):
        assert Evaluator.from_bytes(raw, backend=backend).known_differences == []
    caplog.clear()
    assert Evaluator.from_bytes(logistic_pmml(), backend="pypmml").known_differences == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_known_differences_are_found_inside_segments():
    from pmmlkit.evaluator.differences import known_differences
    from pmmlkit.pmml import loader
    from tests.docs import null_prediction_tree_pmml

    tree = null_prediction_tree_pmml().decode()
    body = tree[tree.index("<TreeModel"):tree.index("</TreeModel>") + len("</TreeModel>")]
    forest = tree.replace(body, f"""<MiningModel functionName="regression">
      <MiningSchema><MiningField name="y" usageType="target"/><MiningField name="cat"/></MiningSchema>
      <Segmentation multipleModelMethod="sum">
        <Segment id="1"><True/>{body.replace('nullPrediction', 'lastPrediction')}</Segment>
        <Segment id="2"><True/>{body}</Segment>
      </Segmentation></MiningModel>""")
    root = loader.parse(forest.encode()).root
    assert [d.path for d in known_differences(root, "pypmml")] == \
        ["PMML/MiningModel/Segmentation/Segment[2]/TreeModel"]
    assert known_differences(root, "jpmml") == []


def test_missing_integer_and_boolean_values_reach_pmml4s_as_missing():
    """Found by `pmmlkit diff` on generated rows: PMML4S read a null integer as Long.MIN_VALUE
    (answering -1.8e19) and a null boolean as false; pmmlkit now leaves missing values out."""
    import pandas as pd

    from pmmlkit import Evaluator
    from tests.docs import boolean_pmml

    frame = pd.DataFrame({"member": [None, False, True], "visits": [3, None, 3], "code": ["2", "2", None]},
                         dtype=object)
    reference = Evaluator.from_bytes(boolean_pmml(), backend="jpmml").predict_batch(frame)["predicted_spend"]
    got = Evaluator.from_bytes(boolean_pmml(), backend="pypmml").predict_batch(frame)["predicted_spend"]
    assert reference.tolist()[0] == 10 + 2 * 3 + 200  # a missing boolean adds no term
    pd.testing.assert_series_equal(got, reference)


INTEGER_TARGET = x_to_y(
    'RegressionModel functionName="classification" normalizationMethod="logit"',
    '<RegressionTable intercept="0.5" targetCategory="1"><NumericPredictor name="x" coefficient="2"/></RegressionTable>'
    '<RegressionTable intercept="0" targetCategory="0"/>',
    y='<DataField name="y" optype="categorical" dataType="integer"><Value value="0"/><Value value="1"/></DataField>')


def test_an_integer_target_pmml4s_cannot_predict_is_missing_not_long_min():
    """Found by `pmmlkit diff` on generated rows: PMML4S answered -9223372036854775808 (Long.MIN_VALUE)."""
    import pandas as pd

    from pmmlkit import Evaluator

    frame = pd.DataFrame({"x": [1.0, None, -3.0]}, dtype=object)
    reference = Evaluator.from_bytes(INTEGER_TARGET, backend="jpmml").predict_batch(frame)
    got = Evaluator.from_bytes(INTEGER_TARGET, backend="pypmml").predict_batch(frame)
    assert reference["predicted_y"].tolist()[0] == 1 and pd.isna(reference["predicted_y"].iloc[1])
    pd.testing.assert_frame_equal(got, reference)


FLOAT_MATH = x_to_y('RegressionModel functionName="regression" x-mathContext="float"',
                    '<RegressionTable intercept="0.2"><NumericPredictor name="x" coefficient="0.1"/></RegressionTable>')


def test_float_math_context_is_declared_and_is_real():
    """XGBoost and LightGBM documents say x-mathContext="float"; PMML4S computes in double."""
    import numpy as np
    import pandas as pd

    from pmmlkit import Evaluator

    ev = Evaluator.from_bytes(FLOAT_MATH, backend="pypmml")
    [d] = ev.known_differences
    assert (d.element, d.path) == ("RegressionModel", "PMML/RegressionModel") and "x-mathContext" in d.reason
    frame = pd.DataFrame({"x": [1.0, 3.3, 7.7]})
    reference = Evaluator.from_bytes(FLOAT_MATH, backend="jpmml").predict_batch(frame)["predicted_y"].to_numpy()
    got = ev.predict_batch(frame)["predicted_y"].to_numpy()
    assert (reference.astype(np.float32).astype(float) == reference).all()  # JPMML: float arithmetic
    assert (got != reference).all()
    np.testing.assert_allclose(got, reference, rtol=1e-6)
