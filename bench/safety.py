"""Safety figures, measured: regex worst cases on 1 MB, /health latency during a flood of
wrong secrets, and access tokens left in the database.

    .venv/bin/python bench/safety.py [--flood-seconds 10] [--flood-clients 8]

Starts a real Parley server (uvicorn, SQLite, no workers) on a free loopback port in a
temporary data directory. The flood runs twice against the same server build: with the
failure limit (the default) and with it effectively off (``token_failures_per_minute``
very large), so the two p99s come from one run on one machine state.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MB = 1 << 20
OLD_FILTER = re.compile(r"^\s*conversation\.metadata\.([\w.-]+)\s*==\s*(.+?)\s*$")


def _ms(fn, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    with contextlib.suppress(Exception):
        fn(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def regex_table() -> None:
    from parley.options.filters import parse_metadata_filter
    from parley.options.job import _LANG
    from parley.pipeline import sentences

    cases = [
        (
            "filter, value + 1 MB spaces + y",
            parse_metadata_filter,
            "conversation.metadata.a==x" + " " * MB + "y",
        ),
        (
            "filter, 1 MB spaces around ==",
            parse_metadata_filter,
            "conversation.metadata.a" + " " * MB + "==" + " " * MB,
        ),
        (
            "filter, 1 MB of ' and'",
            parse_metadata_filter,
            "conversation.metadata.a==x" + " and" * (MB // 4),
        ),
        (
            "filter, 1 MB of dots in the key",
            parse_metadata_filter,
            "conversation.metadata." + "." * MB + "==x",
        ),
        ("sentence end, 1 MB of dots + x", sentences._TERMINAL.search, "." * MB + "x"),
        ("sentence end, 1 MB of '.)' + x", sentences._TERMINAL.search, ".)" * (MB // 2) + "x"),
        ("languageCode, 1 MB of -abcdefgh", _LANG.match, "en" + "-abcdefgh" * (MB // 9)),
    ]
    print("\nRegex worst cases on 1 MB inputs (one run each)")
    print(f"| {'input':<36} | {'ms':>8} |")
    print(f"|{'-' * 38}|{'-' * 10}|")
    for name, fn, text in cases:
        kwargs = {"limit": None} if fn is parse_metadata_filter else {}
        print(f"| {name:<36} | {_ms(fn, text, **kwargs):8.1f} |")
    print("\nFor contrast, the old filter regex (quadratic) on growing inputs:")
    print(f"| {'spaces':>8} | {'ms':>9} |")
    for n in (5_000, 10_000, 20_000):
        text = "conversation.metadata.a==x" + " " * n + "y"
        print(f"| {n:>8} | {_ms(OLD_FILTER.match, text):9.1f} |")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(data: Path, limit: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "PARLEY_DATA_DIR": str(data),
        "PARLEY_APP_ID": "bench",
        "PARLEY_APP_SECRET": "bench-secret",
        "PARLEY_WORKERS": "0",
        "PARLEY_TOKEN_FAILURES_PER_MINUTE": str(limit),
    }
    code = (
        "import uvicorn; from parley.api.app import create_app; "
        f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='error')"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def flood(url: str, seconds: float, clients: int) -> tuple[list[float], dict[int, int]]:
    stop = time.monotonic() + seconds
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def attacker(n: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while time.monotonic() < stop:
                r = client.post(
                    "/oauth2/token:generate",
                    json={"appId": "bench" if n % 2 else f"guess-{n}", "appSecret": "wrong"},
                )
                with lock:
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    threads = [threading.Thread(target=attacker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    latencies = []
    with httpx.Client(base_url=url, timeout=30) as client:
        time.sleep(0.5)
        while time.monotonic() < stop:
            started = time.perf_counter()
            client.get("/health")
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)
    for t in threads:
        t.join()
    return latencies, statuses


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def flood_table(seconds: float, clients: int) -> None:
    print(f"\n/health during a wrong-secret flood ({clients} clients, {seconds:g} s each)")
    print(
        f"| {'failure limit':<22} | {'/health p50 ms':>14} | {'p99 ms':>8} | {'token answers':<28}"
        " |"
    )
    print(f"|{'-' * 24}|{'-' * 16}|{'-' * 10}|{'-' * 30}|")
    for label, limit in (("10/min (default)", 10), ("off (10^9/min)", 10**9)):
        with tempfile.TemporaryDirectory() as tmp:
            proc, url = _serve(Path(tmp), limit)
            try:
                latencies, statuses = flood(url, seconds, clients)
            finally:
                proc.terminate()
                proc.wait(30)
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
        print(
            f"| {label:<22} | {statistics.median(latencies):14.1f} | {_p(latencies, 0.99):8.1f} "
            f"| {answers:<28} |"
        )


def token_rows() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = _serve(Path(tmp), 10)
        try:
            tokens = {
                httpx.post(
                    f"{url}/oauth2/token:generate",
                    json={"appId": "bench", "appSecret": "bench-secret"},
                ).json()["accessToken"]
                for _ in range(3)
            }
        finally:
            proc.terminate()
            proc.wait(30)
        db = sqlite3.connect(Path(tmp) / "parley.db")
        rows = db.execute("SELECT * FROM apps").fetchall()
        clear = sum(1 for row in rows if any(t in str(v) for t in tokens for v in row))
        raw = b"".join(p.read_bytes() for p in Path(tmp).glob("parley.db*"))
        in_file = sum(1 for t in tokens if t.encode() in raw)
        mode = oct((Path(tmp) / "parley.db").stat().st_mode & 0o777)
    print("\nAccess tokens in the database")
    print("| apps rows | rows holding a token | tokens found in the DB files | parley.db mode |")
    print(f"| {len(rows):>9} | {clear:>20} | {in_file:>28} | {mode:>14} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flood-seconds", type=float, default=10.0)
    parser.add_argument("--flood-clients", type=int, default=8)
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    regex_table()
    token_rows()
    flood_table(args.flood_seconds, args.flood_clients)


if __name__ == "__main__":
    main()
