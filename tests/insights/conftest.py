"""Helpers for insight tests: build messages from (speaker, text) pairs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from parley.insights import Member, Message

#: A Monday, so "Friday" is 2024-03-15 and "tomorrow" 2024-03-12.
MONDAY = datetime(2024, 3, 11, 15, 0, tzinfo=UTC)


def make_messages(*lines: tuple[str, str]) -> list[Message]:
    members: dict[str, Member] = {}
    out: list[Message] = []
    clock = 0.0
    for i, (speaker, text) in enumerate(lines):
        member = members.setdefault(
            speaker, Member(f"m-{speaker.lower()}", speaker, f"{speaker.lower()}@example.com")
        )
        out.append(Message(str(1000 + i), text, clock, clock + 3.0, member))
        clock += 3.5
    return out


@pytest.fixture
def build():
    return make_messages


class FakeLlm(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint answering ``replies`` in turn (then "not json"),
    recording each request."""

    replies: ClassVar[list[str]] = []
    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        content = type(self).replies.pop(0) if type(self).replies else "not json"
        payload = json.dumps({"choices": [{"message": {"content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def llm_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), FakeLlm)
    FakeLlm.replies, FakeLlm.requests = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
