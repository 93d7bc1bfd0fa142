"""A record scored by ``predict`` gets the very bits its row gets in ``predict_batch``, alone or in a batch.

Real producers' documents (scikit-learn's forests and boosting, LightGBM, XGBoost, a GLM) on rows
that probe every split from both sides, missing and invalid values included, on both kernel paths.
The record plan (native/recordplan.py) and the array path must both meet the batch exactly: a
boosted model's 50 trees summed in another order differ in the last bit for about half the rows.
"""
from __future__ import annotations

import pandas as pd
import pytest

from pmmlkit import Evaluator
from pmmlkit.evaluator.native import compiled
from pmmlkit.evaluator.probe import probe_rows
from pmmlkit.pmml.loader import parse
from tests.evaluator.kernels import KINDS, available
from tests.evaluator.native_docs import HEAD, data_dictionary, real_documents
from tests.evaluator.record_bits import assert_records_equal_batch, bits, record, row_bits

REAL = real_documents()
ROWS = 300
ALONE = 30  # rows also scored as a batch of one row each
PLANNED = ("sklearn_dtr", "sklearn_gbc", "sklearn_gbr", "sklearn_rfc", "sklearn_rfr", "sklearn_logreg")


@pytest.fixture(params=KINDS)
def kernels(request):
    if not available(request.param):
        pytest.skip(f"the {request.param} kernels are not available here")
    before = compiled.name()
    compiled.use(request.param)
    yield request.param
    compiled.use(before)


@pytest.mark.parametrize("plan", [True, False], ids=["plan", "arrays"])
@pytest.mark.parametrize("name", sorted(REAL))
def test_record_equals_batch_bit_for_bit(name, kernels, plan):
    """Both record paths: the record plan where it applies, and the array path it falls back to."""
    raw = REAL[name]
    frame = probe_rows(parse(raw), max_rows=ROWS).reset_index(drop=True)
    ev = Evaluator.from_bytes(raw, backend="native", threads=1)
    if not plan:
        ev.backend._record = None
    assert_records_equal_batch(ev, frame, alone=ALONE)


@pytest.fixture(scope="module")
def peer_gbt(tmp_path_factory) -> bytes:
    """The peer benchmark's GBT (50 trees, depth 5; benchmarks/peer_models.py) fitted on 3,000 rows."""
    pytest.importorskip("sklearn2pmml")
    from sklearn2pmml import sklearn2pmml

    from benchmarks.peer_models import MODELS, pipeline, raw_rows
    from examples.generate_ctr import LABEL, generate

    train = raw_rows(3_000, 1)
    pipe = pipeline(MODELS[1]).fit(train, generate(3_000, 1)[LABEL])
    pipe.configure(compact=False)  # as the benchmark converts it
    out = tmp_path_factory.mktemp("peer_gbt") / "gbt.pmml"
    sklearn2pmml(pipe, str(out))
    return out.read_bytes()


def test_boosted_classifier_record_equals_batch(peer_gbt, kernels):
    """The peer GBT on raw rows: sklearn2pmml's modelChain (a sum of 50 trees, then a logit)."""
    from benchmarks.peer_models import raw_rows

    frame = raw_rows(ROWS, 7)
    ev = Evaluator.from_bytes(peer_gbt, backend="native", threads=1)
    batch = ev.predict_batch(frame)
    for i in range(len(frame)):
        got = {k: bits(v) for k, v in ev.predict(record(frame, i)).items()}
        assert got == row_bits(batch, i), f"row {i}: {frame.iloc[i].to_dict()}"


@pytest.mark.parametrize("name", PLANNED)
def test_common_models_take_the_record_plan(name):
    """The plan covers the usual documents (or predict would silently lose its speed)."""
    ev = Evaluator.from_bytes(REAL[name], backend="native")
    assert ev.backend._record is not None
    frame = probe_rows(parse(REAL[name]), max_rows=20)
    typed = ev.contract.check_record(record(frame, 0))
    assert ev.backend._record(typed) is not None


# JPMML-SparkML's shapes in small: a category's missing value mapped by a derived field of one
# input, a test of an integer category (a virtual column of the trees), a label mapped to a number.
SPARK_SHAPES = (HEAD + data_dictionary(
    '<DataField name="s" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/></DataField>'
    '<DataField name="c" optype="categorical" dataType="integer"><Value value="1"/><Value value="3"/></DataField>'
    '<DataField name="y" optype="categorical" dataType="string"><Value value="no"/><Value value="yes"/></DataField>')
    + '<TreeModel functionName="classification"><MiningSchema><MiningField name="y" usageType="target"/>'
    '<MiningField name="s"/><MiningField name="c"/></MiningSchema>'
    '<Output><OutputField name="label" optype="categorical" dataType="string" feature="predictedValue"/>'
    '<OutputField name="as_number" optype="continuous" dataType="double" feature="transformedValue">'
    '<MapValues outputColumn="n" dataType="double"><FieldColumnPair field="label" column="k"/>'
    '<InlineTable><row><k>no</k><n>0</n></row><row><k>yes</k><n>1</n></row></InlineTable></MapValues>'
    '</OutputField></Output>'
    '<LocalTransformations><DerivedField name="s_cat" optype="categorical" dataType="string">'
    '<Apply function="if"><Apply function="isMissing"><FieldRef field="s"/></Apply>'
    '<Constant dataType="string">__missing__</Constant><FieldRef field="s"/></Apply></DerivedField>'
    '</LocalTransformations>'
    '<Node score="no"><True/>'
    '<Node score="yes"><SimplePredicate field="c" operator="equal" value="3"/>'
    '<ScoreDistribution value="no" recordCount="1"/><ScoreDistribution value="yes" recordCount="3"/></Node>'
    '<Node score="yes"><SimpleSetPredicate field="s_cat" booleanOperator="isIn">'
    '<Array type="string">a __missing__</Array></SimpleSetPredicate>'
    '<ScoreDistribution value="no" recordCount="2"/><ScoreDistribution value="yes" recordCount="3"/></Node>'
    '<Node score="no"><True/><ScoreDistribution value="no" recordCount="4"/>'
    '<ScoreDistribution value="yes" recordCount="1"/></Node>'
    '</Node></TreeModel></PMML>').encode()


def test_derived_fields_of_one_input_take_the_record_plan(kernels):
    """A value's first record takes the array path, which remembers the derived field's value for it;
    the same values then take the plan. Both give the batch's bits, before and after."""
    frame = pd.DataFrame({"s": ["a", "b", None, "b", "a", None] * 3,
                          "c": [1.0, 3.0, 1.0, None, 3.0, 1.0] * 3})
    ev = Evaluator.from_bytes(SPARK_SHAPES, backend="native", threads=1)
    plan, answered = ev.backend._record, []
    assert plan is not None

    def counted(fields):
        scored = plan(fields)
        answered.append(scored is not None)
        return scored
    ev.backend._record = counted
    assert_records_equal_batch(ev, frame, batch_by=Evaluator.from_bytes(SPARK_SHAPES, backend="native"))
    assert not all(answered)  # each value's first record: nothing remembered yet
    answered.clear()
    assert_records_equal_batch(ev, frame)
    assert answered and all(answered)
