"""KServe / Open Inference Protocol v2: hand-written JSON in process, then tritonclient against a live server."""
from __future__ import annotations

import json
import struct

import httpx
import numpy as np
import pytest
from protocol_server import MLFLOW_MODEL, live_fixture  # noqa: F401  (the live server, as `live`)
from serving_helpers import expected_p1, record, v2

from tests.docs import boolean_pmml, logistic_expected, logistic_pmml

pytestmark = pytest.mark.anyio
TOL = 1e-9
RECS = [record(), record(x1=-2.0, x2=0.5, color="blue"), record(x1=3.0, x2=1.0, color="green")]


def tensors(recs: list[dict], types: dict[str, str] | None = None) -> list[dict]:
    """One v2 input tensor per field of ``recs``."""
    types = types or {"x1": "FP64", "x2": "FP64", "color": "BYTES"}
    return [{"name": k, "shape": [len(recs)], "datatype": t, "data": [r[k] for r in recs]} for k, t in types.items()]


def outputs_of(body: dict) -> dict[str, list]:
    return {o["name"]: o["data"] for o in body["outputs"]}


# --- health and metadata --------------------------------------------------------
async def test_health_and_server_metadata(client):
    assert (await client.get("/v2/health/live")).json() == {"live": True}
    assert (await client.get("/v2/health/ready")).json() == {"ready": True}
    meta = (await client.get("/v2")).json()
    assert meta["name"] == "pmmlkit" and meta["extensions"] == ["binary_tensor_data"] and meta["version"]


async def test_not_ready_without_a_model(make_app):
    app = make_app()  # an empty repository
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/v2/health/ready")
        assert r.status_code == 503 and r.json()["ready"] is False and "no model" in r.json()["error"]
        r = await c.get("/v2/models/clf/ready")
        assert r.status_code == 404 and r.json() == {"error": "model 'clf' is not served here; served: []"}


async def test_model_metadata_has_datatypes_versions_and_labels(client):
    r = await client.get("/v2/models/clf")
    assert r.status_code == 200 and r.headers["x-model-version"] == "1"
    meta = r.json()
    assert meta["name"] == "clf" and meta["versions"] == ["1"] and meta["platform"] == "pmml"
    assert meta["inputs"] == [{"name": "x1", "datatype": "FP64", "shape": [-1]},
                              {"name": "x2", "datatype": "FP64", "shape": [-1]},
                              {"name": "color", "datatype": "BYTES", "shape": [-1]}]
    assert meta["outputs"] == [{"name": "predicted_y", "datatype": "BYTES", "shape": [-1]},
                               {"name": "probability(0)", "datatype": "FP64", "shape": [-1]},
                               {"name": "probability(1)", "datatype": "FP64", "shape": [-1]}]
    assert meta["parameters"]["version"] == "1" and meta["parameters"]["labels"] == {}
    assert (await client.get("/v2/models/clf/versions/1")).json() == meta
    assert (await client.get("/v2/models/clf/ready")).json() == {"name": "clf", "ready": True}
    assert (await client.get("/v2/models/clf/versions/9/ready")).status_code == 404


async def test_a_model_whose_versions_failed_is_not_ready_and_says_why(published, make_app):
    published.publish("bad", b'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/></PMML>')
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/v2/models/bad/ready")
        assert r.status_code == 503 and r.json()["ready"] is False
        assert r.json()["error"].startswith("model 'bad' is not ready: version 1: END (") and "DataDictionary" in r.text
        assert (await c.get("/v2/health/ready")).status_code == 200  # one bad model does not take the server out


def test_openapi_documents_every_v2_and_mlflow_route(make_app):
    from starlette.routing import Route

    from pmmlkit.serving.openapi import openapi_document

    doc = openapi_document(models=["clf"])["paths"]
    ours = [r for r in make_app().routes if isinstance(r, Route)
            and r.path.startswith(("/v2", "/invocations", "/ping", "/health", "/version"))
            and r.path != "/healthz"]
    assert len(ours) == 13
    for route in ours:
        path = route.path.replace(":pmmlkit_name}", "}")
        assert path in doc and {m.lower() for m in route.methods} - {"head"} <= set(doc[path]), path


async def test_integer_and_boolean_fields_are_int64_and_bool(repo, make_app):
    repo.publish("bools", boolean_pmml())
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        meta = (await c.get("/v2/models/bools")).json()
        assert {t["name"]: t["datatype"] for t in meta["inputs"]} == {"member": "BOOL", "visits": "INT64",
                                                                      "code": "BYTES"}
        body = {"inputs": [{"name": "member", "shape": [2], "datatype": "BOOL", "data": [True, False]},
                           {"name": "visits", "shape": [2], "datatype": "INT32", "data": [3, 0]},
                           {"name": "code", "shape": [2], "datatype": "INT64", "data": [1, 2]}]}
        r = await c.post("/v2/models/bools/infer", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["outputs"] == [{"name": "predicted_spend", "datatype": "FP64", "shape": [2],
                                        "data": [10 + 6 + 5 + 100, 10 + 0 - 5 + 200]}]


# --- infer -------------------------------------------------------------------------
async def test_infer_answers_one_tensor_per_result_field(client):
    r = await client.post("/v2/models/clf/infer", json={"id": "req-7", "inputs": tensors(RECS)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["model_name"], body["model_version"], body["id"]) == ("clf", "1", "req-7")
    assert r.headers["x-model-version"] == "1"
    assert [(o["name"], o["datatype"], o["shape"]) for o in body["outputs"]] == [
        ("predicted_y", "BYTES", [3]), ("probability(0)", "FP64", [3]), ("probability(1)", "FP64", [3])]
    out = outputs_of(body)
    assert out["probability(1)"] == pytest.approx([expected_p1(rec, 1) for rec in RECS], abs=TOL)
    assert out["predicted_y"] == ["1" if expected_p1(rec, 1) > 0.5 else "0" for rec in RECS]


async def test_infer_agrees_with_tf_predict_exactly(client):
    tf = (await client.post("/v1/models/clf:predict", json={"instances": RECS})).json()["predictions"]
    out = outputs_of((await client.post("/v2/models/clf/infer", json={"inputs": tensors(RECS)})).json())
    assert [{k: out[k][i] for k in out} for i in range(len(RECS))] == tf


async def test_shape_n_by_1_and_nested_data(client):
    flat = (await client.post("/v2/models/clf/infer", json={"inputs": tensors(RECS)})).json()
    nested = [{**t, "shape": [3, 1], "data": [[v] for v in t["data"]]} for t in tensors(RECS)]
    r = await client.post("/v2/models/clf/infer", json={"inputs": nested})
    assert r.status_code == 200 and r.json()["outputs"] == flat["outputs"]


async def test_outputs_selection_and_unknown_output(client):
    wanted = [{"name": "probability(1)"}, {"name": "predicted_y"}]
    r = await client.post("/v2/models/clf/infer", json={"inputs": tensors(RECS), "outputs": wanted})
    assert [o["name"] for o in r.json()["outputs"]] == ["probability(1)", "predicted_y"]
    r = await client.post("/v2/models/clf/infer", json={"inputs": tensors(RECS), "outputs": [{"name": "nope"}]})
    assert r.status_code == 400 and "unknown output(s) ['nope']" in r.json()["error"]


async def test_versions_and_labels(published, make_app):
    published.publish("clf", v2())
    published.set_label("clf", "stable", 1)
    from pmmlkit.serving.config import Policy

    app = make_app(policy=Policy.parse("all"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for path, number in (("", 2), ("/versions/2", 2), ("/versions/1", 1), ("/versions/stable", 1)):
            body = (await c.post(f"/v2/models/clf{path}/infer", json={"inputs": tensors(RECS)})).json()
            assert body["model_version"] == str(number)
            assert outputs_of(body)["probability(1)"] == pytest.approx([expected_p1(r, number) for r in RECS],
                                                                        abs=TOL)
        meta = (await c.get("/v2/models/clf/versions/stable")).json()
        assert meta["versions"] == ["1", "2"] and meta["parameters"] == {**meta["parameters"], "version": "1",
                                                                         "labels": {"stable": 1}}
        r = await c.post("/v2/models/clf/versions/canary/infer", json={"inputs": tensors(RECS)})
        assert r.status_code == 404 and "no label 'canary'" in r.json()["error"]


async def test_batching_changes_no_answer_of_v2_or_mlflow(published, make_app):
    """Concurrent requests gathered into one batch answer as they do alone, per-record errors included."""
    import anyio

    recs = [record(), record(x2="zz"), record(color="pink"), record(x1=-2.0, x2=0.5, color="blue")]
    types = {"x1": "FP64", "x2": "BYTES", "color": "BYTES"}
    v2_body = {"inputs": tensors([{**r, "x2": str(r["x2"])} for r in recs], types),
               "parameters": {"errors": "per_record"}}
    mlflow_body = {"instances": recs, "params": {"errors": "per_record"}}

    async def answers(**batching) -> tuple[list[str], object]:
        app = make_app(**batching)
        out: list[str] = [""] * 16
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            async def one(i: int) -> None:
                path, body = ("/v2/models/clf/infer", v2_body) if i % 2 else ("/invocations", mlflow_body)
                out[i] = (await c.post(path, json=body)).text

            async with anyio.create_task_group() as tg:
                for i in range(16):
                    tg.start_soon(one, i)
        return out, app.state.core.batcher

    alone, off = await answers(max_batch_size=0)
    together, batcher = await answers(max_batch_size=256, batch_timeout_micros=2000)
    assert together == alone and off is None
    assert batcher.requests > batcher.batches  # requests did share batches
    assert "row 2: field 'color': value 'pink'" in alone[0] and "row 1: field 'x2'" in alone[1]


# --- errors ---------------------------------------------------------------------------
async def test_a_bad_record_fails_the_request_naming_row_field_value(client):
    recs = [record(), record(color="pink")]
    r = await client.post("/v2/models/clf/infer", json={"inputs": tensors(recs)})
    tf = await client.post("/v1/models/clf:predict", json={"instances": recs})
    assert r.status_code == 400 == tf.status_code
    assert r.json() == tf.json() == {"error": "row 1: field 'color': value 'pink' is not one of "
                                              "['red', 'green', 'blue']"}


async def test_per_record_errors_answer_null_and_an_error_tensor(client):
    recs = [record(), record(x2="zz"), record(color="blue")]
    types = {"x1": "FP64", "x2": "BYTES", "color": "BYTES"}
    recs_text = [{**r, "x2": str(r["x2"])} if r["x2"] != "zz" else r for r in recs]
    r = await client.post("/v2/models/clf/infer", json={"inputs": tensors(recs_text, types),
                                                        "parameters": {"errors": "per_record"}})
    assert r.status_code == 200, r.text
    out = outputs_of(r.json())
    assert out["error"] == ["", "row 1: field 'x2': value 'zz' is not a number; expected type double", ""]
    assert out["predicted_y"][1] is None and out["probability(1)"][1] is None
    assert out["probability(1)"][2] == pytest.approx(expected_p1(recs[2], 1), abs=TOL)


async def test_null_and_nan_are_missing_values(repo, make_app):
    repo.publish("logit", logistic_pmml())
    app = make_app()
    inputs = [{"name": "x1", "shape": [2], "datatype": "FP64", "data": [None, 0.5]},
              {"name": "x2", "shape": [2], "datatype": "INT64", "data": [10, 20]},
              {"name": "device", "shape": [2], "datatype": "BYTES", "data": ["ios", "web"]}]
    expected = [logistic_expected(None, 10, "ios"), logistic_expected(0.5, 20, "web")]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        out = outputs_of((await c.post("/v2/models/logit/infer", json={"inputs": inputs})).json())
        assert out["probability(yes)"] == pytest.approx(expected, abs=TOL)
        # the same request in binary: NaN is the missing value of a floating-point tensor
        raws = [np.array([np.nan, 0.5]).tobytes(), np.array([10, 20], dtype="<i8").tobytes(),
                _strings(["ios", "web"])]
        body, headers = _binary_request([_binary(t, len(raw)) for t, raw in zip(inputs, raws)], b"".join(raws))
        r = await c.post("/v2/models/logit/infer", content=body, headers=headers)
        assert outputs_of(r.json())["probability(yes)"] == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("tensor, message", [
    ({"name": "x1", "shape": [1], "datatype": "INT32", "data": [2.5]},
     "row 0: input 'x1' (INT32): element 2.5 is not an integer"),
    ({"name": "x1", "shape": [1], "datatype": "INT32", "data": [2 ** 40]},
     "row 0: input 'x1' (INT32): element 1099511627776 is not an integer within INT32"),
    ({"name": "x1", "shape": [1], "datatype": "FP64", "data": ["1.5"]},
     "row 0: input 'x1' (FP64): element '1.5' is not a number"),
    ({"name": "x1", "shape": [1], "datatype": "BOOL", "data": [1]}, "element 1 is not true or false"),
    ({"name": "x1", "shape": [1], "datatype": "FP128", "data": [1.0]}, "datatype 'FP128' is not one of"),
    ({"name": "x1", "shape": [1], "datatype": {}, "data": [1.0]}, "datatype {} is not one of"),  # was a 500
    ({"name": "x1", "shape": [1], "datatype": "FP64", "data": [1.0], "dims": [1]}, "unknown key(s) ['dims']"),
    ({"name": "x1", "shape": [1, 2], "datatype": "FP64", "data": [1.0, 2.0]}, "shape [1, 2] is not [n] or [n, 1]"),
    ({"name": "x1", "shape": [2], "datatype": "FP64", "data": [1.0]}, "shape says 2 rows but \"data\" holds 1"),
    ({"name": "x1", "shape": [1], "datatype": "FP64", "data": [1.0], "parameters": {"classification": 2}},
     "unsupported parameter(s) ['classification']"),
])
async def test_tensor_problems_are_400_naming_the_input(client, tensor, message):
    inputs = [tensor] + [t for t in tensors([record()]) if t["name"] != "x1"]
    r = await client.post("/v2/models/clf/infer", json={"inputs": inputs})
    assert r.status_code == 400 and message in r.json()["error"], r.text


@pytest.mark.parametrize("body, message", [
    ({"inputs": []}, '"inputs" must be a non-empty list'),
    ({"inputs": tensors([record()]) + tensors([record()])[:1]}, "input tensor 'x1' appears twice"),
    ({"inputs": tensors([record()])[:2]}, "field 'color'"),  # an absent field: the contract names it
    ({"inputs": tensors([record(), record()])[:2] + tensors([record()])[2:]}, "different numbers of rows"),
    ({"inputs": tensors([record()]), "instances": []}, "unknown key(s) ['instances']"),
    ({"inputs": tensors([record()]), "parameters": {"priority": 1}}, "unsupported parameter(s) ['priority']"),
    ({"inputs": tensors([record()]), "id": 7}, '"id" must be a string'),
])
async def test_request_problems_are_400(client, body, message):
    r = await client.post("/v2/models/clf/infer", json=body)
    assert r.status_code == 400 and message in r.json()["error"], r.text


async def test_binary_body_problems_are_400(client):
    inputs = [_binary(t, 8) for t in tensors([record()])[:2]] + tensors([record()])[2:]
    body, headers = _binary_request(inputs, np.array([1.0, 2.0]).tobytes())
    assert (await client.post("/v2/models/clf/infer", content=body, headers=headers)).status_code == 200
    for raw, message in ((np.array([1.0]).tobytes(), "runs past the end"),
                         (np.array([1.0, 2.0, 3.0]).tobytes(), "8 bytes of binary data that no input")):
        body, headers = _binary_request(inputs, raw)
        r = await client.post("/v2/models/clf/infer", content=body, headers=headers)
        assert r.status_code == 400 and message in r.json()["error"], r.text
    for length in ("9" * 5000, "x", str(len(body) + 1)):  # 5,000 digits used to be a 500 (int() refuses them)
        r = await client.post("/v2/models/clf/infer", content=body, headers={**headers,
                                                                            "Inference-Header-Content-Length": length})
        assert r.status_code == 400 and "is not a length within the" in r.json()["error"], r.text
    body, headers = _binary_request(tensors([record()])[:2] + [_binary(tensors([record()])[2], 5)],
                                    struct.pack("<I", 1) + b"\xff")
    r = await client.post("/v2/models/clf/infer", content=body, headers=headers)
    assert r.status_code == 400 and r.json()["error"] == "row 0: input 'color' (BYTES): the element is not UTF-8 text"


async def test_a_compressed_request_is_refused_not_misread(client):
    import gzip

    r = await client.post("/v2/models/clf/infer", content=gzip.compress(json.dumps({"inputs": tensors(RECS)}).encode()),
                          headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert r.status_code == 415 and r.json() == {"error": "Content-Encoding 'gzip' is not supported; send the "
                                                          "request uncompressed"}


def _strings(values: list[str]) -> bytes:
    return b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)


def _binary(tensor: dict, size: int) -> dict:
    """``tensor`` announcing ``size`` bytes of binary data instead of JSON ``data``."""
    return {k: v for k, v in tensor.items() if k != "data"} | {"parameters": {"binary_data_size": size}}


def _binary_request(inputs: list[dict], raw: bytes) -> tuple[bytes, dict[str, str]]:
    """A request in Triton's binary tensor format: the JSON header, then the tensors' bytes."""
    header = json.dumps({"inputs": inputs}).encode()
    return header + raw, {"Inference-Header-Content-Length": str(len(header)),
                          "Content-Type": "application/octet-stream"}


# --- a real client: tritonclient over HTTP ---------------------------------------------
@pytest.fixture(scope="module")
def triton(live):
    import tritonclient.http as http
    client = http.InferenceServerClient(live.base.removeprefix("http://"))
    yield client
    client.close()


def _infer(triton, recs, *, version="", binary=True, outputs=None):
    import tritonclient.http as http

    inputs = []
    for name, dtype, arr in (("x1", "FP64", np.array([r["x1"] for r in recs])),
                             ("x2", "FP32", np.array([r["x2"] for r in recs], dtype=np.float32)),
                             ("color", "BYTES", np.array([r["color"] for r in recs], dtype=object))):
        inputs.append(http.InferInput(name, [len(recs)], dtype).set_data_from_numpy(arr, binary_data=binary))
    wanted = [http.InferRequestedOutput(o, binary_data=binary) for o in outputs] if outputs else None
    return triton.infer("clf", inputs, model_version=version, outputs=wanted, request_id="abc")


def test_triton_client_health_and_metadata(triton):
    assert triton.is_server_live() and triton.is_server_ready()
    assert triton.get_server_metadata()["name"] == "pmmlkit"
    assert triton.is_model_ready("clf") and triton.is_model_ready("clf", "stable")
    assert not triton.is_model_ready("clf", "7")
    meta = triton.get_model_metadata("clf", "stable")
    assert meta["versions"] == ["1", "2"] and meta["parameters"]["version"] == "1"
    assert [(t["name"], t["datatype"]) for t in meta["outputs"]] == [
        ("predicted_y", "BYTES"), ("probability(0)", "FP64"), ("probability(1)", "FP64")]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("version, number", [("", 2), ("1", 1), ("stable", 1)])
def test_triton_client_infer(triton, binary, version, number):
    recs = [{**r, "x2": float(np.float32(r["x2"]))} for r in RECS]
    result = _infer(triton, recs, version=version, binary=binary,
                    outputs=None if binary else ["predicted_y", "probability(1)"])
    response = result.get_response()
    assert response["model_version"] == str(number) and response["id"] == "abc"
    # the data travelled as the client asked: raw bytes after the JSON header, or JSON lists
    assert all(("binary_data_size" in o.get("parameters", {})) == binary and ("data" in o) != binary
               for o in response["outputs"])
    assert result.as_numpy("probability(1)").tolist() == pytest.approx([expected_p1(r, number) for r in recs],
                                                                        abs=TOL)
    labels = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("predicted_y").tolist()]
    assert labels == ["1" if expected_p1(r, number) > 0.5 else "0" for r in recs]


def test_triton_client_sees_the_error(triton):
    from tritonclient.utils import InferenceServerException

    with pytest.raises(InferenceServerException) as info:
        _infer(triton, [record(), record(color="pink")])
    assert info.value.status() == "400"
    assert info.value.message() == "row 1: field 'color': value 'pink' is not one of ['red', 'green', 'blue']"


def test_triton_client_per_record_errors_in_binary(triton):
    """A failed record is NaN in a binary FP64 output; a BYTES output holding a missing value goes as JSON."""
    import tritonclient.http as http

    recs = [record(), record(color="pink")]
    inputs = [http.InferInput(name, [2], dtype).set_data_from_numpy(arr)
              for name, dtype, arr in (("x1", "FP64", np.array([r["x1"] for r in recs])),
                                       ("x2", "FP64", np.array([r["x2"] for r in recs])),
                                       ("color", "BYTES", np.array([r["color"] for r in recs], dtype=object)))]
    result = triton.infer("clf", inputs, model_version="1", parameters={"errors": "per_record"})
    p1 = result.as_numpy("probability(1)")
    assert p1[0] == pytest.approx(expected_p1(record(), 1), abs=TOL) and np.isnan(p1[1])
    assert result.as_numpy("predicted_y").tolist() == ["1" if expected_p1(record(), 1) > 0.5 else "0", None]
    assert [e.decode() for e in result.as_numpy("error").tolist()] == [
        "", "row 1: field 'color': value 'pink' is not one of ['red', 'green', 'blue']"]
    sent = {o["name"]: o for o in result.get_response()["outputs"]}
    assert "data" in sent["predicted_y"] and "binary_data_size" in sent["probability(1)"]["parameters"]


def test_the_three_protocols_agree(triton, live):
    """The same records through TF Serving, v2 (tritonclient, binary) and MLflow (its own client)."""
    import pandas as pd
    from mlflow.pyfunc.scoring_server.client import ScoringServerClient

    recs = [{**r, "x2": float(np.float32(r["x2"]))} for r in RECS]
    host, port = live.base.removeprefix("http://").split(":")
    mlflow = ScoringServerClient(host, int(port)).invoke(pd.DataFrame(recs)).get_predictions()
    assert MLFLOW_MODEL == "clf@stable"
    for path, version in (("/labels/stable", "stable"), ("/versions/2", "2")):
        tf = httpx.post(f"{live.base}/v1/models/clf{path}:predict", json={"instances": recs}).json()["predictions"]
        result = _infer(triton, recs, version=version)
        assert result.as_numpy("probability(1)").tolist() == [p["probability(1)"] for p in tf]
        assert [v.decode() for v in result.as_numpy("predicted_y").tolist()] == [p["predicted_y"] for p in tf]
        if version == "stable":
            assert mlflow.to_dict(orient="records") == tf
