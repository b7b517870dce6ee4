"""Job rows: creation, claiming in per-conversation order, leases and terminal states.

A running job belongs to one worker (``worker_id``). Only that worker's writes land:
progress, heartbeat and the final status are conditional on it, so a job that was taken
over cannot be finished, or its transcript stored, by the worker that lost it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session, aliased

from parley.storage.models import ACTIVE, Job, JobStatus, utcnow

__all__ = [
    "Reaped",
    "active_in_conversation",
    "claim",
    "claim_next",
    "count_active",
    "create_job",
    "finish",
    "get_job",
    "heartbeat",
    "latest_in_conversation",
    "list_jobs",
    "reap",
    "release",
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


def list_jobs(*, session: Session, app_id: str, limit: int) -> list[Job]:
    """The app's most recent jobs, newest first."""
    query = select(Job).where(Job.app_id == app_id).order_by(Job.created_at.desc(), Job.id)
    return list(session.scalars(query.limit(limit)))


def count_active(*, session: Session, app_id: str) -> int:
    return (
        session.scalar(select(func.count()).where(Job.app_id == app_id, Job.status.in_(ACTIVE)))
        or 0
    )


def latest_in_conversation(*, session: Session, conversation_id: str) -> Job | None:
    """The conversation's last submitted job (highest ``seq``), if it has one."""
    query = select(Job).where(Job.conversation_id == conversation_id).order_by(Job.seq.desc())
    return session.scalars(query.limit(1)).first()


def active_in_conversation(*, session: Session, conversation_id: str) -> bool:
    """Whether a job of the conversation is scheduled or running (its data may change)."""
    query = select(Job.id).where(Job.conversation_id == conversation_id, Job.status.in_(ACTIVE))
    return session.scalar(query.limit(1)) is not None


def _head_of_conversation() -> ColumnElement[bool]:
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


def claim(*, session: Session, job_id: str, worker_id: str) -> bool:
    """Move a scheduled job that is first in its conversation to in_progress for ``worker_id``.

    A conditional UPDATE, so two workers racing for one job cannot both win.
    """
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.SCHEDULED, _head_of_conversation())
        .values(
            status=JobStatus.IN_PROGRESS,
            attempts=Job.attempts + 1,
            worker_id=worker_id,
            progress=0.0,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def claim_next(*, session: Session, worker_id: str) -> str | None:
    """Claim the oldest runnable job, or None."""
    for job_id in runnable(session=session, limit=5):
        if claim(session=session, job_id=job_id, worker_id=worker_id):
            return job_id
    return None


def _held(job_id: str, worker_id: str | None) -> ColumnElement[bool]:
    condition = (Job.id == job_id) & (Job.status == JobStatus.IN_PROGRESS)
    if worker_id is not None:
        condition = condition & (Job.worker_id == worker_id)
    return condition


def heartbeat(*, session: Session, job_id: str, worker_id: str | None = None) -> bool:
    """Mark a running job as alive; False when the job is no longer this worker's."""
    result = session.execute(
        update(Job).where(_held(job_id, worker_id)).values(updated_at=utcnow())
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def heartbeat_workers(*, session: Session, worker_ids: list[str]) -> int:
    """Mark alive every running job held by these workers (the supervisor, for its live
    children); returns how many rows it touched."""
    if not worker_ids:
        return 0
    result = session.execute(
        update(Job)
        .where(Job.status == JobStatus.IN_PROGRESS, Job.worker_id.in_(worker_ids))
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def set_progress(
    *, session: Session, job_id: str, progress: float, worker_id: str | None = None
) -> None:
    session.execute(
        update(Job)
        .where(_held(job_id, worker_id))
        .values(progress=round(progress, 1), updated_at=utcnow())
    )


def finish(
    *,
    session: Session,
    job_id: str,
    status: JobStatus,
    reason: str | None = None,
    worker_id: str | None = None,
    warnings: list[Any] | None = None,
) -> bool:
    """End a running job; with ``worker_id``, only if that worker still holds it.

    Returns False when the job was not in progress (or not this worker's): the caller
    must then roll back whatever it meant to store with the final status.
    """
    values: dict[str, Any] = {"status": status, "reason": reason, "updated_at": utcnow()}
    if status == JobStatus.COMPLETED:
        values["progress"] = 100.0
    if warnings:
        values["warnings"] = warnings
    result = session.execute(update(Job).where(_held(job_id, worker_id)).values(**values))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Reaped:
    """A running job whose worker is gone: ``failed`` if it used up its attempts."""

    job: Job
    failed: bool


def reap(
    *,
    session: Session,
    stale_before: datetime,
    is_dead: Callable[[str | None], bool],
    max_attempts: int,
    reason: str,
) -> list[Reaped]:
    """Take back jobs whose worker died: a known-dead owner, or a heartbeat older than
    ``stale_before``. They go back to scheduled, or end failed after ``max_attempts``.

    Each change is conditional on the row being as it was read, so a worker that is merely
    slow and heartbeats meanwhile keeps its job.
    """
    running = session.scalars(select(Job).where(Job.status == JobStatus.IN_PROGRESS)).all()
    reaped = []
    for job in running:
        if is_dead(job.worker_id):
            # the owner is gone for sure: nobody can heartbeat this row any more
            still = Job.worker_id == job.worker_id if job.worker_id else Job.worker_id.is_(None)
        elif job.updated_at < stale_before:
            still = Job.updated_at < stale_before  # unless a heartbeat came meanwhile
        else:
            continue
        failed = job.attempts >= max_attempts
        values: dict[str, Any] = (
            {"status": JobStatus.FAILED, "reason": reason}
            if failed
            else {"status": JobStatus.SCHEDULED, "progress": 0.0}
        )
        result = session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == JobStatus.IN_PROGRESS, still)
            .values(worker_id=None, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            reaped.append(Reaped(job=job, failed=failed))
    return reaped


def release(*, session: Session, worker_ids: list[str]) -> int:
    """Give back the running jobs of workers stopped at shutdown, without counting the
    attempt: being stopped is not the job's fault."""
    result = session.execute(
        update(Job)
        .where(Job.status == JobStatus.IN_PROGRESS, Job.worker_id.in_(worker_ids))
        .values(
            status=JobStatus.SCHEDULED,
            worker_id=None,
            progress=0.0,
            attempts=Job.attempts - 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
