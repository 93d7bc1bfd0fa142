"""The read and predict endpoints, in process: shapes, values, versions, CSV streaming."""
from __future__ import annotations

import io

import pandas as pd
import pytest
from serving_helpers import expected_p1, record, v2

pytestmark = pytest.mark.anyio
TOL = 1e-9  # both sides compute one logistic in double precision


async def test_status_is_tf_serving_shape(client):
    r = await client.get("/v1/models/clf")
    assert r.status_code == 200
    assert r.json() == {"model_version_status": [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
    assert (await client.get("/v1/models/clf/versions/1")).json() == r.json()


async def test_metadata_lists_fields_values_and_manifest(client):
    r = await client.get("/v1/models/clf/metadata")
    assert r.status_code == 200 and r.headers["x-model-version"] == "1"
    meta = r.json()["metadata"]
    inputs = {f["name"]: f for f in meta["inputs"]}
    assert inputs["x1"]["dataType"] == "double"
    assert inputs["color"]["values"] == ["red", "green", "blue"]
    assert [f["name"] for f in meta["targets"]] == ["predicted_y"]
    assert [f["name"] for f in meta["outputs"]] == ["probability(0)", "probability(1)"]
    assert meta["manifest"]["sha256"] == client.app.state.models.pick("clf").version.manifest.sha256
    assert r.json()["model_spec"] == {"name": "clf", "version": "1"}


async def test_predict_instances(client):
    recs = [record(), record(x1=-2.0, x2=0.5, color="blue")]
    r = await client.post("/v1/models/clf:predict", json={"instances": recs})
    assert r.status_code == 200
    body = r.json()
    assert body["model_version"] == "1" and r.headers["x-model-version"] == "1"
    for rec, pred in zip(recs, body["predictions"]):
        assert pred["probability(1)"] == pytest.approx(expected_p1(rec, 1), abs=TOL)
        assert pred["probability(0)"] == pytest.approx(1 - expected_p1(rec, 1), abs=TOL)
        assert pred["predicted_y"] == ("1" if expected_p1(rec, 1) > 0.5 else "0")


async def test_predict_single_record_matches_batch_path(client):
    one = (await client.post("/v1/models/clf:predict", json={"instances": [record()]})).json()
    two = (await client.post("/v1/models/clf:predict", json={"instances": [record(), record()]})).json()
    single, batched = one["predictions"][0], two["predictions"][0]
    assert single["predicted_y"] == batched["predicted_y"]
    for name in ("probability(0)", "probability(1)"):
        assert single[name] == pytest.approx(batched[name], abs=TOL)


async def test_predict_columns(client):
    r = await client.post("/v1/models/clf:predict",
                          json={"inputs": {"x1": [1.0, 3.0], "x2": [2.0, 1.0], "color": ["red", "green"]}})
    assert r.status_code == 200
    out = r.json()["outputs"]
    assert list(out) == ["predicted_y", "probability(0)", "probability(1)"]
    assert out["probability(1)"] == pytest.approx(
        [expected_p1(record(), 1), expected_p1(record(3.0, 1.0, "green"), 1)], abs=TOL)


async def test_input_error_names_row_field_value_and_type(client):
    r = await client.post("/v1/models/clf:predict", json={"instances": [record(x1="abc")]})
    assert r.status_code == 400
    assert r.json() == {"error": "row 0: field 'x1': value 'abc' is not a number; expected type double"}
    r = await client.post("/v1/models/clf:predict", json={"instances": [record(), record(color="pink")]})
    assert r.status_code == 400
    assert r.json()["error"].startswith("row 1: field 'color': value 'pink' is not one of")


async def test_per_record_errors_score_the_good_records(client):
    recs = [record(), record(x2="zz"), record(color="blue")]
    r = await client.post("/v1/models/clf:predict", json={"instances": recs, "errors": "per_record"})
    assert r.status_code == 200
    preds = r.json()["predictions"]
    assert preds[1] == {"error": "row 1: field 'x2': value 'zz' is not a number; expected type double"}
    assert preds[0]["probability(1)"] == pytest.approx(expected_p1(recs[0], 1), abs=TOL)
    assert preds[2]["probability(1)"] == pytest.approx(expected_p1(recs[2], 1), abs=TOL)
    metrics = (await client.get("/metrics")).text
    assert 'pmmlkit_serving_errors_total{kind="record",model="clf",version="1"} 1.0' in metrics


async def test_version_and_label_paths_pick_that_version(client, published):
    published.publish("clf", v2())
    client.app.state.models.poll()  # latest:1 -> v2 only; a label pins v1 loaded too
    published.set_label("clf", "stable", 1)
    client.app.state.models.poll()
    rec = record()
    for path, version in (("/v1/models/clf", 2), ("/v1/models/clf/versions/1", 1),
                          ("/v1/models/clf/versions/2", 2), ("/v1/models/clf/labels/stable", 1)):
        r = await client.post(path + ":predict", json={"instances": [rec]})
        assert r.status_code == 200, r.text
        assert r.json()["model_version"] == str(version)
        assert r.json()["predictions"][0]["probability(1)"] == pytest.approx(expected_p1(rec, version), abs=TOL)
    status = (await client.get("/v1/models/clf/labels/stable")).json()["model_version_status"]
    assert [s["version"] for s in status] == ["1"]


async def test_csv_streams_results_chunk_by_chunk(published, make_app):
    import httpx

    app = make_app(csv_chunk_bytes=64)  # many chunks, even on a small body
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    rows = [record(x1=i / 10, x2=(i % 7) - 3.0, color=("red", "green", "blue")[i % 3]) for i in range(60)]
    rows[17]["color"] = "pink"
    text = pd.DataFrame(rows).to_csv(index=False)
    r = await client.post("/v1/models/clf:predict", content=text.encode(),
                          headers={"content-type": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["x-model-version"] == "1"
    out = pd.read_csv(io.StringIO(r.text), keep_default_na=False)
    assert list(out.columns) == ["predicted_y", "probability(0)", "probability(1)", "error"]
    assert len(out) == 60
    assert out.loc[17, "error"].startswith("row 17: field 'color': value 'pink'")
    good = [i for i in range(60) if i != 17]
    expected = [expected_p1(rows[i], 1) for i in good]
    assert out.loc[good, "probability(1)"].astype(float).tolist() == pytest.approx(expected, abs=TOL)


async def test_csv_with_missing_column_is_a_400(client):
    r = await client.post("/v1/models/clf:predict", content=b"x1,x2\n1,2\n",
                          headers={"content-type": "text/csv"})
    assert r.status_code == 400
    assert "'color'" in r.json()["error"]


async def test_health_ready_metrics_openapi(client, make_app, repo):
    assert (await client.get("/healthz")).json() == {"status": "alive"}
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["models"] == ["clf"]
    await client.post("/v1/models/clf:predict", json={"instances": [record()]})
    metrics = (await client.get("/metrics")).text
    assert 'pmmlkit_serving_requests_total{code="200",endpoint="predict",model="clf",version="1"} 1.0' in metrics
    assert 'pmmlkit_serving_request_seconds_count{endpoint="predict",model="clf",version="1"} 1.0' in metrics
    assert 'pmmlkit_serving_loaded_versions{model="clf"} 1.0' in metrics
    assert 'pmmlkit_serving_reload_events_total{model="clf",outcome="loaded",version="1"} 1.0' in metrics
    doc = (await client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.") and "/v1/models/{name}:predict" in doc["paths"]


async def test_readyz_is_503_until_a_required_model_is_available(published, make_app):
    import httpx

    app = make_app(models=("clf", "other"), required=("other",))  # --require; see test_lifecycle_readiness
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/readyz")
        assert r.status_code == 503 and "other" in r.json()["error"]
        published.publish("other", v2())
        app.state.models.poll()
        assert (await c.get("/readyz")).status_code == 200
