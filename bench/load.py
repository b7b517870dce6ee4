"""Load figures for the embedded default and the scale-out mode, side by side.

    python bench/load.py                       # both modes, 1,000 queued text jobs
    python bench/load.py --modes embedded --jobs 200
    python bench/load.py --upload-gb 1         # also: API RSS during a 1 GB streamed upload
    python bench/load.py --source /path/to/an/older/checkout   # the same bench, older code

Each mode starts its own stack on free loopback ports and tears it down:

* embedded: one ``parley serve`` process (SQLite, local audio, in-process worker);
* scale-out: ``parley serve`` + two ``parley worker`` processes on a fresh PostgreSQL
  database, Redis (or ``--broker amqp://...``) and S3 storage on a moto server.

Measured per mode:

* ``GET /v1/job/{id}`` closed-loop at ``--clients`` concurrent keep-alive clients
  (ApacheBench, ``apt-get install apache2-utils``): req/s, p50/p95/p99, the median of
  ``--rounds`` runs of ``--requests`` each, with the range;
* the same request open-loop at ``--rate`` req/s offered (latency from the scheduled
  send time, so a stall is not hidden): p50/p95/p99 and the rate achieved;
* ``/health`` closed-loop, for reference;
* submissions/s: ``--jobs`` text jobs POSTed by 20 concurrent clients, each with a
  webhook to a receiver run here;
* those jobs drained: seconds until all are final, lost (not completed), duplicated
  (a conversation with more messages than submitted);
* webhook events: each job must get ``scheduled``, ``in_progress`` and ``completed``
  exactly once (missing and duplicated counts).

``--upload-gb`` samples the API process's RSS (``/proc/<pid>/status``) before, during
and after streaming a generated WAV of that size, in the local and the S3 store, with
no worker running so only the upload is measured.

The machine is shared: the table prints the load average next to the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parents[1]
APP_ID, APP_SECRET = "bench-app", "bench-secret"
PG_ADMIN = os.environ.get("PARLEY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("PARLEY_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


# -- a webhook receiver ---------------------------------------------------------------------


@dataclass
class Hooks:
    url: str
    events: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def hook_receiver() -> Iterator[Hooks]:
    hooks = Hooks("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            with hooks.lock:
                hooks.events.append((body["jobId"], body["status"]))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hooks.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks
    finally:
        server.shutdown()


# -- stacks ----------------------------------------------------------------------------------


@dataclass
class Stack:
    base: str
    api_pid: int
    token: str


@contextmanager
def processes(tmp: Path, env: dict[str, str], specs: dict[str, list[str]]) -> Iterator[dict]:
    running: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, args in specs.items():
            running[name] = subprocess.Popen(
                [sys.executable, "-m", "parley", *args],
                env=env,
                stdout=(tmp / f"{name}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        yield running
    finally:
        for process in running.values():
            process.send_signal(signal.SIGTERM)
        for process in running.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_token(base: str, process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 120
    while True:
        try:
            answer = httpx.post(
                f"{base}/oauth2/token:generate",
                json={"type": "application", "appId": APP_ID, "appSecret": APP_SECRET},
            )
            return str(answer.json()["accessToken"])
        except (httpx.HTTPError, KeyError, ValueError):
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the API did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)


@contextmanager
def moto() -> Iterator[dict[str, str]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        for _ in range(100):
            with suppress(httpx.HTTPError):
                httpx.put(f"{endpoint}/parley-bench")  # create the bucket
                break
            time.sleep(0.1)
        yield env
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def pg_database() -> Iterator[str]:
    import psycopg

    name = f"parley_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def base_env(args: argparse.Namespace, tmp: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARLEY_", "PROMETHEUS_"))}
    models = REPO / "parley-data" / "models"
    (tmp / "data").mkdir(exist_ok=True)
    if models.is_dir():
        (tmp / "data" / "models").symlink_to(models.resolve(), target_is_directory=True)
    env |= {
        "PARLEY_DATA_DIR": str(tmp / "data"),
        "PARLEY_APP_ID": APP_ID,
        "PARLEY_APP_SECRET": APP_SECRET,
        "PARLEY_JWT_SECRET": secrets.token_hex(32),
        "PARLEY_PORT": str(port),
        "PARLEY_MAX_CONCURRENT_JOBS": "100000",
        "PARLEY_WEBHOOK_BACKOFF_SECONDS": "0.2",
        # The webhook receiver runs here, on loopback, which Parley refuses by default.
        "PARLEY_OUTBOUND_ALLOW": "127.0.0.0/8,::1",
    }
    if args.source:
        env["PYTHONPATH"] = str(Path(args.source).resolve())
    if args.server_workers > 1:
        env["PARLEY_SERVER_WORKERS"] = str(args.server_workers)
    return env


@contextmanager
def stack(mode: str, args: argparse.Namespace) -> Iterator[Stack]:
    tmp = Path(tempfile.mkdtemp(prefix=f"parley-load-{mode}-"))
    port = free_port()
    env = base_env(args, tmp, port)
    try:
        if mode == "embedded":
            with processes(tmp, env, {"api": ["serve"]}) as running:
                base = f"http://127.0.0.1:{port}"
                token = wait_token(base, running["api"], tmp / "api.log")
                yield Stack(base, running["api"].pid, token)
            return
        with pg_database() as database, moto() as aws:
            env |= aws | {
                "PARLEY_QUEUE": "celery",
                "PARLEY_DATABASE_URL": database,
                "PARLEY_BROKER_URL": args.broker,
                "PARLEY_CELERY_QUEUE_NAME": f"parley-bench-{secrets.token_hex(4)}",
                "PARLEY_STORAGE_URL": "s3://parley-bench/audio",
            }
            specs = {
                "api": ["serve"],
                "w1": ["worker", "--hostname", "w1@%h"],
                "w2": ["worker", "--hostname", "w2@%h"],
            }
            with processes(tmp, env, specs) as running:
                base = f"http://127.0.0.1:{port}"
                token = wait_token(base, running["api"], tmp / "api.log")
                yield Stack(base, running["api"].pid, token)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"  (logs kept in {tmp})", file=sys.stderr)


# -- measurements ---------------------------------------------------------------------------


def ab(url: str, token: str | None, clients: int, requests: int) -> dict[str, float]:
    if shutil.which("ab") is None:
        sys.exit("ApacheBench (ab) is needed: apt-get install apache2-utils")
    command = ["ab", "-q", "-k", "-n", str(requests), "-c", str(clients)]
    if token:
        command += ["-H", f"x-api-key: {token}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # ab counts a body whose length differs from the first as "failed (Length)": not an error
    kinds = re.search(r"\(Connect: (\d+), Receive: (\d+), Length: \d+, Exceptions: (\d+)\)", out)
    failed = sum(int(n) for n in kinds.groups()) if kinds else 0
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    result = {"rps": rps, "failed": failed + (int(non2xx.group(1)) if non2xx else 0)}
    for q in (50, 95, 99):
        result[f"p{q}"] = float(re.search(rf"^\s*{q}%\s+(\d+)", out, re.M).group(1))  # type: ignore[union-attr]
    return result


async def open_loop(url: str, token: str, rate: float, seconds: float) -> dict[str, float]:
    """Requests sent on a fixed schedule whatever the answers; latency from the schedule.

    A raw HTTP/1.1 keep-alive client on asyncio, not httpx: httpx spends ~10 ms of CPU a
    request and could not offer more than ~100 req/s, so it measured itself. A send
    takes an idle connection or opens a new one, never waits for an answer, so a
    server stall shows as latency (no coordinated omission). wrk2 would do the same but
    is in no registry; Debian's wrk and hey pace each connection closed-loop.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nx-api-key: {token}\r\n\r\n"
    ).encode()
    # (reader, writer, idle since): uvicorn closes a keep-alive connection after 5 s idle
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
    latencies: list[float] = []
    errors: Counter[str] = Counter()

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while idle:
            reader, writer, since = idle.pop()
            if not reader.at_eof() and time.monotonic() - since < 4.0:
                return reader, writer
            writer.close()  # closed by the server, or about to be: not a failed request
        return await asyncio.open_connection(host, port)

    async def exchange() -> int:
        reader, writer = await connection()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        await reader.readexactly(int(length.group(1)) if length else 0)
        if re.search(rb"(?im)^connection:\s*close", head):
            writer.close()
        else:
            idle.append((reader, writer, time.monotonic()))
        return int(head.split(b" ", 2)[1])

    async def one(at: float) -> None:
        try:
            status = await asyncio.wait_for(exchange(), 30)
            if status != 200:
                errors[str(status)] += 1
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors[type(exc).__name__] += 1
        latencies.append((time.perf_counter() - at) * 1000)

    await one(time.perf_counter())  # open the first connection
    latencies.clear()
    start = time.perf_counter()
    sent: list[asyncio.Task[None]] = []
    for i in range(int(rate * seconds)):
        at = start + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent.append(asyncio.create_task(one(at)))
    await asyncio.gather(*sent)
    elapsed = time.perf_counter() - start
    for _, writer, _ in idle:
        writer.close()
    return {
        "achieved": len(latencies) / elapsed,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "failed": sum(errors.values()),
        "kinds": dict(errors),
    }


TEXT = [
    "Let's review the launch plan for next week.",
    "I will send the updated budget to finance by Friday.",
]


async def submit_jobs(base: str, token: str, count: int, hook: str) -> tuple[list[dict], float]:
    jobs: list[dict] = []
    queue = list(range(count))
    async with httpx.AsyncClient(base_url=base, headers={"x-api-key": token}, timeout=60) as c:

        async def client() -> None:
            while queue:
                n = queue.pop()
                body = {
                    "name": f"load {n}",
                    "webhookUrl": hook,
                    "messages": [
                        {"payload": {"content": text}, "from": {"name": f"p{i}"}}
                        for i, text in enumerate(TEXT)
                    ],
                }
                answer = await c.post("/v1/process/text", json=body)
                if answer.status_code != 201:
                    raise SystemExit(f"submission failed: {answer.status_code} {answer.text}")
                jobs.append(answer.json())

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(20)))
        return jobs, time.perf_counter() - started


async def drain(base: str, token: str, jobs: list[dict], timeout: float) -> dict[str, Any]:
    started = time.perf_counter()
    final: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=base, headers={"x-api-key": token}, timeout=60) as c:
        while len(final) < len(jobs) and time.perf_counter() - started < timeout:
            left = [j for j in jobs if j["jobId"] not in final]
            for job in left[:200]:
                status = (await c.get(f"/v1/job/{job['jobId']}")).json()["status"]
                if status in ("completed", "failed"):
                    final[job["jobId"]] = status
            await asyncio.sleep(0.5)
        seconds = time.perf_counter() - started
        duplicated = 0
        sem = asyncio.Semaphore(20)

        async def messages(job: dict) -> int:
            async with sem:
                answer = await c.get(f"/v1/conversations/{job['conversationId']}/messages")
                return len(answer.json().get("messages", []))

        counts = await asyncio.gather(*(messages(j) for j in jobs))
        duplicated = sum(1 for n in counts if n > len(TEXT))
    lost = sum(1 for j in jobs if final.get(j["jobId"]) != "completed")
    return {"seconds": seconds, "lost": lost, "duplicated": duplicated}


def webhook_check(hooks: Hooks, jobs: list[dict], settle: float = 30) -> dict[str, int]:
    wanted = {(j["jobId"], s) for j in jobs for s in ("scheduled", "in_progress", "completed")}
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        with hooks.lock:
            if wanted <= set(hooks.events):
                break
        time.sleep(0.5)
    time.sleep(2)  # a late duplicate would arrive now
    with hooks.lock:
        counts = Counter(hooks.events)
    return {
        "events": sum(counts.values()),
        "missing": len(wanted - set(counts)),
        "duplicated": sum(n - 1 for n in counts.values() if n > 1),
    }


def run_mode(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    print(f"== {mode} (load {load()})", file=sys.stderr)
    result: dict[str, Any] = {}
    with stack(mode, args) as s, hook_receiver() as hooks:
        first = httpx.post(
            f"{s.base}/v1/process/text",
            headers={"x-api-key": s.token},
            json={"messages": [{"payload": {"content": "Warm up."}}]},
        ).json()
        job_url = f"{s.base}/v1/job/{first['jobId']}"
        deadline = time.monotonic() + 300  # poll a finished job: every answer the same
        while httpx.get(job_url, headers={"x-api-key": s.token}).json()["status"] != "completed":
            if time.monotonic() > deadline:
                sys.exit("the warm-up job did not complete")
            time.sleep(0.5)
        ab(job_url, s.token, args.clients, 2000)  # warm-up
        result["load_poll"] = load()
        # The median of --rounds runs, with the range: one run on shared cores varied
        # by 1.7x between two runs a minute apart.
        rounds = sorted(
            (ab(job_url, s.token, args.clients, args.requests) for _ in range(args.rounds)),
            key=lambda r: r["rps"],
        )
        result["poll"] = rounds[len(rounds) // 2] | {
            "low": rounds[0]["rps"],
            "high": rounds[-1]["rps"],
            "failed": sum(r["failed"] for r in rounds),
        }
        result["health"] = ab(f"{s.base}/health", None, args.clients, args.requests)
        result["open"] = asyncio.run(open_loop(job_url, s.token, args.rate, args.seconds))
        result["load_jobs"] = load()
        jobs, seconds = asyncio.run(submit_jobs(s.base, s.token, args.jobs, hooks.url))
        result["submit_rps"] = len(jobs) / seconds
        result["drain"] = asyncio.run(drain(s.base, s.token, jobs, args.drain_timeout))
        result["hooks"] = webhook_check(hooks, jobs)
        result["load_end"] = load()
    return result


# -- the upload RSS check --------------------------------------------------------------------


def wav_stream(total: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """A PCM WAV of ``total`` bytes (48 kHz stereo 16-bit), generated as it is sent."""
    data = total - 44
    yield (
        b"RIFF"
        + struct.pack("<I", 36 + data)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 2, 48000, 48000 * 4, 4, 16)
        + b"data"
        + struct.pack("<I", data)
    )
    block = os.urandom(chunk)
    sent = 0
    while sent < data:
        piece = block[: min(chunk, data - sent)]
        sent += len(piece)
        yield piece


def upload_rss(storage: str, args: argparse.Namespace) -> dict[str, float]:
    total = int(args.upload_gb * 1024**3)
    tmp = Path(tempfile.mkdtemp(prefix=f"parley-upload-{storage}-"))
    port = free_port()
    env = base_env(args, tmp, port) | {
        "PARLEY_WORKERS": "0",
        "PARLEY_MAX_UPLOAD_BYTES": str(total + 1),
    }
    aws = moto() if storage == "s3" else contextmanager(lambda: iter([{}]))()
    try:
        with aws as aws_env:
            if storage == "s3":
                env |= aws_env | {"PARLEY_STORAGE_URL": "s3://parley-bench/audio"}
            with processes(tmp, env, {"api": ["serve"]}) as running:
                base = f"http://127.0.0.1:{port}"
                token = wait_token(base, running["api"], tmp / "api.log")
                pid = running["api"].pid
                before = rss_mb(pid)
                samples: list[float] = []
                done = threading.Event()

                def sample() -> None:
                    while not done.wait(0.1):
                        samples.append(rss_mb(pid))

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                started = time.perf_counter()
                answer = httpx.post(
                    f"{base}/v1/process/audio",
                    headers={"x-api-key": token, "Content-Type": "audio/wav"},
                    content=wav_stream(total),
                    timeout=600,
                )
                seconds = time.perf_counter() - started
                done.set()
                sampler.join()
                time.sleep(1)
                if answer.status_code != 201:
                    sys.exit(f"upload failed: {answer.status_code} {answer.text}")
                return {
                    "before": before,
                    "peak": max(samples or [before]),
                    "after": rss_mb(pid),
                    "seconds": seconds,
                    "load": float(os.getloadavg()[0]),
                }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- output ------------------------------------------------------------------------------------


def table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    modes = list(results)
    rows: list[tuple[str, ...]] = [("", *modes)]

    def row(label: str, fn: Any) -> None:
        rows.append((label, *(fn(results[m]) for m in modes)))

    c = args.clients
    row("load average (1/5/15 min) at polling", lambda r: r["load_poll"])
    row(
        f"GET /v1/job closed-loop, {c} clients: req/s, median of {args.rounds} (range)",
        lambda r: f"{r['poll']['rps']:.0f} ({r['poll']['low']:.0f}-{r['poll']['high']:.0f})",
    )
    row(
        "  p50 / p95 / p99 (ms) of the median run",
        lambda r: f"{r['poll']['p50']:.0f} / {r['poll']['p95']:.0f} / {r['poll']['p99']:.0f}",
    )
    row("  failed", lambda r: str(r["poll"]["failed"]))
    row(
        f"GET /v1/job open-loop at {args.rate:g} req/s: p50 / p95 / p99 (ms)",
        lambda r: f"{r['open']['p50']:.1f} / {r['open']['p95']:.1f} / {r['open']['p99']:.1f}",
    )
    row(
        "  achieved req/s, failed (by status or error)",
        lambda r: (
            f"{r['open']['achieved']:.0f}, {r['open']['failed']}"
            + (f" {r['open']['kinds']}" if r["open"]["failed"] else "")
        ),
    )
    row(f"/health closed-loop, {c} clients: req/s", lambda r: f"{r['health']['rps']:.0f}")
    row("  p99 (ms)", lambda r: f"{r['health']['p99']:.0f}")
    row(f"submissions/s ({args.jobs} text jobs, 20 clients)", lambda r: f"{r['submit_rps']:.0f}")
    row(f"{args.jobs} queued jobs drained in (s)", lambda r: f"{r['drain']['seconds']:.0f}")
    row("  lost / duplicated", lambda r: f"{r['drain']['lost']} / {r['drain']['duplicated']}")
    row("webhook events received", lambda r: str(r["hooks"]["events"]))
    row(
        "  missing / duplicated",
        lambda r: f"{r['hooks']['missing']} / {r['hooks']['duplicated']}",
    )
    row("load average at the end", lambda r: r["load_end"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", default="embedded,scale-out")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5, help="closed-loop runs (median)")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--drain-timeout", type=float, default=1800)
    parser.add_argument("--broker", default=REDIS)
    parser.add_argument("--server-workers", type=int, default=1)
    parser.add_argument("--upload-gb", type=float, default=0)
    parser.add_argument("--source", help="run the servers from this source tree")
    parser.add_argument("--keep", action="store_true", help="keep the stacks' logs")
    args = parser.parse_args()
    results = {m: run_mode(m, args) for m in args.modes.split(",") if m}
    if results:
        print(table(results, args))
    if args.upload_gb:
        print(f"\nAPI process RSS (MB), {args.upload_gb:g} GB streamed upload, no worker:")
        print("store | before | peak during | after | added at peak | upload s | load")
        for storage in ("local", "s3"):
            r = upload_rss(storage, args)
            print(
                f"{storage} | {r['before']:.0f} | {r['peak']:.0f} | {r['after']:.0f} | "
                f"{r['peak'] - r['before']:.0f} | {r['seconds']:.0f} | {r['load']:.2f}"
            )
    print(f"\nload average at the end: {load()}", file=sys.stderr)


if __name__ == "__main__":
    main()
