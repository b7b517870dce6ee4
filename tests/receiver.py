"""A real HTTP endpoint that records what is POSTed to it (for webhook tests)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str
    calls: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    fail_first: int = 0
    posts: int = 0
    #: held while a POST is recorded, and notified after it: ``wait_for`` waits on it
    lock: threading.Condition = field(default_factory=threading.Condition)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [body for _, body in self.calls]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The bodies, once at least ``count`` were received (woken by each POST, no
        polling); AssertionError after ``timeout`` s with what did arrive."""
        with self.lock:
            if not self.lock.wait_for(lambda: len(self.calls) >= count, timeout):
                got = [body for _, body in self.calls]
                raise AssertionError(f"{len(got)} of {count} webhook POSTs arrived: {got}")
            return [body for _, body in self.calls]


@contextmanager
def receiver(
    fail_first: int = 0, port: int = 0, *, status: int = 500, retry_after: str | None = None
) -> Iterator[Receiver]:
    """Answers ``status`` (500) to the first ``fail_first`` POSTs, then 200 (on ``port``,
    or a free one). With ``status=410`` and no ``fail_first``, every POST gets 410."""
    state: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            rec: Receiver = state["receiver"]
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with rec.lock:
                rec.posts += 1
                failing = rec.fail_first > 0 or status == 410
                if rec.fail_first > 0:
                    rec.fail_first -= 1
                if not failing:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    rec.calls.append((headers | {"_raw": raw.decode()}, json.loads(raw)))
                rec.lock.notify_all()
            self.send_response(status if failing else 200)
            if failing and retry_after:
                self.send_header("Retry-After", retry_after)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    state["receiver"] = Receiver(
        f"http://127.0.0.1:{server.server_address[1]}/hook", fail_first=fail_first
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state["receiver"]
    finally:
        server.shutdown()
        server.server_close()
