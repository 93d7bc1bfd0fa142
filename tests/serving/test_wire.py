"""The server's process plumbing: one write per sized response (wire.py), one listening socket per
worker (run.WorkerListener), and batches scored in the callback that closes them (batching.py)."""
from __future__ import annotations

import asyncio
import logging
import pickle
import socket
from multiprocessing.reduction import ForkingPickler

import pytest

pytest.importorskip("httptools")

from uvicorn.protocols.http.flow_control import FlowControl

from pmmlkit.evaluator.records import Answers
from pmmlkit.serving.batching import Batcher
from pmmlkit.serving.run import WorkerListener, _listen
from pmmlkit.serving.wire import OneWriteCycle


class Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def cycle(transport: Transport, method: str = "POST", keep_alive: bool = True) -> OneWriteCycle:
    scope = {"type": "http", "method": method, "path": "/", "http_version": "1.1", "headers": []}
    return OneWriteCycle(scope=scope, transport=transport, flow=FlowControl(transport), logger=logging.getLogger("t"),
                         access_logger=logging.getLogger("t.access"), access_log=False,
                         default_headers=[(b"server", b"uvicorn")], message_event=asyncio.Event(),
                         expect_100_continue=False, keep_alive=keep_alive, on_response=lambda: None)


HEAD = b"HTTP/1.1 200 OK\r\nserver: uvicorn\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n"
START = {"type": "http.response.start", "status": 200,
         "headers": [(b"content-length", b"2"), (b"content-type", b"application/json")]}


@pytest.mark.anyio
async def test_a_sized_response_is_one_write_of_the_same_bytes():
    t = Transport()
    c = cycle(t)
    await c.send(START)
    assert t.writes == []
    await c.send({"type": "http.response.body", "body": b"{}"})
    assert t.writes == [HEAD + b"{}"] and c.response_complete


@pytest.mark.anyio
async def test_a_head_request_and_a_closing_connection_still_get_the_head():
    t = Transport()
    c = cycle(t, method="HEAD")
    await c.send(START)
    await c.send({"type": "http.response.body", "body": b""})
    assert t.writes == [HEAD]
    t = Transport()
    c = cycle(t, keep_alive=False)
    await c.send(START)
    await c.send({"type": "http.response.body", "body": b"{}"})
    assert b"".join(t.writes) == HEAD.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n") + b"{}"
    assert t.closed


@pytest.mark.anyio
async def test_a_streamed_response_sends_its_head_at_once_and_each_chunk_as_it_comes():
    t = Transport()
    c = cycle(t)
    await c.send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/csv")]})
    assert len(t.writes) == 1 and t.writes[0].endswith(b"transfer-encoding: chunked\r\n\r\n")
    await c.send({"type": "http.response.body", "body": b"a\n", "more_body": True})
    await c.send({"type": "http.response.body", "body": b""})
    assert t.writes[1:] == [b"2\r\na\n\r\n", b"0\r\n\r\n"]


def test_by_default_the_workers_share_one_listening_socket():
    sock = _listen("127.0.0.1", 0, 128)
    try:
        assert not isinstance(sock, WorkerListener)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    finally:
        sock.close()


def test_with_reuse_port_each_worker_listens_on_a_socket_of_its_own():
    sock = _listen("127.0.0.1", 0, 128, reuse_port=True)
    workers = []
    try:
        assert isinstance(sock, WorkerListener)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 0  # the supervisor never accepts
        # What a spawned worker receives (uvicorn pickles the sockets with multiprocessing's pickler).
        workers = [pickle.loads(ForkingPickler.dumps(sock)) for _ in range(2)]
        for w in workers:
            assert w.getsockname() == sock.getsockname() and w.fileno() != sock.fileno()
            assert w.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
            w.settimeout(5)
        # Connections land on the workers' sockets, spread by address: 64 leave neither empty.
        clients = [socket.create_connection(sock.getsockname(), timeout=5) for _ in range(64)]
        accepted = [0, 0]
        for i, w in enumerate(workers):
            w.setblocking(False)
            while True:
                try:
                    conn, _ = w.accept()
                except BlockingIOError:
                    break
                conn.close()
                accepted[i] += 1
        for c in clients:
            c.close()
        assert sum(accepted) == 64 and min(accepted) > 0, accepted
    finally:
        for s in [sock, *workers]:
            s.close()


@pytest.mark.anyio
async def test_a_batch_scored_now_needs_no_task_and_a_failure_fails_each_request():
    async def run(loaded, records, rows):
        raise AssertionError("scored now, not in a task")

    def now(loaded, records, rows):
        if any(r.get("boom") for r in records):
            raise RuntimeError("the whole call failed")
        return Answers([{"row": i, "x": r["x"]} for r, i in zip(records, rows)], [None] * len(records))

    batcher = Batcher(run, timeout_micros=0, max_records=8, now=now)
    got = await asyncio.gather(batcher.score("v", [{"x": 1}, {"x": 2}]), batcher.score("v", [{"x": 3}]))
    assert got == [Answers([{"row": 0, "x": 1}, {"row": 1, "x": 2}], [None, None]),
                   Answers([{"row": 0, "x": 3}], [None])]
    assert (batcher.batches, batcher.requests) == (1, 2) and not batcher._tasks
    failed = await asyncio.gather(batcher.score("v", [{"x": 1}]), batcher.score("v", [{"boom": True}]),
                                  return_exceptions=True)
    assert [str(e) for e in failed] == ["the whole call failed"] * 2


@pytest.mark.anyio
async def test_a_batch_now_declines_goes_to_run():
    async def run(loaded, records, rows):
        await asyncio.sleep(0)
        return Answers([{"x": r["x"]} for r in records], [None] * len(records))

    batcher = Batcher(run, timeout_micros=0, max_records=8, now=lambda loaded, records, rows: None)
    got = await asyncio.gather(*(batcher.score("v", [{"x": i}]) for i in range(3)))
    assert [a.results for a in got] == [[{"x": 0}], [{"x": 1}], [{"x": 2}]] and batcher.batches == 1


@pytest.mark.parametrize("reuse_port", [False, True])
def test_a_port_another_server_listens_on_is_refused_not_shared(reuse_port):
    from pmmlkit.errors import ConfigError

    first = _listen("127.0.0.1", 0, 16, reuse_port=True)
    worker = pickle.loads(ForkingPickler.dumps(first))  # listening, as a started server's worker
    try:
        with pytest.raises(ConfigError, match="cannot listen on 127.0.0.1"):
            _listen("127.0.0.1", first.getsockname()[1], 16, reuse_port=reuse_port)
    finally:
        worker.close()
        first.close()
