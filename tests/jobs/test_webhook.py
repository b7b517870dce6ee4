"""Webhook delivery from the database outbox against a real local HTTP endpoint."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from parley.jobs.webhook import SIGNATURE_HEADER, WebhookDispatcher, status_event
from parley.outbound import OutboundGuard
from parley.storage import Storage
from parley.storage.models import WebhookDelivery
from tests.helpers import free_port
from tests.receiver import receiver
from tests.waiting import until

#: The receivers here listen on loopback, which the guard refuses unless allowed.
LOOPBACK = OutboundGuard(["127.0.0.0/8"])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """The outbox on the embedded default and, in the services suite, on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'parley.db'}"
    else:
        url = request.getfixturevalue("pg_database")
    store = Storage(url, tmp_path / "audio")
    store.migrate()
    yield store
    store.dispose()


def rows(storage: Storage) -> list[WebhookDelivery]:
    with storage.session() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _tried(storage: Storage) -> set[str]:
    """The URLs with a delivery claimed (in flight) or already tried."""
    return {r.url for r in rows(storage) if r.claimed_until is not None or r.attempts}


def _failed(storage: Storage) -> set[str]:
    """The URLs with a failed attempt on record (the dispatcher marks them suspect first)."""
    return {r.url for r in rows(storage) if r.last_error is not None}


def test_retries_until_2xx_in_order_and_signed(storage: Storage) -> None:
    dispatcher = WebhookDispatcher(
        storage, guard=LOOPBACK, secret="s3cret", max_attempts=5, backoff=0.05
    )
    with receiver(fail_first=2) as hook:
        for status in ("scheduled", "in_progress", "completed"):
            dispatcher.send(hook.url, status_event("job-1", "123", status), key="job-1")
        assert dispatcher.join(10)
        bodies = hook.bodies()
        assert [b["status"] for b in bodies] == ["scheduled", "in_progress", "completed"]
        assert all(
            b["jobId"] == b["id"] == "job-1" and b["conversationId"] == "123" for b in bodies
        )
        headers, _ = hook.calls[0]
        expected = hmac.new(b"s3cret", headers["_raw"].encode(), hashlib.sha256).hexdigest()
        assert headers[SIGNATURE_HEADER.lower()] == f"sha256={expected}"
    dispatcher.close()
    assert [(r.state, r.attempts) for r in rows(storage)] == [
        ("delivered", 3),
        ("delivered", 1),
        ("delivered", 1),
    ]


def test_gives_up_after_max_attempts_and_keeps_the_reason(storage: Storage) -> None:
    dispatcher = WebhookDispatcher(storage, guard=LOOPBACK, max_attempts=3, backoff=0.01)
    with receiver(fail_first=10) as hook:
        dispatcher.send(hook.url, status_event("j", "c", "completed"), key="j")
        assert dispatcher.join(10)
        assert hook.bodies() == []
        assert hook.fail_first == 7  # exactly three attempts were made
    dispatcher.close()
    [row] = rows(storage)
    assert (row.state, row.attempts, row.last_error) == ("failed", 3, "HTTP 500")


def test_unreachable_endpoint_does_not_block_other_jobs(storage: Storage) -> None:
    # "a" blocking "b" would hold it for a's retries, 2 + 4 s: far past the bound below
    dispatcher = WebhookDispatcher(storage, guard=LOOPBACK, max_attempts=3, backoff=2.0)
    with receiver() as hook:
        started = time.monotonic()
        dispatcher.send("http://127.0.0.1:9/nothing", status_event("a", "c", "failed"), key="a")
        dispatcher.send(hook.url, status_event("b", "c", "completed"), key="b")
        assert [b["jobId"] for b in hook.wait_for(1, timeout=30)] == ["b"]
        assert time.monotonic() - started < 3.0
    dispatcher.close(timeout=0.1)


def test_pending_events_survive_a_restart(storage: Storage) -> None:
    """An endpoint that is down while one process stops gets its events from the next."""
    url = f"http://127.0.0.1:{free_port()}/hook"
    first = WebhookDispatcher(storage, guard=LOOPBACK, max_attempts=10, backoff=0.05)
    first.send(url, status_event("job-9", "c9", "in_progress"), key="job-9")
    first.send(url, status_event("job-9", "c9", "completed"), key="job-9")
    until(lambda: rows(storage)[0].attempts >= 1, timeout=30, what="a first attempt")
    first.close(timeout=0.1)
    assert [r.state for r in rows(storage)] == ["pending", "pending"]

    with receiver(port=int(url.split(":")[2].split("/")[0])) as hook:
        second = WebhookDispatcher(
            storage, guard=LOOPBACK, max_attempts=10, backoff=0.05, poll_interval=0.1
        )
        hook.wait_for(2)
        second.close()
    assert [b["status"] for b in hook.bodies()] == ["in_progress", "completed"]
    assert [r.state for r in rows(storage)] == ["delivered", "delivered"]


def test_two_dispatchers_on_one_database_deliver_each_event_once(storage: Storage) -> None:
    a = WebhookDispatcher(storage, guard=LOOPBACK, poll_interval=0.05)
    b = WebhookDispatcher(storage, guard=LOOPBACK, poll_interval=0.05)
    with receiver() as hook:
        for i in range(20):
            (a if i % 2 else b).send(hook.url, status_event(f"j{i}", "c", "completed"), key=f"j{i}")
        assert a.join(10) and b.join(10)
        a.close()
        b.close()
        assert sorted(x["jobId"] for x in hook.bodies()) == sorted(f"j{i}" for i in range(20))


def test_event_sent_in_a_transaction_exists_only_if_it_commits(storage: Storage) -> None:
    dispatcher = WebhookDispatcher(
        storage, guard=LOOPBACK, poll_interval=30.0
    )  # only the commit can wake it
    with receiver() as hook:
        with pytest.raises(RuntimeError), storage.session() as session:
            dispatcher.send(hook.url, status_event("x", "c", "failed"), key="x", session=session)
            raise RuntimeError("the status change is rolled back")
        with storage.session() as session:
            dispatcher.send(hook.url, status_event("y", "c", "completed"), key="y", session=session)
        hook.wait_for(1)
        assert dispatcher.join(5)
        assert [b["jobId"] for b in hook.bodies()] == ["y"]
    dispatcher.close()
    assert [r.job_id for r in rows(storage)] == ["y"]


# -- Standard Webhooks, 410, isolation ------------------------------------------------


def test_standard_webhooks_signature_verifies_with_the_reference_library(
    storage: Storage,
) -> None:
    """Two secrets during a rotation: a receiver holding either one verifies the event."""
    import base64

    from standardwebhooks.webhooks import Webhook

    old = "whsec_" + base64.b64encode(b"o" * 32).decode()
    new = "whsec_" + base64.b64encode(b"n" * 32).decode()
    dispatcher = WebhookDispatcher(
        storage, guard=LOOPBACK, secret="legacy", signing_secrets=[new, old]
    )
    with receiver() as hook:
        dispatcher.send(hook.url, status_event("job-s", "c", "completed"), key="job-s")
        assert dispatcher.join(10)
        headers, body = hook.calls[0]
    dispatcher.close()
    raw = headers["_raw"]
    assert headers["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        assert Webhook(secret).verify(raw, headers) == body
    wrong = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(Exception, match="signature"):
        Webhook(wrong).verify(raw, headers)
    legacy = hmac.new(b"legacy", raw.encode(), hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER.lower()] == f"sha256={legacy}"


def test_event_id_is_stable_per_status_change(storage: Storage) -> None:
    """The same status of the same job (a retry, or a re-run after a crash) keeps its id;
    another status gets another."""
    dispatcher = WebhookDispatcher(storage, guard=LOOPBACK, max_attempts=3, backoff=0.05)
    with receiver(fail_first=1) as hook:
        for status in ("in_progress", "in_progress", "completed"):
            dispatcher.send(hook.url, status_event("job-e", "c", status), key="job-e")
        assert dispatcher.join(10)
        ids = [headers["webhook-id"] for headers, _ in hook.calls]
    dispatcher.close()
    assert len(ids) == 3 and ids[0] == ids[1] != ids[2]
    assert all(i.startswith("msg_") for i in ids)


def test_410_stops_deliveries_to_that_url(storage: Storage) -> None:
    from tests.receiver import receiver as make

    dispatcher = WebhookDispatcher(storage, guard=LOOPBACK, max_attempts=5, backoff=0.05)
    with make(status=410) as gone:
        dispatcher.send(gone.url, status_event("g1", "c", "scheduled"), key="g1")
        assert dispatcher.join(10)
        dispatcher.send(gone.url, status_event("g2", "c", "scheduled"), key="g2")
        assert dispatcher.join(10)
        assert gone.posts == 1  # the second event was never posted
    dispatcher.close()
    states = [(r.job_id, r.state, r.attempts) for r in rows(storage)]
    assert states == [("g1", "failed", 1), ("g2", "failed", 1)]
    assert all("410" in (r.last_error or "") for r in rows(storage))


def test_refused_url_fails_at_once_without_retries(storage: Storage) -> None:
    dispatcher = WebhookDispatcher(storage, max_attempts=5, backoff=0.05)  # strict guard
    with receiver() as hook:
        dispatcher.send(hook.url, status_event("r", "c", "failed"), key="r")
        assert dispatcher.join(10)
        assert hook.bodies() == []
    dispatcher.close()
    [row] = rows(storage)
    assert (row.state, row.attempts) == ("failed", 1)
    assert "only public addresses" in (row.last_error or "")
    assert "127.0.0.1" not in (row.last_error or "")


def test_retry_after_is_honoured(storage: Storage) -> None:
    from tests.receiver import receiver as make

    dispatcher = WebhookDispatcher(storage, guard=LOOPBACK, retry_schedule=[0.01])
    with make(fail_first=1, status=429, retry_after="1") as hook:
        started = time.monotonic()
        dispatcher.send(hook.url, status_event("ra", "c", "completed"), key="ra")
        assert dispatcher.join(10)
        took = time.monotonic() - started
        assert len(hook.bodies()) == 1
    dispatcher.close()
    assert took >= 0.9  # waited the second the receiver asked for, not 10 ms


def test_default_schedule_spans_hours() -> None:
    from parley.jobs.webhook import DEFAULT_SCHEDULE

    assert sum(DEFAULT_SCHEDULE) > 6 * 3600 and DEFAULT_SCHEDULE[0] <= 10


def test_dead_receivers_do_not_delay_a_healthy_one(storage: Storage) -> None:
    """16 receivers that accept and never answer (the issue's case), then one that does:
    the healthy one gets its event at once, not after the dead ones' timeouts; and once the
    dead ones have failed, they share half the pool, so retries cannot fill it either."""
    import socket

    dead = []
    for _ in range(16):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        dead.append(s)
    dead_timeout = 3.0  # the bounds below are well inside it, even on a loaded machine
    dispatcher = WebhookDispatcher(
        storage,
        guard=LOOPBACK,
        timeout=dead_timeout,
        threads=24,
        per_destination=1,
        poll_interval=0.1,
        retry_schedule=[0.0] * 5,
    )
    try:
        with receiver() as hook:
            for i, s in enumerate(dead):
                for n in range(3):
                    url = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
                    dispatcher.send(
                        url, status_event(f"d{i}-{n}", "c", "scheduled"), key=f"d{i}-{n}"
                    )
            # the dead ones have claimed what they can: one in flight each
            until(lambda: len(_tried(storage)) == 16, timeout=30, what="16 dead ones claimed")
            started = time.monotonic()
            dispatcher.send(hook.url, status_event("healthy", "c", "completed"), key="healthy")
            hook.wait_for(1, timeout=10)
            assert time.monotonic() - started < dead_timeout / 2  # inside one dead timeout
            # every dead receiver has failed once: now they are suspect
            until(lambda: len(_failed(storage)) == 16, timeout=30, what="16 dead ones failed")
            started = time.monotonic()
            dispatcher.send(hook.url, status_event("healthy2", "c", "completed"), key="healthy2")
            hook.wait_for(2, timeout=10)
            assert time.monotonic() - started < dead_timeout / 2
    finally:
        for s in dead:  # first: their connections reset, so no delivery holds the close
            s.close()
        dispatcher.close(timeout=0.1)


@pytest.mark.parametrize("retry_after", ["\u00b2", "\u00b3\u00b9", "soon"])
def test_an_unreadable_retry_after_is_ignored_and_later_events_follow(
    storage: Storage, retry_after: str
) -> None:
    """A 503 with ``Retry-After: ²`` (``isdigit`` but not a number) once crashed the
    delivery in a loop and held back the job's later events; it counts as absent."""
    from tests.receiver import receiver as make

    dispatcher = WebhookDispatcher(storage, guard=LOOPBACK, retry_schedule=[0.01, 0.01])
    with make(fail_first=1, status=503, retry_after=retry_after) as hook:
        for status in ("in_progress", "completed"):
            dispatcher.send(hook.url, status_event("odd", "c", status), key="odd")
        assert dispatcher.join(10)
        assert [b["status"] for b in hook.bodies()] == ["in_progress", "completed"]
    dispatcher.close()
    assert [(r.state, r.attempts) for r in rows(storage)] == [("delivered", 2), ("delivered", 1)]


def test_a_claim_on_a_stale_read_fails_once_another_process_has_made_the_attempt(
    storage: Storage,
) -> None:
    """Two dispatchers read the same due row; one claims, posts and schedules a retry
    before the other claims. The second claim must fail: its read says attempt 1 when
    the row is on attempt 2 and not due yet (this let a delivery run past max_attempts)."""
    from datetime import timedelta

    from parley.storage import webhooks as outbox
    from parley.storage.models import utcnow

    with storage.session() as session:
        delivery = outbox.enqueue(session=session, job_id="j", url="http://x/", body="{}")
    now = utcnow()
    with storage.session() as session:
        (stale,) = outbox.due(session=session, now=now)
        read_attempts = stale.attempts
    with storage.session() as session:  # the other process: claim, fail, retry later
        assert outbox.claim(
            session=session,
            delivery_id=delivery,
            attempts=read_attempts,
            now=now,
            until=now + timedelta(minutes=1),
        )
        outbox.retry_later(
            session=session, delivery_id=delivery, at=now + timedelta(hours=1), error="503"
        )
    with storage.session() as session:
        assert not outbox.claim(
            session=session,
            delivery_id=delivery,
            attempts=read_attempts,
            now=now,
            until=now + timedelta(minutes=1),
        )
    (row,) = rows(storage)
    assert row.attempts == 1
