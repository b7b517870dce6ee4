"""Stored trackers (the Management API) and the per-app write guard.

Tracker writes of one app run one at a time (Symbl answered 429 to a second concurrent
create or update). The guard is a short lease on the app's row, so it holds across every
API process sharing the database, and a process that dies mid-write frees it when the
lease runs out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from parley import ids
from parley.errors import BadRequest, Conflict, NotFound, TooManyJobs
from parley.storage.db import Storage
from parley.storage.models import App, Tracker, utcnow

__all__ = [
    "MAX_TRACKERS",
    "create_trackers",
    "get_tracker",
    "list_trackers",
    "one_writer",
    "update_tracker",
]

MAX_TRACKERS = 500
_LEASE = timedelta(seconds=30)


@contextmanager
def one_writer(storage: Storage, app_id: str) -> Iterator[None]:
    """Hold the app's tracker-write lease for the block, or raise TooManyJobs (429)."""
    now = utcnow()
    with storage.session() as session:
        taken = session.execute(
            update(App)
            .where(
                App.id == app_id,
                or_(App.tracker_lock_until.is_(None), App.tracker_lock_until < now),
            )
            .values(tracker_lock_until=now + _LEASE)
        ).rowcount  # type: ignore[attr-defined]
    if taken != 1:
        raise TooManyJobs("Only one tracker create or update request at a time is allowed.")
    try:
        yield
    finally:
        with storage.session() as session:
            session.execute(update(App).where(App.id == app_id).values(tracker_lock_until=None))


def list_trackers(*, session: Session, app_id: str, name: str | None = None) -> list[Tracker]:
    query = select(Tracker).where(Tracker.app_id == app_id).order_by(Tracker.created_at)
    if name is not None:
        query = query.where(Tracker.name == name)
    return list(session.scalars(query))


def get_tracker(*, session: Session, app_id: str, tracker_id: str) -> Tracker:
    """The app's tracker, or NotFound (also for another app's tracker)."""
    tracker = session.get(Tracker, tracker_id)
    if tracker is None or tracker.app_id != app_id:
        raise NotFound(f"Tracker with id {tracker_id} not found.")
    return tracker


def create_trackers(
    *, session: Session, app_id: str, items: Sequence[dict[str, Any]]
) -> list[Tracker]:
    """Create validated trackers; names are unique per app (409), at most MAX_TRACKERS."""
    count = session.scalar(select(func.count()).where(Tracker.app_id == app_id)) or 0
    if count + len(items) > MAX_TRACKERS:
        raise BadRequest(f"An account can have at most {MAX_TRACKERS} trackers.")
    names = [i["name"] for i in items]
    if len(set(names)) != len(names):
        raise Conflict("Tracker names in one request must be unique.")
    taken = set(
        session.scalars(
            select(Tracker.name).where(Tracker.app_id == app_id, Tracker.name.in_(names))
        )
    )
    if taken:
        raise Conflict(f'A tracker named "{sorted(taken)[0]}" already exists.')
    trackers = [Tracker(id=ids.numeric_id(), app_id=app_id, **item) for item in items]
    session.add_all(trackers)
    session.flush()
    return trackers


def update_tracker(*, session: Session, tracker: Tracker, item: dict[str, Any]) -> Tracker:
    """Replace a tracker's fields with validated ``item``; 409 if the new name is taken."""
    clash = session.scalar(
        select(Tracker.id).where(
            Tracker.app_id == tracker.app_id, Tracker.name == item["name"], Tracker.id != tracker.id
        )
    )
    if clash:
        raise Conflict(f'A tracker named "{item["name"]}" already exists.')
    for key, value in item.items():
        setattr(tracker, key, value)
    session.flush()
    return tracker
