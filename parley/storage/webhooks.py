"""Webhook outbox rows: queued events, claimed one at a time, delivered or given up.

Events of one job leave in order: a row is due only when no earlier row of its job is
still pending. A claim is a lease (``claimed_until``), so a delivery cut short by a crash
is retried by whichever process polls next. The rows are also the delivery log an app
reads (``list_for_app``) and replays from (``replay``); a URL that answered 410 is kept in
``webhook_disabled_urls`` until a replay to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from parley.storage.models import DisabledWebhookUrl, Job, WebhookDelivery, utcnow

__all__ = [
    "PENDING",
    "claim",
    "disable_url",
    "due",
    "enqueue",
    "finish",
    "get_for_app",
    "is_disabled",
    "list_for_app",
    "pending_among",
    "replay",
    "retry_later",
]

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def enqueue(
    *, session: Session, job_id: str, url: str, body: str, event_id: str | None = None
) -> int:
    row = WebhookDelivery(job_id=job_id, url=url, body=body, state=PENDING, event_id=event_id)
    session.add(row)
    session.flush()
    return row.id


def due(
    *,
    session: Session,
    now: datetime,
    limit: int = 50,
    exclude_urls: Iterable[str] = (),
) -> list[WebhookDelivery]:
    """Pending rows whose time has come, unclaimed, and first of their job; none for the
    ``exclude_urls`` (destinations already busy), so they cannot crowd out the rest."""
    earlier = aliased(WebhookDelivery)
    first_of_job = ~(
        select(earlier.id)
        .where(
            earlier.job_id == WebhookDelivery.job_id,
            earlier.id < WebhookDelivery.id,
            earlier.state == PENDING,
        )
        .exists()
    )
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.state == PENDING,
                WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
                first_of_job,
                WebhookDelivery.url.not_in(list(exclude_urls)),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )


def claim(
    *, session: Session, delivery_id: int, attempts: int, now: datetime, until: datetime
) -> bool:
    """Take the lease on a row; a conditional UPDATE, so two pollers cannot both win.

    ``attempts`` is the count the caller read: if another process made an attempt since
    (claimed, posted and scheduled a retry), the row has moved on and this claim fails, so
    an attempt is never numbered twice nor made before its retry time."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == PENDING,
            WebhookDelivery.attempts == attempts,
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
        )
        .values(claimed_until=until, attempts=WebhookDelivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish(*, session: Session, delivery_id: int, delivered: bool, error: str | None) -> None:
    """Delivered, or given up after the last attempt (the error is kept for operators)."""
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(
            state=DELIVERED if delivered else FAILED,
            claimed_until=None,
            last_error=error,
            updated_at=utcnow(),
        )
    )


def retry_later(*, session: Session, delivery_id: int, at: datetime, error: str) -> None:
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(next_attempt_at=at, claimed_until=None, last_error=error, updated_at=utcnow())
    )


def pending_among(*, session: Session, ids: Iterable[int]) -> int:
    """How many of these rows are still pending."""
    ids = list(ids)
    if not ids:
        return 0
    return (
        session.scalar(
            select(func.count()).where(
                WebhookDelivery.id.in_(ids), WebhookDelivery.state == PENDING
            )
        )
        or 0
    )


def _url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def is_disabled(*, session: Session, url: str) -> bool:
    return session.get(DisabledWebhookUrl, _url_hash(url)) is not None


def disable_url(*, session: Session, url: str, reason: str) -> None:
    """Stop deliveries to a URL (it answered 410): its pending rows end failed too."""
    if not is_disabled(session=session, url=url):
        session.add(DisabledWebhookUrl(url_hash=_url_hash(url), url=url, reason=reason))
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.url == url, WebhookDelivery.state == PENDING)
        .values(
            state=FAILED,
            claimed_until=None,
            last_error=f"{reason}: deliveries to this URL are off.",
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


def list_for_app(
    *,
    session: Session,
    app_id: str,
    limit: int = 50,
    offset: int = 0,
    job_id: str | None = None,
    state: str | None = None,
) -> list[WebhookDelivery]:
    """An app's deliveries, newest first (the rows of its jobs)."""
    query = (
        select(WebhookDelivery)
        .join(Job, Job.id == WebhookDelivery.job_id)
        .where(Job.app_id == app_id)
    )
    if job_id is not None:
        query = query.where(WebhookDelivery.job_id == job_id)
    if state is not None:
        query = query.where(WebhookDelivery.state == state)
    query = query.order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


def get_for_app(*, session: Session, app_id: str, delivery_id: int) -> WebhookDelivery | None:
    """One delivery of the app's, or None (someone else's looks the same as none)."""
    return session.scalar(
        select(WebhookDelivery)
        .join(Job, Job.id == WebhookDelivery.job_id)
        .where(WebhookDelivery.id == delivery_id, Job.app_id == app_id)
    )


def replay(*, session: Session, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue the same event again (same body and ``webhook-id``, so a receiver that has it
    can tell), and turn deliveries to its URL back on."""
    session.execute(
        delete(DisabledWebhookUrl).where(DisabledWebhookUrl.url_hash == _url_hash(delivery.url))
    )
    row = WebhookDelivery(
        job_id=delivery.job_id,
        url=delivery.url,
        body=delivery.body,
        state=PENDING,
        event_id=delivery.event_id,
    )
    session.add(row)
    session.flush()
    return row
