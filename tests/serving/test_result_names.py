"""Every protocol answers under the names Python and the CLI use: predicted_<target>, then outputs (issue 18)."""
from __future__ import annotations

import json

import httpx
import pytest

from pmmlkit.evaluator import Evaluator
from tests.ctr_docs import bid_price_pmml, clicked_pmml, ctr_frame

pytestmark = pytest.mark.anyio
CLICKED = ["predicted_clicked", "probability(0)", "probability(1)"]
INPUTS = ["age", "hour", "ctr_history", "device"]


def _records(n: int = 6) -> list[dict]:
    frame = ctr_frame(n)[INPUTS]
    return frame.astype(object).where(frame.notna(), None).replace("", None).to_dict("records")


def _python(raw: bytes, records: list[dict]) -> list[dict]:
    return Evaluator.from_bytes(raw, backend="native").predict_records(records).results


@pytest.fixture
async def ctr_client(repo, make_app, tmp_path):
    repo.publish("ctr", clicked_pmml())
    app = make_app(log_requests=str(tmp_path / "logs"), log_sample=1.0, mlflow_model="ctr")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        c.app = app
        yield c


async def test_tf_mlflow_and_v2_answer_with_the_python_names(ctr_client, tmp_path):
    recs = _records()
    want = _python(clicked_pmml(), recs)
    assert list(want[0]) == CLICKED
    tf = (await ctr_client.post("/v1/models/ctr:predict", json={"instances": recs})).json()["predictions"]
    assert tf == want
    cols = (await ctr_client.post("/v1/models/ctr:predict",
                                  json={"inputs": {k: [r[k] for r in recs] for k in INPUTS}})).json()["outputs"]
    assert list(cols) == CLICKED and cols["predicted_clicked"] == [w["predicted_clicked"] for w in want]
    mlflow = (await ctr_client.post("/invocations", json={"dataframe_records": recs})).json()["predictions"]
    assert mlflow == want
    tensors = [{"name": k, "datatype": "FP64" if k != "device" else "BYTES", "shape": [len(recs)],
                "data": [r[k] for r in recs]} for k in INPUTS]
    v2 = (await ctr_client.post("/v2/models/ctr/infer", json={"inputs": tensors})).json()["outputs"]
    assert [o["name"] for o in v2] == CLICKED
    assert v2[0]["data"] == [w["predicted_clicked"] for w in want]
    csv = "age,hour,ctr_history,device\n30,1,0.2,ios\n"
    r = await ctr_client.post("/v1/models/ctr:predict", content=csv, headers={"Content-Type": "text/csv"})
    assert r.text.splitlines()[0].startswith("predicted_clicked,probability(0),probability(1)")
    ctr_client.app.state.core.monitoring.close()  # flushes the request log
    logged = [json.loads(line) for f in sorted((tmp_path / "logs").rglob("*.jsonl")) for line in f.open()]
    assert logged and all(list(e["outputs"]) == CLICKED for e in logged)


async def test_metadata_and_signatures_name_the_published_results(ctr_client):
    meta = (await ctr_client.get("/v1/models/ctr/metadata")).json()["metadata"]
    assert [f["name"] for f in meta["targets"]] == ["predicted_clicked"]
    assert [f["name"] for f in meta["outputs"]] == CLICKED[1:]
    v2 = (await ctr_client.get("/v2/models/ctr")).json()
    assert [o["name"] for o in v2["outputs"]] == CLICKED


async def test_classify_finds_the_probabilities_of_the_published_target(repo, make_app):
    # OutputFields name their target by its PMML name (targetField="clicked"); :classify still pairs them.
    targeted = clicked_pmml().replace(b'feature="probability"', b'targetField="clicked" feature="probability"')
    repo.publish("ctr", targeted)
    app = make_app()
    recs = _records(3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        result = (await c.post("/v1/models/ctr:classify", json={"examples": recs})).json()["result"]
    want = _python(clicked_pmml(), recs)
    assert result == [[["0", w["probability(0)"]], ["1", w["probability(1)"]]] for w in want]


async def test_regress_and_admin_upload_use_predicted_bid_price(repo, make_app):
    from serving_helpers import ADMIN_TOKEN

    repo.publish("bids", bid_price_pmml())
    app = make_app()
    recs = _records(4)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        got = (await c.post("/v1/models/bids:regress", json={"examples": recs})).json()["result"]
        assert got == [w["predicted_bid_price"] for w in _python(bid_price_pmml(), recs)]
        r = await c.put("/v1/models/bids2/versions", content=bid_price_pmml(),
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert r.status_code == 201, r.text
    schema = repo.resolve("bids2").manifest.output_schema
    assert schema == [{"name": "predicted_bid_price", "dataType": "double", "opType": "continuous",
                       "target": "bid_price"}]
