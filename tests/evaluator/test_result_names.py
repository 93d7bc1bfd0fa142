"""Results are published as predicted_<target> (outputs keep their PMML names) by every Evaluator method (issue 18)."""
from __future__ import annotations

import pytest

from pmmlkit.errors import ConfigError, VerificationError
from pmmlkit.evaluator import Evaluator
from pmmlkit.evaluator.names import result_schema
from tests.ctr_docs import bid_price_pmml, clicked_pmml, ctr_frame

BACKENDS = ["native", "jpmml"]
CLICKED = ["predicted_clicked", "probability(0)", "probability(1)"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_method_publishes_predicted_target(backend):
    frame = ctr_frame(50)
    inputs = frame.drop(columns=["clicked"])
    ev = Evaluator.from_bytes(clicked_pmml(), backend=backend)
    assert ev.result_names == tuple(CLICKED)
    assert ev.result_fields["predicted_clicked"].name == "clicked"  # the PMML field behind it
    assert list(ev.predict(inputs.iloc[0].to_dict())) == CLICKED
    batch = ev.predict_batch(inputs, errors="column")
    assert list(batch.columns) == [*CLICKED, "error"]
    records = ev.predict_records(inputs.fillna("").to_dict("records"))
    assert list(records.results[0]) == CLICKED
    # The prediction is not the label: on this data they differ where the model is wrong.
    wrong = (batch["predicted_clicked"] != frame["clicked"]).sum()
    assert 0 < wrong < len(frame)
    assert [r["predicted_clicked"] for r in records.results] == batch["predicted_clicked"].tolist()


@pytest.mark.parametrize("backend", BACKENDS)
def test_regression_target_is_published_too(backend):
    ev = Evaluator.from_bytes(bid_price_pmml(), backend=backend)
    out = ev.predict_batch(ctr_frame(5), errors="column")
    assert list(out.columns) == ["predicted_bid_price", "error"]
    assert ev.result_name("bid_price") == "predicted_bid_price"


def test_an_output_field_named_like_the_published_target_keeps_its_name():
    extra = ('<OutputField name="predicted_clicked" optype="continuous" dataType="double" '
             'feature="probability" value="1"/>')
    ev = Evaluator.from_bytes(clicked_pmml(extra_output=extra), backend="native")
    # The own_column rule: the target gives way with a leading underscore, the output keeps its PMML name.
    assert ev.result_names == ("_predicted_clicked", "probability(0)", "probability(1)", "predicted_clicked")
    out = ev.predict(ctr_frame(1).iloc[0].to_dict())
    assert out["_predicted_clicked"] == 0
    assert out["predicted_clicked"] == pytest.approx(out["probability(1)"])


def test_result_name_refuses_a_field_that_is_not_a_result():
    ev = Evaluator.from_bytes(bid_price_pmml(), backend="native")
    with pytest.raises(ConfigError, match=r"'age' is not a result field .* its results are \['bid_price'\]"):
        ev.result_name("age")


def test_result_schema_names_the_pmml_target():
    ev = Evaluator.from_bytes(clicked_pmml(), backend="native")
    described = result_schema(ev.schema)
    assert [d["name"] for d in described] == CLICKED
    assert described[0]["target"] == "clicked" and "target" not in described[1]
    assert [f.name for f in ev.published_fields] == CLICKED


def _verified(expected: int) -> bytes:
    # ModelVerification names the PMML target ("clicked"), not its published name.
    record = ('<ModelVerification><VerificationFields><VerificationField field="age"/>'
              '<VerificationField field="hour"/><VerificationField field="ctr_history"/>'
              '<VerificationField field="device"/><VerificationField field="clicked"/></VerificationFields>'
              f'<InlineTable><row><age>30</age><hour>1</hour><ctr_history>0.2</ctr_history><device>ios</device>'
              f'<clicked>{expected}</clicked></row></InlineTable></ModelVerification>')
    return clicked_pmml().replace(b"<RegressionTable targetCategory=\"1\"", record.encode()
                                  + b"<RegressionTable targetCategory=\"1\"", 1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_verification_compares_the_target_through_the_mapping(backend):
    assert Evaluator.from_bytes(_verified(1), backend=backend).result_names[0] == "predicted_clicked"
    with pytest.raises(VerificationError, match=r"field 'clicked': expected '0', got \S*1"):
        Evaluator.from_bytes(_verified(0), backend=backend)
