"""The server never stalls: slow work in a handler runs off the event loop.

Before handlers became plain ``def``, a member rename with a 3 s LLM endpoint held
``/health`` for 2.9 s, and a burst of wrong secrets (PBKDF2 on the loop) for 1.1–1.4 s.
The endpoint here takes 1.5 s: a loop held for it still fails the 0.9 s bound below, and
the rename waits for it half as long.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import APP_ID, Api, running_server
from tests.helpers import stored_conversation

LLM_DELAY = 1.5
#: set when a request reaches the slow endpoint: the slow call is under way
LLM_CALLED = threading.Event()


@pytest.fixture(scope="module")
def slow_llm() -> Iterator[str]:
    """An OpenAI-compatible endpoint that takes 1.5 s to answer (and answers nonsense, so
    Parley falls back to its offline rules)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            LLM_CALLED.set()
            time.sleep(LLM_DELAY)  # the slowness under test, not a wait
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"choices": [{"message": {"content": "not json"}}]}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, slow_llm: str) -> Iterator[Api]:
    """No job workers: the conversations are stored directly (``stored_conversation``), so
    no child loads the speech models, and no job waits for the slow endpoint first."""
    with running_server(
        tmp_path_factory.mktemp("responsive"),
        llm_base_url=slow_llm,
        outbound_allow=["127.0.0.1/32"],
        workers=0,
    ) as api:
        yield api


def _health_times(base_url: str, during: threading.Thread, *, gap: float = 0.1) -> list[float]:
    """Seconds each ``/health`` took while ``during`` runs (at least a few samples)."""
    times: list[float] = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        while during.is_alive() or len(times) < 5:
            started = time.perf_counter()
            assert client.get("/health").status_code == 200
            times.append(time.perf_counter() - started)
            time.sleep(gap)
    return times


def _assert_responsive(times: list[float]) -> None:
    # A stalled loop holds /health for the whole slow call (2.9 s for the rename, 1.1-1.4 s
    # for the burst, measured before handlers left the loop). The bounds sit well below that
    # and well above what a machine whose two cores are kept busy by other processes adds
    # (a scheduling slice or two); the 50 ms goal itself is measured by bench/responsive.py.
    assert statistics.median(times) < 0.25, times
    assert max(times) < 0.9, times


def test_health_answers_during_a_slow_insight_refresh(server: Api) -> None:
    texts = ["Alice will send the report by Friday.", "Can you book the room for Monday?"]
    cid = stored_conversation(server, texts)
    member = server.get(f"/v1/conversations/{cid}/members").json()["members"][0]

    result: dict[str, Any] = {}

    def rename() -> None:
        started = time.perf_counter()
        result["response"] = server.request(
            "PUT",
            f"/v1/conversations/{cid}/members/{member['id']}",
            json={"id": member["id"], "name": "Alice Smith", "email": "alice@example.com"},
        )
        result["seconds"] = time.perf_counter() - started

    LLM_CALLED.clear()
    worker = threading.Thread(target=rename)
    worker.start()
    assert LLM_CALLED.wait(60), "the rename never reached the slow endpoint"
    times = _health_times(server.base_url, worker)
    worker.join()
    assert result["response"].status_code == 200, result["response"].text
    assert result["seconds"] >= LLM_DELAY * 0.9, "the refresh did call the slow endpoint"
    _assert_responsive(times)


def test_health_answers_during_a_burst_of_wrong_secrets(server: Api, tmp_path: Path) -> None:
    def wrong(_: int) -> int:
        response = httpx.post(
            f"{server.base_url}/oauth2/token:generate",
            json={"type": "application", "appId": APP_ID, "appSecret": "wrong"},
            timeout=60,
        )
        return response.status_code

    codes: list[int] = []

    def burst() -> None:
        with ThreadPoolExecutor(8) as pool:
            codes.extend(pool.map(wrong, range(40)))

    flood = threading.Thread(target=burst)
    flood.start()
    times = _health_times(server.base_url, flood, gap=0.05)
    flood.join()
    assert codes and all(code in (401, 429) for code in codes), codes
    _assert_responsive(times)
