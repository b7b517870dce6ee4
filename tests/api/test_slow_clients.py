"""Slow and vanishing clients hold nothing (issue 23, item 4), against ``parley serve``.

Half a request head is cut off after ``PARLEY_HEADER_TIMEOUT_SECONDS``; a body that
stalls gets 408 after ``PARLEY_BODY_TIMEOUT_SECONDS``; a client that leaves mid-upload
leaves one log line, no traceback and no staged file. ``/health`` answers throughout.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.server import Served, parley_serve
from tests.waiting import until

BOUND = 1.0  # both timeouts, seconds
SLACK = 4.0  # scheduling on a shared machine; far below "for ever"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with parley_serve(
        tmp_path_factory.mktemp("slow"),
        PARLEY_WORKERS="0",  # accepting uploads needs no worker
        PARLEY_HEADER_TIMEOUT_SECONDS=str(BOUND),
        PARLEY_BODY_TIMEOUT_SECONDS=str(BOUND),
    ) as server:
        yield server


def _connect(served: Served) -> socket.socket:
    url = urlparse(served.base)
    sock = socket.create_connection((url.hostname, url.port))
    sock.settimeout(BOUND + SLACK + 5)  # a hang fails the test instead of blocking it
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _upload_head(served: Served, length: int) -> bytes:
    return (
        "POST /v1/process/audio HTTP/1.1\r\n"
        "Host: parley\r\n"
        f"x-api-key: {served.token}\r\n"
        "Content-Type: audio/wav\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def _staged(served: Served) -> list[Path]:
    return list((served.data / "audio" / ".incoming").glob("*"))


def _health_ok(served: Served) -> None:
    started = time.monotonic()
    assert httpx.get(f"{served.base}/health", timeout=5).status_code == 200
    assert time.monotonic() - started < 1


def test_half_a_request_head_is_cut_off(served: Served) -> None:
    with _connect(served) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /v1/process/audio HTTP/1.1\r\nHost: parley\r\nContent-Ty")
        _health_ok(served)
        assert _read_all(sock) == b"", "closed without an answer"
        assert time.monotonic() - started < BOUND + SLACK


def test_a_connection_that_never_sends_is_cut_off(served: Served) -> None:
    with _connect(served) as sock:
        started = time.monotonic()
        _health_ok(served)
        assert _read_all(sock) == b""
        assert time.monotonic() - started < BOUND + SLACK


def test_a_stalled_body_gets_408(served: Served) -> None:
    with _connect(served) as sock:
        started = time.monotonic()
        sock.sendall(_upload_head(served, 1 << 20) + b"RIFF" + b"\0" * 60_000)
        _health_ok(served)
        answer = _read_all(sock)  # and the server closes the connection after it
        assert time.monotonic() - started < BOUND + SLACK
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"connection: close" in head.lower()
    assert body.startswith(b'{"message":"The request body stopped arriving'), body
    assert not _staged(served), "the staged part of the upload is deleted"


def test_an_aborted_upload_logs_one_line_and_keeps_nothing(served: Served) -> None:
    with _connect(served) as sock:
        sock.sendall(_upload_head(served, 1 << 20) + b"RIFF" + b"\0" * 300_000)
        _health_ok(served)  # the server has the first part of the body by now

    def logged() -> str:
        text = served.log.read_text()
        return text if "closed the connection after" in text else ""

    log = until(logged, timeout=30, what=lambda: served.log.read_text()[-3000:])
    assert log.count("closed the connection after") == 1
    assert "Traceback" not in log and "unhandled" not in log, log[-3000:]
    until(lambda: not _staged(served), timeout=30, what=lambda: str(_staged(served)))
    _health_ok(served)


def test_a_websocket_outlives_the_request_head_bound(served: Served) -> None:
    """The head bound is for a request's headers: an upgraded socket (a live stream lasts
    minutes) is not cut when it runs out. It was: every stream ended after 10 s."""
    from websockets.sync.client import connect

    url = served.base.replace("http://", "ws://") + "/v1/streaming/outlives-the-bound"
    with connect(url, additional_headers={"X-API-KEY": served.token}, open_timeout=30) as ws:
        ws.send("__PING__")
        assert ws.recv(timeout=30) == "__PONG__"
        # A half-sent request opened after the socket: once the server cuts it, the
        # socket's own head timer (armed earlier, same bound) has run out too.
        with _connect(served) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: parl")
            assert _read_all(sock) == b""
        ws.send("__PING__")
        assert ws.recv(timeout=30) == "__PONG__", "the socket was closed"
