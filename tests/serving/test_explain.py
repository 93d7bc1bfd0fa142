"""``"explain": true`` over HTTP: TF :predict (rows and columns) and MLflow /invocations, in process."""
from __future__ import annotations

import io
import math

import httpx
import pandas as pd
import pytest
from serving_helpers import record, v1

pytestmark = pytest.mark.anyio
TOL = 1e-9
RECS = [record(), record(x1=-2.0, x2=0.5, color="blue"), record(x1=3.0, x2=1.0, color="green")]
BACKGROUND = pd.DataFrame([record(x1=x / 10, x2=1 - x / 20, color=c) for x, c in
                           zip(range(-20, 20), ["red", "green", "blue", "red"] * 10)])


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf)
    return buf.getvalue()


@pytest.fixture
async def explaining(repo, make_app):
    """``clf`` version 1 published with a background.parquet, as ``pmmlkit train`` publishes it."""
    repo.publish("clf", v1(), files={"background.parquet": _parquet(BACKGROUND)})
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


def _expected(rec: dict) -> dict:
    from pmmlkit import Evaluator

    ev = Evaluator.from_bytes(v1(), backend="native", background=BACKGROUND)
    return ev.predict(rec, explain=True)["explanation"]


def _check(got: dict, rec: dict) -> None:
    want = _expected(rec)
    assert got["of"] == want["of"] == "log-odds of y=1"
    assert set(got["contributions"]) == {"x1", "x2", "color"}
    for f, v in want["contributions"].items():
        assert math.isclose(got["contributions"][f], v, abs_tol=TOL)
    assert abs(got["base"] + sum(got["contributions"].values()) - got["raw"]) < TOL


async def test_tf_predict_rows_and_columns(explaining):
    r = await explaining.post("/v1/models/clf:predict", json={"instances": RECS, "explain": True})
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    for p, rec in zip(predictions, RECS):
        _check(p["explanation"], rec)
        assert "predicted_y" in p
    columns = {k: [rec[k] for rec in RECS] for k in RECS[0]}
    r = await explaining.post("/v1/models/clf:predict", json={"inputs": columns, "explain": True,
                                                              "errors": "per_record"})
    assert r.status_code == 200, r.text
    for got, rec in zip(r.json()["outputs"]["explanation"], RECS):
        _check(got, rec)


async def test_a_failing_record_has_no_explanation(explaining):
    bad = record(color="purple")
    r = await explaining.post("/v1/models/clf:predict", json={"instances": [RECS[0], bad], "explain": True,
                                                              "errors": "per_record"})
    first, second = r.json()["predictions"]
    _check(first["explanation"], RECS[0])
    assert "explanation" not in second and "purple" in second["error"]


async def test_without_explain_nothing_changes(explaining):
    r = await explaining.post("/v1/models/clf:predict", json={"instances": RECS})
    assert all("explanation" not in p for p in r.json()["predictions"])


async def test_explain_must_be_a_boolean(explaining):
    r = await explaining.post("/v1/models/clf:predict", json={"instances": RECS, "explain": "yes"})
    assert r.status_code == 400 and '"explain"' in r.json()["error"]


async def test_mlflow_invocations(explaining):
    r = await explaining.post("/invocations", json={"dataframe_records": RECS, "params": {"explain": True}})
    assert r.status_code == 200, r.text
    for p, rec in zip(r.json()["predictions"], RECS):
        _check(p["explanation"], rec)


async def test_a_version_without_background_is_a_400_saying_how(published, make_app):
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        r = await c.post("/v1/models/clf:predict", json={"instances": RECS, "explain": True})
    assert r.status_code == 400
    assert "needs background rows" in r.json()["error"] and "background.parquet" in r.json()["error"]


async def test_another_backend_is_a_400(repo, make_app):
    pytest.importorskip("jpmml_evaluator")
    repo.publish("clf", v1(), files={"background.parquet": _parquet(BACKGROUND)})
    app = make_app(backend="jpmml")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        r = await c.post("/v1/models/clf:predict", json={"instances": RECS, "explain": True})
        assert r.status_code == 400
        assert r.json()["error"] == ("explanations are computed by the native backend only; this evaluator uses "
                                     "jpmml: load with backend='native'")
        r = await c.post("/v1/models/clf:predict", json={"instances": RECS})
        assert r.status_code == 200  # the same server scores without explain
