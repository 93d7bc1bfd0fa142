"""CSV predict requests: every record gets its own line, a bad line is a reject wherever it falls."""
from __future__ import annotations

import io

import httpx
import pandas as pd
import pytest
from click.testing import CliRunner
from serving_helpers import BACKEND, expected_p1, record

pytestmark = pytest.mark.anyio
TOL = 1e-9
CSV = {"content-type": "text/csv"}
PREDICT = "/v1/models/clf:predict"
COLUMNS = ["predicted_y", "probability(0)", "probability(1)", "error"]


def rows(n: int) -> list[dict]:
    return [record(x1=i / 10, x2=(i % 7) - 3.0, color=("red", "green", "blue")[i % 3]) for i in range(n)]


def csv_lines(recs: list[dict]) -> list[str]:
    return pd.DataFrame(recs).to_csv(index=False).splitlines()


async def post_csv(app, body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.post(PREDICT, content=body, headers=CSV)


def read(r: httpx.Response) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(r.text), keep_default_na=False)


def assert_scored(out: pd.DataFrame, recs: list[dict], good: list[int]) -> None:
    expected = [expected_p1(recs[i], 1) for i in good]
    assert out.loc[good, "probability(1)"].astype(float).tolist() == pytest.approx(expected, abs=TOL)
    assert (out.loc[good, "error"] == "").all()


@pytest.mark.parametrize("bad_line, reason", [
    (b"3,40", "malformed CSV line: expected 3 fields, found 2"),
    (b"1,2,red,extra", "malformed CSV line: expected 3 fields, found 4"),
    (b"1,2,r\xe9d", "the line is not valid UTF-8"),  # Latin-1
], ids=["short", "long", "latin-1"])
async def test_a_bad_line_after_the_first_chunk_is_a_reject_not_a_cut_answer(published, make_app, bad_line, reason):
    app = make_app(csv_chunk_bytes=256)  # the bad line falls several chunks into the stream
    recs = rows(200)
    lines = csv_lines(recs)
    bad_row = 150
    lines[1 + bad_row] = "BAD"
    body = ("\n".join(lines) + "\n").encode().replace(b"BAD", bad_line)
    r = await post_csv(app, body)
    assert r.status_code == 200
    out = read(r)
    assert list(out.columns) == COLUMNS and len(out) == 200  # one line per record, in order
    assert out.loc[bad_row, "error"] == f"row {bad_row}: {reason}"
    assert out.loc[bad_row, "probability(1)"] == ""
    assert_scored(out, recs, [i for i in range(200) if i != bad_row])


async def test_short_line_is_malformed_on_the_server_and_in_the_cli(published, make_app, tmp_path):
    recs = rows(3)
    lines = csv_lines(recs)
    lines[2] = "3,40"
    text = "\n".join(lines) + "\n"
    out = read(await post_csv(make_app(), text.encode()))
    assert out.loc[1, "error"] == "row 1: malformed CSV line: expected 3 fields, found 2"
    assert_scored(out, recs, [0, 2])

    from pmmlkit.cli import main

    (tmp_path / "in.csv").write_text(text)
    result = CliRunner().invoke(main, ["score", str(tmp_path / "in.csv"), "-m", "clf", "--repo", published.root,
                                       "-o", str(tmp_path / "out.csv"), "--backend", BACKEND, "--max-errors", "1"])
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(tmp_path / "out.rejects.csv", keep_default_na=False)
    assert len(rejects) == 1 and "malformed CSV line: expected 3 fields, found 2" in rejects.iloc[0].to_dict().values()
    assert len(pd.read_csv(tmp_path / "out.csv")) == 2


async def test_blank_lines_and_quoted_newlines(published, make_app):
    body = b'x1,x2,color\n1,2,red\n\n3,1,"gr\neen"\n3,1,"green"\n'
    out = read(await post_csv(make_app(csv_chunk_bytes=8), body))
    assert len(out) == 3
    assert out.loc[1, "error"].startswith("row 1: field 'color': value 'gr\\neen'")
    assert_scored(out, [record(1, 2, "red"), None, record(3, 1, "green")], [0, 2])


@pytest.mark.parametrize("body, phrase", [
    (b"", "the CSV body is empty"),
    (b"\n\n", "the CSV body is empty"),
    (b"x1,x2,color,x1\n1,2,red,1\n", "names column(s) ['x1'] more than once"),
    (b"x1,x2,col\xe9r\n1,2,red\n", "header line is not valid UTF-8"),
    (b"x1,x2\n1,2\n", "'color'"),
])
async def test_a_bad_header_is_a_400_before_streaming(published, make_app, body, phrase):
    r = await post_csv(make_app(), body)
    assert r.status_code == 400 and list(r.json()) == ["error"]
    assert phrase in r.json()["error"]


async def test_header_only_answers_a_header(published, make_app):
    r = await post_csv(make_app(), b"x1,x2,color\n")
    assert r.status_code == 200 and r.text == ",".join(COLUMNS) + "\n"


async def test_only_malformed_lines_still_answer_each_row(published, make_app):
    out = read(await post_csv(make_app(csv_chunk_bytes=16), b"x1,x2,color\n1\n1,2\n1,2,3,4\n"))
    assert out["error"].tolist() == [f"row {i}: malformed CSV line: expected 3 fields, found {n}"
                                     for i, n in enumerate((1, 2, 4))]


async def test_a_block_that_fails_after_the_first_is_answered_row_by_row():
    """Fault injected at stream_csv's scoring seam: block 2's backend is unavailable.

    The answer has already started (200): every row of that block says why it has no
    results, and the next block is scored again.
    """
    from pmmlkit import Evaluator
    from pmmlkit.errors import BackendUnavailable
    from pmmlkit.serving.csv_stream import CsvShape, stream_csv
    from tests.docs import versioned_pmml

    ev = Evaluator.from_bytes(versioned_pmml(1), backend="native")
    calls = []

    async def score(frame):
        calls.append(len(frame))
        if len(calls) == 2:
            raise BackendUnavailable("the JVM died twice; retry in 1 s", retry_after=1)
        return ev.predict_batch(frame, errors="column")

    recs = rows(30)
    body = ("\n".join(csv_lines(recs)) + "\n").encode()

    async def chunks():
        for i in range(0, len(body), 50):
            yield body[i:i + 50]

    shape = CsvShape(ev.result_names, ev.error_column)
    text = b"".join([part async for part in stream_csv(chunks(), score, shape=shape, chunk_bytes=100)]).decode()
    out = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert len(calls) >= 3 and len(out) == 30
    second = range(calls[0], calls[0] + calls[1])
    assert all(out.loc[i, "error"] == f"row {i}: not scored: the JVM died twice; retry in 1 s" for i in second)
    assert_scored(out, recs, [i for i in range(30) if i not in second])
