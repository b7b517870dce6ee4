"""Webhook delivery from the database outbox against a real local HTTP endpoint."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from parley.jobs.webhook import SIGNATURE_HEADER, WebhookDispatcher, status_event
from parley.storage import Storage
from parley.storage.models import WebhookDelivery
from tests.helpers import free_port
from tests.receiver import receiver


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


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_retries_until_2xx_in_order_and_signed(storage: Storage) -> None:
    dispatcher = WebhookDispatcher(storage, secret="s3cret", max_attempts=5, backoff=0.05)
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
    dispatcher = WebhookDispatcher(storage, max_attempts=3, backoff=0.01)
    with receiver(fail_first=10) as hook:
        dispatcher.send(hook.url, status_event("j", "c", "completed"), key="j")
        assert dispatcher.join(10)
        assert hook.bodies() == []
        assert hook.fail_first == 7  # exactly three attempts were made
    dispatcher.close()
    [row] = rows(storage)
    assert (row.state, row.attempts, row.last_error) == ("failed", 3, "HTTP 500")


def test_unreachable_endpoint_does_not_block_other_jobs(storage: Storage) -> None:
    dispatcher = WebhookDispatcher(storage, max_attempts=3, backoff=0.5)
    with receiver() as hook:
        dispatcher.send("http://127.0.0.1:9/nothing", status_event("a", "c", "failed"), key="a")
        dispatcher.send(hook.url, status_event("b", "c", "completed"), key="b")
        assert eventually(lambda: bool(hook.bodies()), timeout=1.0)
        assert [b["jobId"] for b in hook.bodies()] == ["b"]
    dispatcher.close(timeout=0.1)


def test_pending_events_survive_a_restart(storage: Storage) -> None:
    """An endpoint that is down while one process stops gets its events from the next."""
    url = f"http://127.0.0.1:{free_port()}/hook"
    first = WebhookDispatcher(storage, max_attempts=10, backoff=0.05)
    first.send(url, status_event("job-9", "c9", "in_progress"), key="job-9")
    first.send(url, status_event("job-9", "c9", "completed"), key="job-9")
    assert eventually(lambda: rows(storage)[0].attempts >= 1)
    first.close(timeout=0.1)
    assert [r.state for r in rows(storage)] == ["pending", "pending"]

    with receiver(port=int(url.split(":")[2].split("/")[0])) as hook:
        second = WebhookDispatcher(storage, max_attempts=10, backoff=0.05, poll_interval=0.1)
        assert eventually(lambda: len(hook.bodies()) == 2)
        second.close()
    assert [b["status"] for b in hook.bodies()] == ["in_progress", "completed"]
    assert [r.state for r in rows(storage)] == ["delivered", "delivered"]


def test_two_dispatchers_on_one_database_deliver_each_event_once(storage: Storage) -> None:
    a = WebhookDispatcher(storage, poll_interval=0.05)
    b = WebhookDispatcher(storage, poll_interval=0.05)
    with receiver() as hook:
        for i in range(20):
            (a if i % 2 else b).send(hook.url, status_event(f"j{i}", "c", "completed"), key=f"j{i}")
        assert a.join(10) and b.join(10)
        a.close()
        b.close()
        assert sorted(x["jobId"] for x in hook.bodies()) == sorted(f"j{i}" for i in range(20))


def test_event_sent_in_a_transaction_exists_only_if_it_commits(storage: Storage) -> None:
    dispatcher = WebhookDispatcher(storage, poll_interval=30.0)  # only the commit can wake it
    with receiver() as hook:
        with pytest.raises(RuntimeError), storage.session() as session:
            dispatcher.send(hook.url, status_event("x", "c", "failed"), key="x", session=session)
            raise RuntimeError("the status change is rolled back")
        with storage.session() as session:
            dispatcher.send(hook.url, status_event("y", "c", "completed"), key="y", session=session)
        assert eventually(lambda: bool(hook.bodies()), timeout=5.0)
        assert dispatcher.join(5)
        assert [b["jobId"] for b in hook.bodies()] == ["y"]
    dispatcher.close()
    assert [r.job_id for r in rows(storage)] == ["y"]
