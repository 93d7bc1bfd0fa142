"""uvicorn's httptools protocol, writing a response's head together with its body.

uvicorn writes the status line and headers (``http.response.start``) and the body
(``http.response.body``) with two ``transport.write`` calls: two ``send`` system calls and,
with TCP_NODELAY, two TCP segments, so the client wakes up twice per response (a 1-record
:predict answer is ~280 bytes in all). On loopback each send also runs the receiving side's
TCP work on the sender's CPU. This protocol keeps the head of a response whose length is known
(``content-length``) and writes it with the first body message, in one call: the same
bytes on the wire, in one segment. A streamed (chunked) response's head still goes out
at once, so a client sees the status before the first chunk is ready.

``pmmlkit serve`` selects it (``uvicorn.Config(http=PROTOCOL)``) when httptools is
installed; under gunicorn's UvicornWorker, uvicorn's own protocol runs, with the same answers.
It relies on uvicorn's RequestResponseCycle (``transport``, ``chunked_encoding``) and on
``HttpToolsProtocol._start_asgi_task``: in a uvicorn without that method it is never used.
"""
from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

PROTOCOL = "pmmlkit.serving.wire:OneWriteHttpTools"  # uvicorn's `http` option: an import string


class _Held:
    """Stands in for the transport while uvicorn writes a response's head: keeps the bytes."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class _Prefixed:
    """Stands in for the transport while uvicorn writes the first body message: head + body at once."""

    def __init__(self, transport: Any, head: bytes) -> None:
        self.transport = transport
        self.head: bytes | None = head

    def write(self, data: bytes) -> None:
        head, self.head = self.head, None
        self.transport.write(data if head is None else head + data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def flush(self) -> None:
        if self.head is not None:  # the body wrote nothing (HEAD, or an empty body)
            head, self.head = self.head, None
            self.transport.write(head)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class OneWriteHttpTools(HttpToolsProtocol):
    """HttpToolsProtocol, whose requests are answered by OneWriteCycle."""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        cycle.__class__ = OneWriteCycle  # made by on_headers_complete; nothing has run on it yet
        super()._start_asgi_task(cycle, app)


class OneWriteCycle(RequestResponseCycle):
    """A request's cycle, with one ``transport.write`` for the head and first body of a sized response."""

    _head: bytes | None = None

    async def send(self, message: Any) -> None:
        kind = message["type"]
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()  # as uvicorn's send does; then it runs without waiting
        if kind == "http.response.start" and not self.response_started:
            held = _Held(self.transport)
            await self._send_through(held, message)
            if not held.data:
                return  # nothing to write: the client left
            if self.chunked_encoding:
                self.transport.write(held.data)  # streamed: the status goes out now
            else:
                self._head = held.data
            return
        if kind == "http.response.body" and self._head is not None:
            prefixed = _Prefixed(self.transport, self._head)
            self._head = None
            try:
                await self._send_through(prefixed, message)
            finally:
                if not self.disconnected:
                    prefixed.flush()
            return
        await super().send(message)

    async def _send_through(self, stand_in: Any, message: Any) -> None:
        """uvicorn's send, writing to ``stand_in`` instead of the connection's transport."""
        transport = self.transport
        self.transport = stand_in
        try:
            await super().send(message)
        finally:
            self.transport = transport
