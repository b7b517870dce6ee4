"""Submission: an accepted upload, URL or text becomes a conversation and a job.

The job row, the conversation row and the stored audio appear together: the
upload is moved under its key inside the transaction and removed again if the
transaction fails, so no job points at missing audio and no audio is orphaned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from parley import ids
from parley.errors import BadRequest, NotFound, TooManyJobs
from parley.jobs.queue import JobQueue
from parley.jobs.webhook import WebhookDispatcher, status_event
from parley.options.job import JobOptions
from parley.storage import Storage
from parley.storage import callscore as callscore_store
from parley.storage import conversations as store
from parley.storage import jobs as jobs_store
from parley.storage.audio import Staged
from parley.storage.models import JobStatus

__all__ = ["Submission", "Submitter"]


def _check_scorecard(session: Session, app_id: str, scorecard_id: str) -> None:
    """A call score names a scorecard of the app's (400 naming the option otherwise)."""
    try:
        callscore_store.get_scorecard(session=session, app_id=app_id, scorecard_id=scorecard_id)
    except NotFound:
        raise BadRequest(f'"scorecardId": scorecard {scorecard_id} does not exist') from None


@dataclass(frozen=True)
class Submission:
    conversation_id: str
    job_id: str


class Submitter:
    """Accepts work for an app, enforcing its concurrent-job limit."""

    def __init__(
        self,
        *,
        storage: Storage,
        queue: JobQueue,
        webhooks: WebhookDispatcher | None,
        max_concurrent_jobs: int,
    ) -> None:
        self.storage = storage
        self.queue = queue
        self.webhooks = webhooks
        self.max_concurrent_jobs = max_concurrent_jobs

    def _too_many(self) -> TooManyJobs:
        return TooManyJobs(
            f"This API has a limit of maximum of `{self.max_concurrent_jobs}` number of "
            "concurrent jobs per account. If you are looking to scale, and need more "
            "concurrent jobs than this limit, raise PARLEY_MAX_CONCURRENT_JOBS."
        )

    def check_capacity(self, app_id: str) -> None:
        """Fail fast, before an upload is received, when the app is at its limit."""
        with self.storage.session() as session:
            if jobs_store.count_active(session=session, app_id=app_id) >= self.max_concurrent_jobs:
                raise self._too_many()

    def check_conversation(self, app_id: str, conversation_id: str) -> None:
        """Fail fast on an append to an unknown conversation."""
        with self.storage.session() as session:
            store.get_conversation(session=session, conversation_id=conversation_id, app_id=app_id)

    def submit(
        self,
        *,
        app_id: str,
        kind: str,
        source: str,
        options: JobOptions,
        conversation_id: str | None = None,
        upload: Staged | None = None,
        url: str | None = None,
        text: dict[str, Any] | None = None,
        start_time: datetime | None = None,
    ) -> Submission:
        job_id = ids.uuid_id()
        key: str | None = None
        try:
            with self.storage.session() as session:
                if options.call_score and options.scorecard_id is not None:
                    _check_scorecard(session, app_id, options.scorecard_id)
                if conversation_id is None:
                    conversation = store.create_conversation(
                        session=session, app_id=app_id, name=options.name
                    )
                    if start_time is not None:
                        conversation.start_time = start_time
                    conversation.insight_options = options.to_json()
                else:
                    conversation = store.get_conversation(
                        session=session, conversation_id=conversation_id, app_id=app_id
                    )
                if jobs_store.count_active(session=session, app_id=app_id) >= (
                    self.max_concurrent_jobs
                ):
                    raise self._too_many()
                if upload is not None:
                    key = self.storage.audio.commit(upload, conversation.id, job_id)
                jobs_store.create_job(
                    session=session,
                    job_id=job_id,
                    app_id=app_id,
                    conversation_id=conversation.id,
                    kind=kind,
                    source=source,
                    options=options.to_json(),
                    input_ref=key or url,
                    input_data=text,
                )
                result = Submission(conversation_id=conversation.id, job_id=job_id)
                if options.webhook_url and self.webhooks is not None:
                    # in the job's own transaction: no job without its event, nor the reverse
                    self.webhooks.send(
                        options.webhook_url,
                        status_event(job_id, result.conversation_id, JobStatus.SCHEDULED),
                        key=job_id,
                        session=session,
                    )
        except BaseException:
            if key is not None:
                self.storage.audio.delete(key)
            elif upload is not None:
                upload.unlink(missing_ok=True)
            raise
        self.queue.enqueue(job_id)
        return result
