"""MLflow's scoring protocol: every body format in process, then MLflow's own client against a live server."""
from __future__ import annotations

import io

import httpx
import numpy as np
import pandas as pd
import pytest
from protocol_server import MLFLOW_MODEL, live_fixture  # noqa: F401  (the live server, as `live`)
from serving_helpers import expected_p1, record, v2

pytestmark = pytest.mark.anyio
TOL = 1e-9
RECS = [record(), record(x1=-2.0, x2=0.5, color="blue"), record(x1=3.0, x2=1.0, color="green")]
COLUMNS = {k: [r[k] for r in RECS] for k in RECS[0]}
BODIES = {
    "dataframe_split": {"dataframe_split": {"columns": list(COLUMNS), "data": [list(r.values()) for r in RECS]}},
    "dataframe_split+index": {"dataframe_split": {"index": [5, 6, 7], "columns": list(COLUMNS),
                                                  "data": [list(r.values()) for r in RECS]}},
    "dataframe_records": {"dataframe_records": RECS},
    "instances": {"instances": RECS},
    "inputs as columns": {"inputs": COLUMNS},
    "inputs as records": {"inputs": RECS},
}


def mlflow_error(r: httpx.Response) -> str:
    """The message of an MLflow-shaped error answer (pmmlkit's ``error`` beside it, the same)."""
    body = r.json()
    assert body["error"] == body["message"] and body["error_code"], body
    return body["message"]


async def test_ping_health_version(client):
    for path in ("/ping", "/health"):
        r = await client.get(path)
        assert r.status_code == 200 and r.json() == {"status": "ready", "model": "clf"}
    from pmmlkit import __version__

    assert (await client.get("/version")).text == __version__


@pytest.mark.parametrize("fmt", list(BODIES))
async def test_every_json_format_answers_as_tf_predict(client, fmt):
    tf = (await client.post("/v1/models/clf:predict", json={"instances": RECS})).json()["predictions"]
    r = await client.post("/invocations", json=BODIES[fmt])
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": tf} and r.headers["x-model-version"] == "1"
    assert [p["probability(1)"] for p in tf] == pytest.approx([expected_p1(rec, 1) for rec in RECS], abs=TOL)


@pytest.mark.parametrize("fmt", list(BODIES))
async def test_formats_mean_what_mlflow_reads_them_as(client, fmt):
    """MLflow's own parser turns each body into the frame that pmmlkit scores the same way."""
    from mlflow.pyfunc.scoring_server import infer_and_parse_data

    frame = infer_and_parse_data(BODIES[fmt])
    if not isinstance(frame, pd.DataFrame):  # tensors: columns of arrays, or records of 0-d arrays
        frame = pd.DataFrame(frame).map(lambda v: v.item() if isinstance(v, np.ndarray) else v)
    expected = client.app.state.models.pick("clf").evaluator.predict_batch(frame.reset_index(drop=True))
    r = await client.post("/invocations", json=BODIES[fmt])
    assert pd.DataFrame(r.json()["predictions"]).equals(expected.astype({"predicted_y": object}))


async def test_csv_and_parquet_bodies(client):
    expected = (await client.post("/invocations", json={"instances": RECS})).json()
    csv = pd.DataFrame(RECS).to_csv(index=False).encode()
    r = await client.post("/invocations", content=csv, headers={"Content-Type": "text/csv; charset=utf-8"})
    assert r.status_code == 200 and r.json() == expected
    parquet = io.BytesIO()
    pd.DataFrame(RECS).to_parquet(parquet)
    r = await client.post("/invocations", content=parquet.getvalue(),
                          headers={"Content-Type": "application/vnd.apache.parquet"})
    assert r.status_code == 200 and r.json() == expected
    r = await client.post("/invocations", content=b"x1,x2,color\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json() == {"predictions": []}


async def test_a_bad_record_fails_the_request_in_mlflow_shape(client):
    r = await client.post("/invocations", json={"dataframe_records": [record(), record(color="pink")]})
    assert r.status_code == 400 and r.json()["error_code"] == "BAD_REQUEST"
    assert mlflow_error(r) == "row 1: field 'color': value 'pink' is not one of ['red', 'green', 'blue']"
    r = await client.post("/invocations", content=b"x1,x2,color\n1,2,red\n1,2\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 400 and mlflow_error(r) == "row 1: malformed CSV line: expected 3 fields, found 2"


async def test_per_record_errors_on_request(client):
    r = await client.post("/invocations", json={"instances": [record(), record(x2="zz")],
                                                "params": {"errors": "per_record"}})
    assert r.status_code == 200
    first, second = r.json()["predictions"]
    assert first["probability(1)"] == pytest.approx(expected_p1(record(), 1), abs=TOL)
    assert second == {"error": "row 1: field 'x2': value 'zz' is not a number; expected type double"}


@pytest.mark.parametrize("body, status, message", [
    ({"instances": RECS, "inputs": COLUMNS}, 400, "exactly one of"),
    ({"records": RECS}, 400, "exactly one of"),
    ({"instances": RECS, "params": {"temperature": 1}}, 400, '"params"'),
    ({"dataframe_records": [], "params": False}, 400, '"params" False is not supported'),  # found by schemathesis
    ({"instances": [[1.0, 2.0, "red"]]}, 400, "not an object of field -> value"),
    ({"dataframe_split": {"columns": ["x1", "x2", "color"], "data": [[1.0, 2.0]]}}, 400, "data[0] must be a list of 3"),
    ({"dataframe_split": {"data": [[1.0, 2.0, "red"]]}}, 400, "orient=\"split\""),
    ({"inputs": {"x1": [1.0], "x2": [2.0, 3.0], "color": ["red"]}}, 400, "different lengths"),
])
async def test_body_problems(client, body, status, message):
    r = await client.post("/invocations", json=body)
    assert r.status_code == status and message in mlflow_error(r), r.text


async def test_content_types(client):
    r = await client.post("/invocations", content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and "text/plain" in mlflow_error(r)
    r = await client.post("/invocations", content=b"x1\n1\n", headers={"Content-Type": "text/csv; charset=latin-1"})
    assert r.status_code == 415 and "UTF-8" in mlflow_error(r)
    r = await client.post("/invocations", json={"instances": RECS},
                          headers={"Content-Type": "application/json; format=pandas-records"})
    assert r.status_code == 415 and "['format'] are not supported" in mlflow_error(r)
    stamps = io.BytesIO()
    pd.DataFrame({"x1": [1.0], "x2": [pd.Timestamp("2020-01-01")], "color": ["red"]}).to_parquet(stamps)
    r = await client.post("/invocations", content=stamps.getvalue(),
                          headers={"Content-Type": "application/vnd.apache.parquet"})
    assert r.status_code == 400 and "Parquet column 'x2' has type timestamp" in mlflow_error(r)
    r = await client.post("/invocations", content=b"not parquet",
                          headers={"Content-Type": "application/vnd.apache.parquet"})
    assert r.status_code == 400 and "not a readable Parquet file" in mlflow_error(r)


async def test_which_model_invocations_scores(published, make_app):
    published.publish("clf", v2())
    published.set_label("clf", "stable", 1)
    published.publish("other", v2())
    from pmmlkit.serving.config import Policy, ServerConfig

    for option, status, version in ((None, 404, None), ("clf", 200, "2"), ("clf@stable", 200, "1"),
                                    ("clf:1", 200, "1"), ("nope", 404, None)):
        app = make_app(policy=Policy.parse("all"), mlflow_model=option)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.post("/invocations", json={"instances": RECS})
            assert r.status_code == status, r.text
            ping = await c.get("/ping")
            assert ping.status_code == (200 if status == 200 else 503), ping.text
            if version:
                assert r.headers["x-model-version"] == version
            elif option is None:
                assert "serves 2: ['clf', 'other']; start it with --mlflow-model" in mlflow_error(r)
    from pmmlkit.errors import ConfigError, InvalidModelName

    with pytest.raises(InvalidModelName):  # refused before any worker starts
        ServerConfig(mlflow_model="clf:x")
    with pytest.raises(ConfigError, match="--mlflow-model 'clf': model 'clf' is not served"):
        ServerConfig(models=("other",), mlflow_model="clf")


# --- MLflow's own scoring client, against the live server ------------------------------
@pytest.fixture(scope="module")
def scoring(live):
    from mlflow.pyfunc.scoring_server.client import ScoringServerClient

    host, port = live.base.removeprefix("http://").split(":")
    client = ScoringServerClient(host, int(port))
    client.wait_server_ready(timeout=30)
    return client


def test_mlflow_client_dataframe_and_records(scoring, live):
    assert MLFLOW_MODEL == "clf@stable"
    tf = httpx.post(f"{live.base}/v1/models/clf/labels/stable:predict", json={"instances": RECS}).json()
    frame = scoring.invoke(pd.DataFrame(RECS)).get_predictions()  # sent as dataframe_split
    assert frame.to_dict(orient="records") == tf["predictions"]
    records = scoring.invoke(RECS).get_predictions()  # sent as {"inputs": [records]}
    assert records.equals(frame)
    assert scoring.get_version()


def test_mlflow_client_errors_and_params(scoring):
    with pytest.raises(Exception, match="error code 400.*BAD_REQUEST.*field 'color': value 'pink'"):
        scoring.invoke(pd.DataFrame([record(color="pink")]))
    answer = scoring.invoke(pd.DataFrame([record(), record(color="pink")]), params={"errors": "per_record"})
    assert answer["predictions"][1] == {"error": "row 1: field 'color': value 'pink' is not one of "
                                                 "['red', 'green', 'blue']"}
