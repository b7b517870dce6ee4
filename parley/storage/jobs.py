"""Job rows: creation, claiming in per-conversation order, and terminal states."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from parley.jobs.status import ACTIVE, JobStatus
from parley.storage.models import Job, utcnow

__all__ = [
    "claim",
    "count_active",
    "create_job",
    "finish",
    "get_job",
    "heartbeat",
    "requeue_interrupted",
    "runnable",
    "set_progress",
]


def create_job(
    *,
    session: Session,
    job_id: str,
    app_id: str,
    conversation_id: str,
    kind: str,
    source: str,
    options: dict[str, Any],
    input_ref: str | None = None,
    input_data: dict[str, Any] | None = None,
) -> Job:
    last = session.scalar(select(func.max(Job.seq)).where(Job.conversation_id == conversation_id))
    job = Job(
        id=job_id,
        app_id=app_id,
        conversation_id=conversation_id,
        seq=(last or 0) + 1,
        kind=kind,
        source=source,
        options=options,
        input_ref=input_ref,
        input_data=input_data,
        status=JobStatus.SCHEDULED,
    )
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id)


def count_active(*, session: Session, app_id: str) -> int:
    return (
        session.scalar(select(func.count()).where(Job.app_id == app_id, Job.status.in_(ACTIVE)))
        or 0
    )


def _head_of_conversation() -> Any:
    """SQL condition: no earlier job of the same conversation is still unfinished."""
    earlier = aliased(Job)
    return ~(
        select(earlier.id)
        .where(
            earlier.conversation_id == Job.conversation_id,
            earlier.seq < Job.seq,
            earlier.status.in_(ACTIVE),
        )
        .exists()
    )


def runnable(*, session: Session, limit: int = 10) -> list[str]:
    """Scheduled jobs that may start now, oldest first."""
    rows = session.scalars(
        select(Job.id)
        .where(Job.status == JobStatus.SCHEDULED, _head_of_conversation())
        .order_by(Job.created_at, Job.seq)
        .limit(limit)
    )
    return list(rows)


def claim(*, session: Session, job_id: str, stale_before: datetime | None = None) -> bool:
    """Move a job to in_progress if it is scheduled and first in its conversation.

    With ``stale_before``, a job still marked in_progress whose heartbeat stopped
    before that time (its worker died) can be claimed again. A conditional
    UPDATE, so two workers racing for one job cannot both win.
    """
    claimable = Job.status == JobStatus.SCHEDULED
    if stale_before is not None:
        claimable = or_(
            claimable, and_(Job.status == JobStatus.IN_PROGRESS, Job.updated_at < stale_before)
        )
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, claimable, _head_of_conversation())
        .values(
            status=JobStatus.IN_PROGRESS,
            attempts=Job.attempts + 1,
            progress=0.0,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def heartbeat(*, session: Session, job_id: str) -> None:
    """Mark a running job as alive (see ``claim``'s ``stale_before``)."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.IN_PROGRESS)
        .values(updated_at=utcnow())
    )


def set_progress(*, session: Session, job_id: str, progress: float) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.IN_PROGRESS)
        .values(progress=round(progress, 1))
    )


def finish(*, session: Session, job_id: str, status: JobStatus, reason: str | None = None) -> None:
    values: dict[str, Any] = {"status": status, "reason": reason}
    if status == JobStatus.COMPLETED:
        values["progress"] = 100.0
    session.execute(update(Job).where(Job.id == job_id).values(**values))


def requeue_interrupted(*, session: Session) -> list[str]:
    """Jobs left in_progress by a process that died go back to scheduled."""
    ids = list(session.scalars(select(Job.id).where(Job.status == JobStatus.IN_PROGRESS)))
    if ids:
        session.execute(
            update(Job).where(Job.id.in_(ids)).values(status=JobStatus.SCHEDULED, progress=0.0)
        )
    return ids
