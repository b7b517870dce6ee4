"""What the worst texts cost, per MB, through every text path, with ``/health`` polled.

Starts ``parley serve`` (only HTTP is used, so ``--repo`` measures another checkout) and,
for each hostile input at each size, times:

* ``insights``: a text job end to end (``POST /v1/process/text`` with summary, entities
  and a tracker, until ``completed``), in the worker process;
* ``redact 1st`` / ``redact 2nd``: ``GET …/messages?redact=true``, first and second read;
* ``summary``: ``GET …/summary?refresh=true`` (recomputed in the API's insight process);
* ``trackers``: ``POST …/refresh`` with a tracker, every insight recomputed (likewise);
* ``search``: ``GET /v1/conversations?query=`` for a word of the input.

Meanwhile a thread asks ``/health`` every 20 ms; the table shows its max and p99 round
trip during each step. Goal (issue 23): seconds per MB flat across sizes (linear time) and
``/health`` ≤ 100 ms throughout. A text job takes at most 100,000 characters per message
and 900,000 in all, so an input is cut into messages of at most 100,000 characters.
Usage: ``.venv/bin/python bench/text_cost.py [--sizes 0.1,0.5,0.9] [--inputs parens,…]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
APP_ID, APP_SECRET = "bench", "bench-secret-" + "x" * 20
MESSAGE_CHARS = 100_000
TRACKER = {"name": "Budget", "vocabulary": ["budget", "cost overrun", "call Dana"]}


def _repeat(unit: str, chars: int) -> str:
    return (unit * (chars // len(unit) + 1))[:chars]


def _split(text: str, size: int = MESSAGE_CHARS) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _parens(chars: int) -> list[str]:
    half = min(chars, MESSAGE_CHARS) // 2 - 2
    one = "(" * half + "555" + ")" * half
    return [one] * max(1, chars // len(one))


#: name -> messages of about ``chars`` characters in all
INPUTS: dict[str, Callable[[int], list[str]]] = {
    "parens": _parens,  # ((((…555…)))) per message: quadratic in spaCy's tokenizer
    "1-1-1": lambda n: _split(_repeat("1-", n)),  # one token per 2 characters
    "giant token": lambda n: _split(_repeat("abcdefghij", n)),
    "tiny sentences": lambda n: _split(_repeat("A. ", n)),
    # distinct ones, so no repeat is parsed or embedded once: spaCy's per-doc cost
    "tiny distinct": lambda n: _split(" ".join(f"W{i}." for i in range(n // 4))[:n]),
    "emoji+marks": lambda n: _split(_repeat("\U0001f600\u0301\u0302 ", n)),
    "20000 msgs": lambda n: [
        _repeat("Call Dana about the budget. ", max(n // 20_000, 4)) for _ in range(20_000)
    ],
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _probe(base: str, conn: Any, stop: Any) -> None:
    """In its own process: (monotonic end time, seconds) of each ``/health`` round trip."""
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            started = time.monotonic()
            client.get("/health")
            ended = time.monotonic()
            conn.send((ended, ended - started))
            stop.wait(0.02)


class HealthProbe:
    """``/health`` round trips every 20 ms, from a separate process (a thread of this one
    would wait for this process's GIL while it reads a large answer, and count that as the
    server's), assigned to the steps they ended in."""

    def __init__(self, base: str) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe(duplex=False)
        self._stop = context.Event()
        self._process = context.Process(target=_probe, args=(base, child, self._stop))
        self._process.start()
        self._samples: list[tuple[float, float]] = []

    @contextmanager
    def step(self) -> Iterator[list[float]]:
        """The round trips that ended during the block."""
        out: list[float] = []
        started = time.monotonic()
        yield out
        ended = time.monotonic()
        self._conn.poll(0.1)  # the round trip under way as the step ended, if any
        while self._conn.poll():
            self._samples.append(self._conn.recv())
        out.extend(s for t, s in self._samples if started <= t <= ended)

    def close(self) -> None:
        self._stop.set()
        self._process.join(130)


def _pct(values: list[float], q: float) -> float:
    if not values:  # the step ended before the first probe came back
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _wait(api: httpx.Client, job_id: str) -> str:
    while True:
        status = str(api.get(f"/v1/job/{job_id}").json()["status"])
        if status in ("completed", "failed"):
            return status
        time.sleep(0.2)


def _steps(api: httpx.Client, body: dict[str, Any]) -> Iterator[tuple[str, Callable[[], Any]]]:
    """Each path's call, in order: the text job first, then the reads of its conversation."""
    job: dict[str, str] = {}

    def submit_and_wait() -> str:
        job.update(api.post("/v1/process/text", json=body).json())
        return _wait(api, job["jobId"])

    yield "insights", submit_and_wait
    conversation = f"/v1/conversations/{job['conversationId']}"
    for step, method, url, payload in (
        ("redact 1st", "GET", f"{conversation}/messages?redact=true", None),
        ("redact 2nd", "GET", f"{conversation}/messages?redact=true", None),
        ("summary", "GET", f"{conversation}/summary?refresh=true", None),
        ("trackers", "POST", f"{conversation}/refresh", {"trackers": [TRACKER]}),
        ("search", "GET", "/v1/conversations?query=555%20Dana", None),
    ):
        yield step, lambda m=method, u=url, p=payload: api.request(m, u, json=p).status_code


def measure(base: str, inputs: list[str], sizes: list[float]) -> list[tuple[Any, ...]]:
    api = httpx.Client(base_url=base, headers={"x-api-key": _token(base)}, timeout=3600)
    probe = HealthProbe(base)
    rows: list[tuple[Any, ...]] = []
    try:
        # warm up: the worker and the API process load their models on first use
        for _, call in _steps(api, {"messages": [{"payload": {"content": "Call Dana."}}]}):
            call()
        for name in inputs:
            for mb in sizes:
                messages = INPUTS[name](int(mb * 1_000_000))
                size = sum(len(m.encode()) for m in messages) / 1e6
                body = {
                    "messages": [{"payload": {"content": m}} for m in messages],
                    "enableSummary": True,
                    "detectEntities": True,
                    "trackers": [TRACKER],
                }
                for step, call in _steps(api, body):
                    with probe.step() as health:
                        started = time.perf_counter()
                        status = call()
                        seconds = time.perf_counter() - started
                    rows.append(
                        (name, step, size, seconds, seconds / size, _pct(health, 1.0),
                         _pct(health, 0.99), status)
                    )  # fmt: skip
                    print(_line(rows[-1]), flush=True)
    finally:
        probe.close()
        api.close()
    return rows


def _line(row: tuple[Any, ...]) -> str:
    name, step, size, seconds, per_mb, hmax, p99, status = row
    return (
        f"{name:15} {step:11} {size:6.2f} {seconds:8.2f} {per_mb:8.1f} {hmax:9.1f} {p99:8.1f}"
        f"  {status}"
    )


def _token(base: str) -> str:
    deadline = time.monotonic() + 180
    while True:
        try:
            return str(
                httpx.post(
                    f"{base}/oauth2/token:generate", json={"appId": APP_ID, "appSecret": APP_SECRET}
                ).json()["accessToken"]
            )
        except (httpx.HTTPError, KeyError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", default=sys.executable, help="the venv python to serve with")
    parser.add_argument("--repo", default=str(REPO), help="the checkout to serve")
    parser.add_argument("--sizes", default="0.1,0.5,0.9", help="MB per input, comma-separated")
    parser.add_argument("--inputs", default=",".join(INPUTS), help="which inputs")
    parser.add_argument(
        "--models", default=str(REPO / "parley-data" / "models"), help="a model cache to reuse"
    )
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    inputs = [i.strip() for i in args.inputs.split(",")]
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        models = Path(args.models)
        if models.is_dir():
            os.symlink(models.resolve(), Path(data) / "models")
        env = os.environ | {
            "PARLEY_DATA_DIR": data,
            "PARLEY_APP_ID": APP_ID,
            "PARLEY_APP_SECRET": APP_SECRET,
            "PARLEY_PORT": str(port),
            "PYTHONPATH": args.repo,
        }
        server = subprocess.Popen(
            [args.python, "-m", "parley", "serve"],
            env=env,
            cwd=args.repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(f"{'input':15} {'path':11} {'MB':>6} {'seconds':>8} {'s/MB':>8} "
              f"{'health max':>9} {'p99 ms':>8}  status")  # fmt: skip
        try:
            measure(f"http://127.0.0.1:{port}", inputs, sizes)
        finally:
            server.terminate()
            server.wait(60)


if __name__ == "__main__":
    main()
