"""Bounds on how long a client may take to send its request (slow headers, stalled bodies).

uvicorn bounds only an idle keep-alive connection. A client that opens a connection and
sends half its headers, or announces a body and stops, would hold the connection (and an
upload's staged file) for ever, and enough of them exhaust the server's file descriptors.

* ``HeadTimeoutProtocol``: uvicorn's HTTP protocol (httptools when installed, else h11)
  with a deadline for a request's headers, counted from the connection's start or the end
  of the previous response. ``parley serve`` runs it. A connection upgraded to a WebSocket
  has its own protocol and its own bounds (``PARLEY_STREAM_IDLE_SECONDS``).
* ``BodyTimeout``: ASGI middleware that answers 408 when the next part of a request body
  does not come within ``body_timeout_seconds``. It bounds the wait between parts, as a
  reverse proxy does, so a large upload on a slow but steady link is never cut.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.config import Settings
from parley.errors import ParleyError

if TYPE_CHECKING:
    from uvicorn.protocols.http.h11_impl import H11Protocol as _HTTPProtocol
else:
    try:
        import httptools  # noqa: F401 - uvicorn's "auto" prefers it too
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HTTPProtocol
    except ImportError:  # pragma: no cover - h11 only
        from uvicorn.protocols.http.h11_impl import H11Protocol as _HTTPProtocol

__all__ = ["BodyTimeout", "HeadTimeoutProtocol", "RequestTimeout"]

log = logging.getLogger(__name__)


class RequestTimeout(ParleyError):
    """The client stopped sending its request body."""

    status = 408


@functools.cache
def _header_timeout() -> float:
    # uvicorn builds the protocol from an import string in each server process (also with
    # --workers), so the bound comes from the environment, as every other setting there.
    return Settings().header_timeout_seconds


class HeadTimeoutProtocol(_HTTPProtocol):
    """uvicorn's HTTP protocol, closing a connection whose request headers are not complete
    within ``header_timeout_seconds`` (``head_timeout`` when set, as tests do)."""

    head_timeout: float | None = None
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()  # the next request on this connection has the same bound

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self.transport.is_closing():
            return
        seconds = self.head_timeout if self.head_timeout is not None else _header_timeout()
        self._head_timer = self.loop.call_later(seconds, self._head_timed_out, seconds)

    def _head_timed_out(self, seconds: float) -> None:
        self._head_timer = None
        if self.transport.get_protocol() is not self:
            return  # upgraded to a WebSocket: the connection is the stream's now
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            return  # headers complete, request in hand: its body has BodyTimeout
        if not self.transport.is_closing():
            log.info(
                "closed a connection from %s: no complete request within %gs",
                self.client[0] if self.client else "?",
                seconds,
            )
            self.transport.close()


class BodyTimeout:
    """Answer 408 (and close the connection) when a request body stalls: no part of it for
    ``seconds``. Only while the body is incomplete: a handler that waits for a disconnect
    after reading all of it waits as long as it likes."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete = False
        stalled = False

        async def bounded_receive() -> Message:
            nonlocal complete, stalled
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.seconds)
            except TimeoutError:
                stalled = True
                log.info(
                    "%s %s: the request body stalled for %gs; answering 408",
                    scope.get("method"),
                    scope.get("path"),
                    self.seconds,
                )
                raise RequestTimeout(
                    f"The request body stopped arriving: nothing came for {self.seconds:g} s."
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        async def closing_send(message: Message) -> None:
            if stalled and message["type"] == "http.response.start":
                # the rest of the body may still come: end the connection, not read it
                headers = [*message.get("headers", []), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, bounded_receive, closing_send)
