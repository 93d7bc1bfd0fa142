"""One way to count rows (issue 18 item 7): the same bad record has the same number in the CLI's
rejects, in Python's predict_batch, in the server's JSON and CSV answers and in Spark scoring's rejects.

Rows count from 0 (``errors.FIRST_ROW``): row 0 is the first data record.
"""
from __future__ import annotations

import io

import pandas as pd
import pytest
from click.testing import CliRunner
from serving_helpers import BACKEND, record

from pmmlkit import Evaluator
from pmmlkit.errors import FIRST_ROW

pytestmark = pytest.mark.anyio
PREDICT = "/v1/models/clf:predict"
BAD = 2  # the position of the bad record in every input below


def _records() -> list[dict]:
    recs = [record(x1=i / 10, x2=1.0, color="red") for i in range(4)]
    recs[BAD] = {**recs[BAD], "x1": "abc"}
    return recs


async def test_the_same_bad_record_has_the_same_number_everywhere(published, client, tmp_path):
    assert FIRST_ROW == 0
    recs = _records()
    src = tmp_path / "in.csv"
    pd.DataFrame(recs).to_csv(src, index=False)
    expected = f"row {BAD}: field 'x1': value 'abc' is not a number"

    from pmmlkit.cli import main

    result = CliRunner().invoke(main, ["score", str(src), "-m", "clf", "--repo", published.root, "-o",
                                       str(tmp_path / "out.csv"), "--backend", BACKEND, "--max-errors", "1"])
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(tmp_path / "out.rejects.csv")
    assert rejects["row"].tolist() == [BAD]
    assert rejects["error"][0].startswith(expected)
    assert pd.read_csv(src).iloc[rejects["row"][0]]["x1"] == "abc"  # the number indexes the file as pandas reads it

    ev = Evaluator.load("clf", repo=published.root, backend=BACKEND)
    batch = ev.predict_batch(pd.read_csv(src), errors="column")
    assert batch[ev.error_column].notna().tolist() == [i == BAD for i in range(len(recs))]
    assert batch[ev.error_column][BAD].startswith(expected)

    r = await client.post(PREDICT, json={"instances": recs, "errors": "per_record"})
    preds = r.json()["predictions"]
    assert [("error" in p) for p in preds] == [i == BAD for i in range(len(recs))]
    assert preds[BAD]["error"].startswith(expected)

    r = await client.post(PREDICT, content=src.read_bytes(), headers={"content-type": "text/csv"})
    answered = pd.read_csv(io.StringIO(r.text), keep_default_na=False)
    assert answered["error"][BAD].startswith(expected)
    assert (answered["error"].drop(index=BAD) == "").all()
