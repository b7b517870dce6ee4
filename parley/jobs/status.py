"""The job lifecycle: scheduled → in_progress → completed | failed."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ACTIVE", "JobStatus"]


class JobStatus(StrEnum):
    """Exactly Symbl's four values: the Python SDK turns them into an Enum and breaks
    on anything else."""

    #: Accepted and waiting for a worker (or for an earlier job of its conversation).
    SCHEDULED = "scheduled"
    #: A worker is running it.
    IN_PROGRESS = "in_progress"
    #: Results are stored and readable.
    COMPLETED = "completed"
    #: Ended without results; ``reason`` says why.
    FAILED = "failed"


#: Statuses that count against an app's concurrency limit.
ACTIVE = (JobStatus.SCHEDULED, JobStatus.IN_PROGRESS)
