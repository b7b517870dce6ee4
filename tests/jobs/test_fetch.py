"""Media URL downloads: a trickling server cannot hold a worker, a big one is capped."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from parley.errors import PipelineError
from parley.jobs import fetch
from parley.outbound import OutboundGuard
from parley.storage.audio import LocalAudioStore

LOOPBACK = OutboundGuard(["127.0.0.0/8"])


class _Trickle(BaseHTTPRequestHandler):
    """Headers at once, then one byte every 0.2 s (``/slow``), or 2 MB (``/big``)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.end_headers()
        try:
            if self.path == "/big":
                self.wfile.write(b"\0" * (2 << 20))
                return
            for _ in range(200):
                self.wfile.write(b"\0")
                self.wfile.flush()
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _fetch(url: str, tmp_path: Path, **kwargs: Any) -> str:
    return fetch.fetch_url(
        url,
        audio=LocalAudioStore(tmp_path / "audio"),
        conversation_id="c",
        job_id="j",
        timeout=5,
        max_bytes=kwargs.pop("max_bytes", 10**7),
        guard=LOOPBACK,
        **kwargs,
    )


def test_overall_deadline_stops_a_trickle(server: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(PipelineError, match="longer than 1 seconds"):
        _fetch(f"{server}/slow", tmp_path, deadline=1.0)
    assert time.monotonic() - started < 3


def test_minimum_rate_stops_a_trickle(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "_GRACE_SECONDS", 0.5)
    started = time.monotonic()
    with pytest.raises(PipelineError, match="slower than"):
        _fetch(f"{server}/slow", tmp_path, min_rate=1024)
    assert time.monotonic() - started < 3
    assert not list((tmp_path / "audio").rglob("c/*"))


def test_size_cap(server: str, tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="larger than the limit"):
        _fetch(f"{server}/big", tmp_path, max_bytes=1 << 20)
