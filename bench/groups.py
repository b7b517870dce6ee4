"""Conversation groups at scale: p50/p99 of a group's conversations at 100,000 conversations.

Writes N conversations (default 100,000) of one app straight into a fresh SQLite database
through the storage layer (``import_conversations``: multi-row inserts, metadata rows and two
members each), spread evenly over the last 28 days, so the default 7-day window holds about a
quarter of them. Metadata per conversation:

* ``agentId``: one of 200 agents (0.5 % each),
* ``customerId``: one of 50 customers of that agent (about 0.01 % each),
* ``team``: one of 4 teams (25 %), ``region``: emea or amer (50 %).

Per group query (the values change each repetition): "SQL" is the page's query alone
(``list_conversations``: the criteria matched on the metadata rows, window, order, limit);
"page" is what ``GET /v1/groups/{id}/conversations`` does below HTTP (that query, the
page's members in one query, the JSON built); "json_extract" is the same page's query on
the JSON column with no metadata rows, for comparison (the mean row counts must agree).

    .venv/bin/python bench/groups.py [--conversations 100000] [--repeats 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "client"),
]

from sqlalchemy import func, select  # noqa: E402

from parley.api.present import conversation_json  # noqa: E402
from parley.options.filters import parse_metadata_terms  # noqa: E402
from parley.storage import apps as apps_store  # noqa: E402
from parley.storage import conversations as store  # noqa: E402
from parley.storage.db import Storage  # noqa: E402
from parley.storage.models import Conversation  # noqa: E402

APP = "bench-app"
AGENTS, CUSTOMERS_PER_AGENT, TEAMS = 200, 50, 4
DAYS = 28


def populate(storage: Storage, count: int, now: datetime) -> float:
    """``count`` conversations through the storage layer; returns the seconds it took."""
    rng = random.Random(7)
    started = time.perf_counter()
    with storage.session() as session:
        apps_store.create_app(session=session, name="bench", app_id=APP, secret="bench")
    batch: list[store.ImportedConversation] = []
    span = timedelta(days=DAYS).total_seconds()
    for i in range(count):
        agent = rng.randrange(AGENTS)
        batch.append(
            store.ImportedConversation(
                start_time=now - timedelta(seconds=span * (i + 0.5) / count),
                name=f"call {i}",
                metadata={
                    "agentId": f"agent-{agent}",
                    "customerId": f"cust-{agent}-{rng.randrange(CUSTOMERS_PER_AGENT)}",
                    "team": f"team-{agent % TEAMS}",
                    "region": rng.choice(("emea", "amer")),
                },
                members=("Agent", "Customer"),
            )
        )
        if len(batch) == 5000:
            with storage.session() as session:
                store.import_conversations(session=session, app_id=APP, items=batch)
            batch = []
    if batch:
        with storage.session() as session:
            store.import_conversations(session=session, app_id=APP, items=batch)
    return time.perf_counter() - started


def group_page(
    storage: Storage,
    terms: list[tuple[str, str]],
    *,
    now: datetime,
    limit: int = 20,
    offset: int = 0,
    descending: bool = False,
    page: bool = True,
) -> list[Any]:
    """What the group route does for one request below HTTP (``page``), or only its SQL."""
    with storage.session() as session:
        rows = store.list_conversations(
            session=session,
            app_id=APP,
            limit=limit,
            offset=offset,
            descending=descending,
            sort_by_name=False,
            start=now - timedelta(days=7),
            end=now,
            metadata_filter=terms,
        )
        if not page:
            return [c.id for c in rows]
        members = store.members_of_many(session=session, conversation_ids=[c.id for c in rows])
        return [conversation_json(c, members[c.id]) for c in rows]


def json_scan(
    storage: Storage,
    terms: list[tuple[str, str]],
    *,
    now: datetime,
    limit: int = 20,
    offset: int = 0,
    descending: bool = False,
) -> list[Conversation]:
    """The same page's SQL on the JSON column (``json_extract``, no metadata rows)."""
    order = Conversation.start_time.desc() if descending else Conversation.start_time.asc()
    query = select(Conversation).where(
        Conversation.app_id == APP,
        Conversation.start_time >= now - timedelta(days=7),
        Conversation.start_time <= now,
        *(func.json_extract(Conversation.meta, f"$.{k}") == v for k, v in terms),
    )
    with storage.session() as session:
        return list(
            session.scalars(query.order_by(order, Conversation.id).limit(limit).offset(offset))
        )


def measure(run: Callable[[random.Random], Any], repeats: int) -> tuple[float, float, float]:
    """(p50, p99, mean rows) in milliseconds over ``repeats`` runs, after 3 warm-ups; the
    random values repeat from run to run, so every variant sees the same queries."""
    rng = random.Random(11)
    for _ in range(3):
        run(rng)
    times, sizes = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        result = run(rng)
        times.append((time.perf_counter() - started) * 1000)
        sizes.append(len(result))
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return statistics.median(times), cuts[98], statistics.fmean(sizes)


#: (label, the terms for a random generator, page options)
Case = tuple[str, Callable[[random.Random], list[tuple[str, str]]], dict[str, Any]]


def _criteria(text: str) -> list[tuple[str, str]]:
    return parse_metadata_terms(text, field="criteria")


def cases() -> list[Case]:
    def agent(rng: random.Random) -> int:
        return rng.randrange(AGENTS)

    def one(rng: random.Random) -> list[tuple[str, str]]:
        return _criteria(f"conversation.metadata.agentId==agent-{agent(rng)}")

    def two(rng: random.Random) -> list[tuple[str, str]]:
        a = agent(rng)
        return _criteria(
            f"conversation.metadata.agentId==agent-{a} and "
            f"conversation.metadata.customerId==cust-{a}-{rng.randrange(CUSTOMERS_PER_AGENT)}"
        )

    def region_customer(rng: random.Random) -> list[tuple[str, str]]:
        a = agent(rng)
        return _criteria(
            f"conversation.metadata.region=={rng.choice(('emea', 'amer'))} and "
            f"conversation.metadata.customerId==cust-{a}-{rng.randrange(CUSTOMERS_PER_AGENT)}"
        )

    def region(rng: random.Random) -> list[tuple[str, str]]:
        return _criteria(f"conversation.metadata.region=={rng.choice(('emea', 'amer'))}")

    def team_region(rng: random.Random) -> list[tuple[str, str]]:
        return _criteria(
            f"conversation.metadata.team==team-{rng.randrange(TEAMS)};"
            f"conversation.metadata.region=={rng.choice(('emea', 'amer'))}"
        )

    def team(rng: random.Random) -> list[tuple[str, str]]:
        return _criteria(f"conversation.metadata.team==team-{rng.randrange(TEAMS)}")

    return [
        ("one term: agentId (0.5 %)", one, {}),
        ("two terms: agentId and customerId (0.01 %)", two, {}),
        ("two terms: region (50 %) and customerId (0.01 %)", region_customer, {}),
        ("one term: region (50 %)", region, {}),
        (
            "two terms: team; region (12.5 %), desc, offset 100",
            team_region,
            {"descending": True, "offset": 100},
        ),
        ("one term: team (25 %), limit 1000", team, {"limit": 1000}),
    ]


def _run(
    query: Callable[..., list[Any]],
    storage: Storage,
    terms: Callable[[random.Random], list[tuple[str, str]]],
    now: datetime,
    **options: Any,
) -> Callable[[random.Random], list[Any]]:
    return lambda rng: query(storage, terms(rng), now=now, **options)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        storage = Storage(f"sqlite:///{tmp}/bench.db", Path(tmp) / "audio")
        storage.migrate()
        seconds = populate(storage, args.conversations, now)
        db_mb = (Path(tmp) / "bench.db").stat().st_size / 1e6
        print(
            f"{args.conversations:,} conversations written through the storage layer in "
            f"{seconds:.1f} s (SQLite, {db_mb:.0f} MB before WAL checkpoint); "
            f"{args.repeats} repeats per query\n"
        )

        print(
            "| group criteria (default window: last 7 days, limit 20) | rows | "
            "SQL p50 | SQL p99 | page p50 | page p99 | json_extract p50 | json_extract p99 |"
        )
        print(f"|{'-' * 56}|-----:|" + "--------:|" * 4 + "-----------------:|" * 2)
        for label, terms, options in cases():
            sql = measure(
                _run(group_page, storage, terms, now, page=False, **options), args.repeats
            )
            full = measure(_run(group_page, storage, terms, now, **options), args.repeats)
            scan = measure(_run(json_scan, storage, terms, now, **options), args.repeats)
            assert sql[2] == full[2] == scan[2], (label, sql, full, scan)  # the same answers
            print(
                f"| {label:<54} | {sql[2]:4.0f} | {sql[0]:7.2f} | {sql[1]:7.2f} | "
                f"{full[0]:8.2f} | {full[1]:8.2f} | {scan[0]:16.2f} | {scan[1]:16.2f} |"
            )
        storage.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
