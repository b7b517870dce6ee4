"""Webhook outbox rows: queued events, claimed one at a time, delivered or given up.

Events of one job leave in order: a row is due only when no earlier row of its job is
still pending. A claim is a lease (``claimed_until``), so a delivery cut short by a crash
is retried by whichever process polls next.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased

from parley.storage.models import WebhookDelivery, utcnow

__all__ = ["PENDING", "claim", "due", "enqueue", "finish", "pending_among", "retry_later"]

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def enqueue(*, session: Session, job_id: str, url: str, body: str) -> int:
    row = WebhookDelivery(job_id=job_id, url=url, body=body, state=PENDING)
    session.add(row)
    session.flush()
    return row.id


def due(*, session: Session, now: datetime, limit: int = 50) -> list[WebhookDelivery]:
    """Pending rows whose time has come, unclaimed, and first of their job."""
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
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )


def claim(*, session: Session, delivery_id: int, now: datetime, until: datetime) -> bool:
    """Take the lease on a row; a conditional UPDATE, so two pollers cannot both win."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == PENDING,
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
        )
        .values(claimed_until=until, attempts=WebhookDelivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


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
