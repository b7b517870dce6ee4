"""Conversation groups at scale: p50/p99 of a group's conversations at 100,000 conversations.

Writes N conversations (default 100,000) of one app straight into a fresh SQLite database
through the storage layer (``import_conversations``: multi-row inserts, metadata rows and two
members each), spread evenly over the last 28 days, so the default 7-day window holds about a
quarter of them. Metadata per conversation:

* ``agentId``: one of 200 agents (0.5 % each),
* ``customerId``: one of 50 customers of that agent (about 0.01 % each),
* ``team``: one of 4 teams (25 %), ``region``: emea or amer (50 %).

Each query is what ``GET /v1/groups/{id}/conversations`` does below HTTP: the group's
criteria (and a ``filter``) matched in SQL, one page, its members in one query, the JSON
built. The values change each repetition. The last rows run the same one-term match on the
JSON column with ``json_extract`` and no metadata table, for comparison.

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
    criteria: str,
    *,
    now: datetime,
    filter: str | None = None,
    limit: int = 20,
    offset: int = 0,
    descending: bool = False,
) -> list[dict[str, Any]]:
    """What the group route does for one request, below HTTP."""
    terms = parse_metadata_terms(criteria, field="criteria")
    if filter:
        terms += parse_metadata_terms(filter)
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
        members = store.members_of_many(session=session, conversation_ids=[c.id for c in rows])
        return [conversation_json(c, members[c.id]) for c in rows]


def json_scan(storage: Storage, key: str, value: str, now: datetime) -> list[str]:
    """The same one-term page matched on the JSON column (no metadata rows), for comparison."""
    with storage.session() as session:
        return list(
            session.scalars(
                select(Conversation.id)
                .where(
                    Conversation.app_id == APP,
                    Conversation.start_time >= now - timedelta(days=7),
                    Conversation.start_time <= now,
                    func.json_extract(Conversation.meta, f"$.{key}") == value,
                )
                .order_by(Conversation.start_time, Conversation.id)
                .limit(20)
            )
        )


def measure(run: Callable[[random.Random], Any], repeats: int) -> tuple[float, float, float]:
    """(p50, p99, mean rows) in milliseconds over ``repeats`` runs, after 3 warm-ups."""
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

        def agent(rng: random.Random) -> int:
            return rng.randrange(AGENTS)

        def one_term(rng: random.Random) -> Any:
            return group_page(
                storage, f"conversation.metadata.agentId==agent-{agent(rng)}", now=now
            )

        def two_terms(rng: random.Random) -> Any:
            a = agent(rng)
            criteria = (
                f"conversation.metadata.agentId==agent-{a} and "
                f"conversation.metadata.customerId==cust-{a}-{rng.randrange(CUSTOMERS_PER_AGENT)}"
            )
            return group_page(storage, criteria, now=now)

        def broad_one(rng: random.Random) -> Any:
            region = rng.choice(("emea", "amer"))
            return group_page(storage, f"conversation.metadata.region=={region}", now=now)

        def broad_two(rng: random.Random) -> Any:
            criteria = (
                f"conversation.metadata.team==team-{rng.randrange(TEAMS)};"
                f"conversation.metadata.region=={rng.choice(('emea', 'amer'))}"
            )
            return group_page(storage, criteria, now=now, descending=True, offset=100)

        def with_filter(rng: random.Random) -> Any:
            region = rng.choice(("emea", "amer"))
            return group_page(
                storage,
                f"conversation.metadata.agentId==agent-{agent(rng)}",
                filter=f"conversation.metadata.region=={region}",
                now=now,
            )

        def big_page(rng: random.Random) -> Any:
            return group_page(
                storage,
                f"conversation.metadata.team==team-{rng.randrange(TEAMS)}",
                now=now,
                limit=1000,
            )

        def scan(rng: random.Random) -> Any:
            return json_scan(storage, "agentId", f"agent-{agent(rng)}", now)

        def scan_broad(rng: random.Random) -> Any:
            return json_scan(storage, "region", rng.choice(("emea", "amer")), now)

        cases = [
            ("one term: agentId (0.5 %)", one_term),
            ("two terms: agentId and customerId (0.01 %)", two_terms),
            ("one term: region (50 %)", broad_one),
            ("two terms: team; region (12.5 %), desc, offset 100", broad_two),
            ("one term + filter: agentId, filter region", with_filter),
            ("one term: team (25 %), limit 1000", big_page),
            ("for comparison, json_extract scan: agentId", scan),
            ("for comparison, json_extract scan: region", scan_broad),
        ]
        print(f"| {'query (default window: last 7 days, limit 20)':<52} | p50 ms | p99 ms | rows |")
        print(f"|{'-' * 54}|-------:|-------:|-----:|")
        for label, run in cases:
            p50, p99, rows = measure(run, args.repeats)
            print(f"| {label:<52} | {p50:6.2f} | {p99:6.2f} | {rows:4.0f} |")
        storage.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
