"""Does the server stall? ``/health`` latency while slow work runs in handlers.

Starts ``parley serve`` (any version of it: only HTTP is used) against a local
OpenAI-compatible endpoint that takes 3 s per answer, then measures ``/health`` round trips
(every 0.1 s) during:

* a member rename, which recomputes the conversation's insights (and calls the slow LLM);
* a burst of 40 wrong-secret token requests, 8 at a time (PBKDF2 per request);
* a text job submitted while a rename's refresh runs (the write lock question).

Prints median / p95 / max per scenario. Usage:
    .venv/bin/python bench/responsive.py [--python PATH_TO_OTHER_VENV_PYTHON]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
APP_ID, APP_SECRET = "bench", "bench-secret"
DELAY = 3.0


def slow_llm() -> str:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(DELAY)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"choices": [{"message": {"content": "no"}}]}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sample(base: str, during: Callable[[], Any]) -> tuple[list[float], Any]:
    """/health round trips (s) while ``during`` runs in a thread."""
    out: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: out.update(result=during()))
    times: list[float] = []
    with httpx.Client(base_url=base, timeout=60) as client:
        thread.start()
        time.sleep(0.3)
        while thread.is_alive():
            started = time.perf_counter()
            client.get("/health")
            times.append(time.perf_counter() - started)
            time.sleep(0.1)
    thread.join()
    return times, out.get("result")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", default=sys.executable, help="the venv python to serve with")
    parser.add_argument("--repo", default=str(REPO), help="the checkout to serve")
    args = parser.parse_args()
    llm = slow_llm()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        models = REPO / "parley-data" / "models"
        if models.is_dir():
            os.symlink(models.resolve(), Path(data) / "models")
        env = os.environ | {
            "PARLEY_DATA_DIR": data,
            "PARLEY_APP_ID": APP_ID,
            "PARLEY_APP_SECRET": APP_SECRET,
            "PARLEY_PORT": str(port),
            "PARLEY_LLM_BASE_URL": llm,
            "PARLEY_OUTBOUND_ALLOW": "127.0.0.0/8",
            "PYTHONPATH": args.repo,
        }
        server = subprocess.Popen(
            [args.python, "-m", "parley", "serve"],
            env=env,
            cwd=args.repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            run(base)
        finally:
            server.terminate()
            server.wait(60)


def run(base: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            token = httpx.post(
                f"{base}/oauth2/token:generate", json={"appId": APP_ID, "appSecret": APP_SECRET}
            ).json()["accessToken"]
            break
        except (httpx.HTTPError, KeyError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    api = httpx.Client(base_url=base, headers={"x-api-key": token}, timeout=120)
    text = {
        "messages": [
            {
                "payload": {"content": "Alice will send the report by Friday."},
                "from": {"name": "Alice", "userId": "alice@example.com"},
            },
            {
                "payload": {"content": "Can you book the room for Monday?"},
                "from": {"name": "Bob", "userId": "bob@example.com"},
            },
        ]
    }

    def submit_and_wait() -> str:
        job = api.post("/v1/process/text", json=text).json()
        while api.get(f"/v1/job/{job['jobId']}").json()["status"] not in ("completed", "failed"):
            time.sleep(0.2)
        return str(job["conversationId"])

    cid = submit_and_wait()
    member = api.get(f"/v1/conversations/{cid}/members").json()["members"][0]

    def rename() -> float:
        started = time.perf_counter()
        api.put(
            f"/v1/conversations/{cid}/members/{member['id']}",
            json={"id": member["id"], "name": "Alice Smith", "email": "alice@example.com"},
        )
        return time.perf_counter() - started

    def wrong_secrets() -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda _: httpx.post(
                        f"{base}/oauth2/token:generate",
                        json={"appId": APP_ID, "appSecret": "wrong"},
                        timeout=60,
                    ),
                    range(40),
                )
            )
        return time.perf_counter() - started

    def submit_during_refresh() -> float:
        refresher = threading.Thread(target=rename)
        refresher.start()
        time.sleep(0.5)
        started = time.perf_counter()
        api.post("/v1/process/text", json=text)
        took = time.perf_counter() - started
        refresher.join()
        return took

    rows = []
    for name, work in (
        ("rename (insight refresh, 3 s LLM)", rename),
        ("40 wrong secrets, 8 at a time", wrong_secrets),
    ):
        times, took = sample(base, work)
        ms = sorted(t * 1000 for t in times)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        rows.append((name, len(ms), statistics.median(ms), p95, ms[-1], took))
    submit_took = submit_during_refresh()
    print(f"{'scenario':36} {'n':>4} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'work s':>7}")
    for name, n, med, p95, mx, took in rows:
        print(f"{name:36} {n:4d} {med:10.1f} {p95:8.1f} {mx:8.1f} {took:7.2f}")
    print(f"POST /v1/process/text during a refresh: {submit_took * 1000:.0f} ms")


if __name__ == "__main__":
    main()
