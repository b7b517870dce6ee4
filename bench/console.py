"""Console and search: page weight and time to interactive, search latency. Prints tables.

1. The conversation page for a one-hour transcript (~9,000 words in ~900 sentences, two
   speakers, insights computed beforehand), opened cold in headless Chromium (Debian's
   ``/usr/bin/chromium``): bytes transferred (console files and API JSON), time to the first
   sentences and to the whole transcript rendered, long tasks (the page's responsiveness
   while it renders), DOM size. No audio is stored for it (the player's metadata request
   would add a few kB).
2. ``GET /v1/conversations?query=`` over 1,000 stored conversations (50 sentences each) on
   the embedded SQLite (FTS5) and on PostgreSQL (tsvector + GIN): p50/p99 through real HTTP.

    .venv/bin/python bench/console.py [--repeats 5] [--queries 200] [--no-postgres]

PostgreSQL is the local server (``PARLEY_BENCH_PG``, default
``postgresql://postgres@127.0.0.1:5432/postgres``); a scratch database is made and dropped.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parley import conversations as service
from parley.api.app import create_app
from parley.config import Settings
from parley.services import build_services
from parley.storage import conversations as store
from tests.conftest import APP_ID, APP_SECRET, data_dir, start_server, wait_for_token

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VOCABULARY = (
    "budget contract pricing customer launch roadmap invoice meeting design review hiring "
    "quarter revenue marketing support ticket release schedule deadline report vendor travel "
    "office training security audit migration database server network partner feedback "
    "analytics dashboard onboarding renewal discount proposal agenda demo survey warehouse"
).split()
FILLER = "we the will need to send and then a for this next week it is on our by team".split()


def _sentence(rng: random.Random, words: int) -> str:
    picks = [rng.choice(FILLER if rng.random() < 0.6 else VOCABULARY) for _ in range(words)]
    return " ".join(picks).capitalize() + "."


def seed_conversation(
    services: Any, rng: random.Random, *, name: str, sentences: int, words_per: int = 10
) -> str:
    """A stored conversation with word times, two speakers, 0.4 s per word."""
    with services.storage.session() as session:
        conversation = store.create_conversation(session=session, app_id=APP_ID, name=name)
        t, messages = 0.0, []
        for i in range(sentences):
            text = _sentence(rng, words_per)
            words = []
            for w in text.split():
                words.append({"word": w, "start": round(t, 3), "end": round(t + 0.35, 3)})
                t += 0.4
            messages.append(
                store.MessageSpec(
                    text=text,
                    start=words[0]["start"],
                    end=words[-1]["end"],
                    label="s1" if (i // 3) % 2 == 0 else "s2",
                    words=words,
                )
            )
            t += 0.4
        store.store_transcript(
            session=session,
            conversation=conversation,
            job_id="bench",
            members=store.resolve_members(
                [],
                [
                    store.MemberSpec(label="s1", name="Speaker 1"),
                    store.MemberSpec(label="s2", name="Speaker 2"),
                ],
                conversation.id,
            ),
            messages=messages,
            duration=t,
            billing_duration=t,
            language="en",
        )
        return conversation.id


def _server(settings: Settings) -> tuple[Any, Any, Any, str]:
    services = build_services(settings)
    server, thread, url = start_server(create_app(settings, services=services))
    return services, server, thread, url


def page_bench(repeats: int) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as data:
        settings = Settings(
            data_dir=data_dir(Path(data)), app_id=APP_ID, app_secret=APP_SECRET, workers=0
        )
        services, server, thread, url = _server(settings)
        try:
            cid = seed_conversation(services, rng, name="One hour", sentences=900)
            started = time.perf_counter()
            with services.storage.session() as session:
                conversation = session.get(store.Conversation, cid)
                conversation.insight_options = {"enable_summary": True}
            service.refresh_insights(storage=services.storage, conversation_id=cid, llm=None)
            insights_s = time.perf_counter() - started
            token = wait_for_token(url)
            rows = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                for _ in range(repeats):
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    context.add_init_script(
                        "window.__long = [];"
                        "new PerformanceObserver(l => window.__long.push("
                        "...l.getEntries().map(e => e.duration)))"
                        ".observe({type: 'longtask', buffered: true});"
                        f"localStorage.setItem('parley.token', '{token}');"
                    )
                    page = context.new_page()
                    page.goto(f"{url}/#/c/{cid}")
                    page.wait_for_selector("body[data-ready=true]", timeout=120_000)
                    page.wait_for_timeout(300)
                    m = page.evaluate(
                        """() => {
                          const res = performance.getEntriesByType('resource');
                          const nav = performance.getEntriesByType('navigation')[0];
                          const sum = (xs, k) => xs.reduce((a, e) => a + (e[k] || 0), 0);
                          const api = res.filter(e => e.name.includes('/v1/'));
                          const files = res.filter(e => !e.name.includes('/v1/'));
                          return {
                            files_kb: (sum(files, 'transferSize') + nav.transferSize) / 1024,
                            api_kb: sum(api, 'transferSize') / 1024,
                            requests: res.length + 1,
                            first_ms: window.parleyFirstPaint, ready_ms: window.parleyReady,
                            longest_ms: Math.max(0, ...window.__long),
                            blocking_ms: window.__long.reduce((a, d) => a + Math.max(0, d - 50), 0),
                            nodes: document.getElementsByTagName('*').length,
                            words: document.querySelectorAll('.w').length,
                          };
                        }"""
                    )
                    started = time.perf_counter()
                    page.locator("#speakers button").first.click()
                    page.wait_for_selector("#speakers input")
                    m["click_ms"] = (time.perf_counter() - started) * 1000
                    rows.append(m)
                    context.close()
                browser.close()
            print(f"(insights for the hour computed once beforehand in {insights_s:.1f} s)")
            return rows
        finally:
            server.should_exit = True
            thread.join(30)


def search_bench(database_url: str | None, queries: int, label: str) -> dict[str, float]:
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as data:
        settings = Settings(
            data_dir=data_dir(Path(data)),
            database_url=database_url,
            app_id=APP_ID,
            app_secret=APP_SECRET,
            workers=0,
        )
        services, server, thread, url = _server(settings)
        try:
            started = time.perf_counter()
            for i in range(1000):
                seed_conversation(services, rng, name=f"Call {i:04d}", sentences=50, words_per=12)
            seed_s = time.perf_counter() - started
            token = wait_for_token(url)
            client = httpx.Client(base_url=url, headers={"x-api-key": token}, timeout=60)
            terms = [
                *(rng.choice(VOCABULARY) for _ in range(queries // 2)),
                *(
                    f"{rng.choice(VOCABULARY)} {rng.choice(VOCABULARY)}"
                    for _ in range(queries // 4)
                ),
                *(f"Call {rng.randrange(1000):04d}" for _ in range(queries - 3 * (queries // 4))),
            ]
            rng.shuffle(terms)
            client.get("/v1/conversations", params={"query": "warmup"})
            times, found = [], []
            for term in terms:
                started = time.perf_counter()
                response = client.get("/v1/conversations", params={"query": term, "limit": 20})
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                found.append(len(response.json()["conversations"]))
            times.sort()
            client.close()
            return {
                "backend": label,
                "seed_s": seed_s,
                "p50": statistics.median(times),
                "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
                "max": times[-1],
                "hits": statistics.mean(found),
            }
        finally:
            server.should_exit = True
            thread.join(30)


def _pg_database() -> tuple[str, Any]:
    import os

    import psycopg

    admin = os.environ.get("PARLEY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"parley_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}", drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="cold page loads")
    parser.add_argument("--queries", type=int, default=200, help="search requests per backend")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--skip-page", action="store_true")
    args = parser.parse_args()
    with open("/proc/loadavg") as handle:
        print(f"load average at start: {' '.join(handle.read().split()[:3])}")

    if not args.skip_page:
        rows = page_bench(args.repeats)
        print(f"\nConversation page, one-hour transcript, {args.repeats} cold loads (median):")
        print(f"| {'measure':34} | {'median':>9} | {'min':>9} | {'max':>9} |")
        print(f"|{'-' * 36}|{'-' * 11}|{'-' * 11}|{'-' * 11}|")
        labels = {
            "files_kb": "console files transferred (kB)",
            "api_kb": "API JSON transferred (kB)",
            "requests": "requests",
            "first_ms": "first sentences shown (ms)",
            "ready_ms": "whole transcript rendered (ms)",
            "longest_ms": "longest task (ms)",
            "blocking_ms": "total blocking time (ms)",
            "click_ms": "click Rename → input shown (ms)",
            "nodes": "DOM elements",
            "words": "word spans",
        }
        for key, label in labels.items():
            values = [r[key] for r in rows]
            print(
                f"| {label:34} | {statistics.median(values):9.0f} | {min(values):9.0f} "
                f"| {max(values):9.0f} |"
            )

    results = [search_bench(None, args.queries, "SQLite (FTS5)")]
    if not args.no_postgres:
        url, drop = _pg_database()
        try:
            results.append(search_bench(url, args.queries, "PostgreSQL (tsvector, GIN)"))
        finally:
            drop()
    print(f"\nSearch over 1,000 conversations × 50 sentences, {args.queries} queries, HTTP:")
    print(f"| {'backend':28} | {'p50 ms':>7} | {'p99 ms':>7} | {'max ms':>7} | {'hits':>5} |")
    print(f"|{'-' * 30}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 7}|")
    for r in results:
        print(
            f"| {r['backend']:28} | {r['p50']:7.1f} | {r['p99']:7.1f} | {r['max']:7.1f} "
            f"| {r['hits']:5.1f} |"
        )
    with open("/proc/loadavg") as handle:
        print(f"\nload average at end: {' '.join(handle.read().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
