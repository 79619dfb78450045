"""uvicorn's httptools protocol, with the writes of one event-loop turn sent together.

uvicorn writes a response's head and its body with two ``transport.write`` calls, so each
answer costs two ``send`` system calls and two TCP segments, and the client wakes twice.
On loopback and on a busy 2-core machine those calls were about a tenth of the server's CPU
per order. Here the transport's writes are gathered and sent once, at the end of the
event-loop turn that made them (the head and body of an answer are written in the same
turn); closing the transport sends what is gathered first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from dingdan.web.pages.shared import live


class GatheringTransport:
    """A transport whose writes of one loop turn become one write of the real transport;
    everything else is the real transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GatheringHttpToolsProtocol(HttpToolsProtocol):
    def shutdown(self) -> None:
        # uvicorn's graceful shutdown waits for every response in progress to finish; the
        # live pages' event streams never would by themselves (web/pages/shared/live.py).
        live.end_streams()
        super().shutdown()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(GatheringTransport(transport, self.loop))  # type: ignore[arg-type]
