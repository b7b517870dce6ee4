"""The Streaming API's sockets: ``/v1/streaming/{connectionId}`` and its original name
``/v1/realtime/insights/{connectionId}`` (every SDK's), with the same behaviour, and the
Subscribe API's ``/v1/subscribe/{connectionId}``, which only listens.

Translation only: the token (``?access_token``/``?accessToken``, ``X-API-KEY``,
``Authorization: Bearer`` or the offered sub-protocol, which is echoed, as the npm
``websocket`` client requires) is checked by the REST routes' own verification; a bad one
is refused at the upgrade with Symbl's 401 body, a connection id live for another app with
403. Frames go to the stream's ``parley.live.session.Session``, which answers through
``_Socket``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, WebSocket
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from parley.auth import INVALID_TOKEN
from parley.errors import ParleyError, Unauthorized
from parley.live.session import CLOSE_IDLE, Live, Watcher
from parley.services import Services
from parley_client.wire.streaming import PING, PONG

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["Streaming"])


def _offered(websocket: WebSocket) -> list[str]:
    header = websocket.headers.get("sec-websocket-protocol", "")
    return [p.strip() for p in header.split(",") if p.strip()]


def _token(websocket: WebSocket) -> str | None:
    """The token from the query, ``X-API-KEY``, ``Authorization: Bearer`` or the
    sub-protocol (symbl-streaming.md §3), in that order."""
    query = websocket.query_params
    found = query.get("access_token") or query.get("accessToken")
    found = found or websocket.headers.get("x-api-key")
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if not found and scheme.lower() == "bearer":
        found = value
    offered = _offered(websocket)
    if not found and offered:
        found = offered[0]
    return found.strip() if found and found.strip() else None


class _Socket:
    """A session's transport: one send at a time, nothing after the close."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._lock = asyncio.Lock()

    async def send_json(self, frame: dict[str, Any]) -> None:
        async with self._lock:
            await self.websocket.send_json(frame)

    async def send_text(self, text: str) -> None:
        async with self._lock:
            await self.websocket.send_text(text)

    async def close(self, code: int, reason: str) -> None:
        async with self._lock:
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await self.websocket.close(code, reason)


async def _refuse(websocket: WebSocket, error: ParleyError) -> None:
    """Refuse the upgrade with Symbl's error body (or, where the server cannot answer an
    upgrade with HTTP, accept, send the error frame and close with 1008)."""
    body: dict[str, Any] = {"message": error.message}
    if error.status == 429:  # Symbl's concurrency answer carries its status
        body = {"statusCode": 429, **body}
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(body, status_code=error.status))
        return
    await websocket.accept()
    await websocket.send_json({"type": "message", "message": {"type": "error", **body}})
    await websocket.close(1008, error.message[:120])


async def _admitted(
    websocket: WebSocket, connection_id: str, *, stream: bool
) -> tuple[Live, str] | None:
    """The running Live and the token's app, or None when the socket was refused (no
    Streaming API, a bad token, another app's id, or, for a stream, too many streams)."""
    services: Services = websocket.app.state.services
    live = services.live
    if live is None:
        await websocket.close(1011, "The Streaming API is not running.")
        return None
    token = _token(websocket)
    try:
        if not token:
            raise Unauthorized(INVALID_TOKEN)
        app_id = await run_in_threadpool(services.tokens.verify, token)
        live.check(connection_id, app_id)
        if stream:
            live.admit(app_id)
    except ParleyError as exc:
        await _refuse(websocket, exc)
        return None
    return live, app_id


async def _serve(websocket: WebSocket, connection_id: str) -> None:
    if (admitted := await _admitted(websocket, connection_id, stream=True)) is None:
        return
    live, app_id = admitted
    try:
        await _stream(websocket, connection_id, app_id)
    finally:
        live.release(app_id)


async def _stream(websocket: WebSocket, connection_id: str, app_id: str) -> None:
    services: Services = websocket.app.state.services
    live = services.live
    assert live is not None
    offered = _offered(websocket)
    await websocket.accept(subprotocol=offered[0] if offered else None)
    session = live.session(connection_id, app_id, _Socket(websocket))
    try:
        while not session.closed:
            try:
                message = await asyncio.wait_for(websocket.receive(), live.idle_seconds)
            except TimeoutError:
                await session.on_idle()
                break
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") is not None:
                await session.on_text(message["text"])
            elif message.get("bytes") is not None:
                await session.on_bytes(message["bytes"])
    except (WebSocketDisconnect, RuntimeError):
        pass
    except Exception:  # a bug: the log has the trace, the client Symbl's error and 1011
        log.exception("live stream on %s failed", connection_id)
        await session.fail(500, "Something went wrong! Please try again later.", close=1011)
    finally:
        await session.on_disconnect()
        with contextlib.suppress(Exception):
            if websocket.application_state == WebSocketState.CONNECTED:
                await websocket.close(1000)


async def _listen(websocket: WebSocket, connection_id: str) -> None:
    """The Subscribe API: the token checked as for a stream; then the listener is sent what
    the connection's sockets are (not counted against the app's stream limit)."""
    if (admitted := await _admitted(websocket, connection_id, stream=False)) is None:
        return
    live, app_id = admitted
    offered = _offered(websocket)
    await websocket.accept(subprotocol=offered[0] if offered else None)
    socket = _Socket(websocket)
    watcher = Watcher(app_id, socket)
    await live.subscribe(connection_id, watcher)
    try:
        while not watcher.closed:
            try:
                message = await asyncio.wait_for(websocket.receive(), live.idle_seconds)
            except TimeoutError:
                await socket.close(CLOSE_IDLE, f"Nothing was received for {live.idle_seconds:g} s.")
                break
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") == PING:  # the js-sdk pings its subscriptions too
                await socket.send_text(PONG)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        live.unsubscribe(connection_id, watcher)
        with contextlib.suppress(Exception):
            if websocket.application_state == WebSocketState.CONNECTED:
                await websocket.close(1000)


@router.websocket("/v1/subscribe/{connection_id}")
async def subscribe(websocket: WebSocket, connection_id: str) -> None:
    """The Subscribe API: a read-only listener of a live connection."""
    await _listen(websocket, connection_id)


@router.websocket("/v1/streaming/{connection_id}")
async def streaming(websocket: WebSocket, connection_id: str) -> None:
    """The Streaming API (its documented name)."""
    await _serve(websocket, connection_id)


@router.websocket("/v1/realtime/insights/{connection_id}")
async def realtime_insights(websocket: WebSocket, connection_id: str) -> None:
    """The Streaming API under its original name, which every SDK uses."""
    await _serve(websocket, connection_id)
