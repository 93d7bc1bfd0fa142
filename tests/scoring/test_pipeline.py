"""`pmmlkit score` reads, scores and writes at once, in several threads: the same files for any number (issue 19)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pmmlkit import Evaluator
from pmmlkit.errors import ConfigError
from pmmlkit.scoring.batch import score_file
from pmmlkit.scoring.pipeline import ordered_map
from tests.docs import logistic_pmml

DEVICES = ["android", "ios", "web", "tablet", ""]


@pytest.fixture(scope="module")
def ev():
    return Evaluator.from_bytes(logistic_pmml(), backend="native", threads=1)


def _input(n: int = 3_000) -> str:
    lines = ["id,x1,x2,device,note"]
    for i in range(1, n + 1):
        if i % 97 == 0:
            lines.append(f"{i},0.5")  # malformed: a reader reject
        else:
            x1 = "abc" if i % 89 == 0 else f"{(i % 17) * 0.37:.4f}" if i % 13 else ""
            lines.append(f'{i},{x1},{i % 7},{DEVICES[i % 5]},"a, ""quoted"" note {i}"')
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_any_number_of_threads_writes_the_same_files(tmp_path, ev, suffix):
    src = tmp_path / "in.csv"
    src.write_text(_input())
    files = {}
    for threads in (1, 4):
        out = tmp_path / f"out{threads}.{suffix}"
        s = score_file(ev, str(src), str(out), keep=("id", "note"), max_errors=10 ** 6, chunk_rows=97,
                       threads=threads)
        assert s.input_rows == 3_000 and s.output_rows + s.rejected_rows == 3_000
        assert s.rejected_rows > 600  # tablets, blank devices, typos and malformed lines, in every chunk
        files[threads] = (out.read_bytes(), (tmp_path / f"out{threads}.rejects.csv").read_bytes())
    assert files[1][1] == files[4][1]
    if suffix == "csv":
        assert files[1][0] == files[4][0]
        got = pd.read_csv(tmp_path / "out4.csv")
    else:
        assert pq.read_table(tmp_path / "out1.parquet").equals(pq.read_table(tmp_path / "out4.parquet"))
        got = pd.read_parquet(tmp_path / "out4.parquet")
    assert got["id"].astype(int).is_monotonic_increasing
    bad = pd.read_csv(tmp_path / "out4.rejects.csv")
    assert sorted([*got["id"].astype(int), *(bad["row"] + 1)]) == list(range(1, 3_001))  # id N is row N - 1


def test_the_output_is_what_predict_batch_answers(tmp_path, ev):
    src = tmp_path / "in.csv"
    src.write_text(_input(500))
    out = tmp_path / "out.csv"
    score_file(ev, str(src), str(out), keep=("id",), max_errors=10 ** 6, chunk_rows=50, threads=3)
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    frame.index = frame["id"].astype(int)
    frame = frame[frame.index % 97 != 0]  # the malformed lines
    expected = ev.predict_batch(frame, errors="column")
    expected = expected[expected["error"].isna()]
    got = pd.read_csv(out, index_col="id", float_precision="round_trip")
    assert got.index.tolist() == expected.index.tolist()
    np.testing.assert_array_equal(got["probability(yes)"], expected["probability(yes)"])
    assert got["predicted_y"].tolist() == expected["predicted_y"].tolist()


def test_parquet_results_keep_their_types_and_kept_columns_pass_through(tmp_path, ev):
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": pa.array([1, None, 3], pa.int64()), "x1": [0.5, 0.25, None],
                             "x2": pa.array([3, 4, 5], pa.int32()), "device": ["ios", "web", "ios"],
                             "day": pa.array([1, 2, 3], pa.date32())}), src)
    out = tmp_path / "out.parquet"
    score_file(ev, str(src), str(out), keep=("id", "day"))
    schema = pq.read_schema(out)
    assert schema.field("id").type == pa.int64() and schema.field("day").type == pa.date32()
    assert schema.field("probability(yes)").type == pa.float64() and schema.field("predicted_y").type == pa.string()
    got = pd.read_parquet(out)
    assert got["id"].tolist()[0] == 1 and got["probability(yes)"].dtype == np.float64
    csv_out = tmp_path / "out.csv"  # a kept date has no Arrow text here: pandas writes that chunk
    score_file(ev, str(src), str(csv_out), keep=("id", "day"))
    assert csv_out.read_text().splitlines()[1].startswith("1,2020") is False
    assert pd.read_csv(csv_out)["day"].tolist() == ["1970-01-02", "1970-01-03", "1970-01-04"]


def test_ordered_map_keeps_order_and_raises_the_first_error_in_input_order():
    import time

    def slow_square(i: int) -> int:
        time.sleep(0.002 * (i % 3))
        if i == 7:
            raise ValueError("seven")
        return i * i

    assert list(ordered_map(slow_square, range(7), workers=3)) == [i * i for i in range(7)]
    assert list(ordered_map(slow_square, range(7), workers=0)) == [i * i for i in range(7)]
    got = []
    with pytest.raises(ValueError, match="seven"):
        for value in ordered_map(slow_square, range(20), workers=3):
            got.append(value)
    assert got == [i * i for i in range(7)]


def test_threads_must_be_a_positive_number(tmp_path, ev):
    src = tmp_path / "in.csv"
    src.write_text("id,x1,x2,device\n1,0.5,3,ios\n")
    with pytest.raises(ConfigError, match="threads=0"):
        score_file(ev, str(src), str(tmp_path / "out.csv"), threads=0)


def test_prefetched_keeps_order_raises_in_order_and_stops_its_reader():
    import threading

    from pmmlkit.scoring.pipeline import prefetched

    assert list(prefetched(iter(range(50)), depth=2)) == list(range(50))

    def failing():
        yield 1
        yield 2
        raise ValueError("bad chunk")

    got = []
    with pytest.raises(ValueError, match="bad chunk"):
        for item in prefetched(failing()):
            got.append(item)
    assert got == [1, 2]

    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    gen = prefetched(endless(), depth=1)
    assert next(gen) == 0
    gen.close()  # the consumer stops early: the reader thread ends too, a bounded number of items later
    import time

    deadline = time.monotonic() + 5  # it notices the stop within one poll of its queue
    while any(t.name == "pmmlkit-read" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.name == "pmmlkit-read" for t in threading.enumerate())
    assert len(produced) <= 4  # it stopped reading: at most the queue's depth and the items in hand
    assert len(produced) <= 4
