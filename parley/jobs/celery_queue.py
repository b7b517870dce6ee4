"""Scale-out: the job queue on Celery with Redis, workers in other processes or machines.

The API enqueues a job id; a ``parley worker`` process claims it in the
database and runs it with the same ``JobRunner`` as the in-process queue. The
database stays the source of truth:

* a job whose conversation has an earlier unfinished job is retried shortly,
  so jobs of one conversation still run in order;
* tasks are acknowledged late and rejected when a worker is lost, so Redis
  redelivers a crashed worker's job after the visibility timeout; its stale
  heartbeat lets the new worker claim it again, while a live job is left alone.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Celery

from parley.config import Settings
from parley.jobs.queue import JobQueue
from parley.jobs.status import JobStatus
from parley.storage import jobs as jobs_store
from parley.storage.models import utcnow

__all__ = ["CeleryQueue", "make_celery", "register_worker_tasks", "warm_up"]

log = logging.getLogger(__name__)

TASK = "parley.run_job"


def make_celery(settings: Settings) -> Celery:
    app = Celery("parley", broker=settings.broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.celery_queue_name,
        broker_transport_options={"visibility_timeout": settings.celery_visibility_timeout},
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
    )
    return app


class CeleryQueue(JobQueue):
    """The submission side: sends job ids to the workers."""

    def __init__(self, settings: Settings) -> None:
        self.app = make_celery(settings)

    def enqueue(self, job_id: str) -> None:
        self.app.send_task(TASK, args=[job_id])


# -- the worker side -----------------------------------------------------------------------

_runner: Any = None


def _worker_runner() -> Any:
    """One JobRunner (storage, models, webhooks) per worker process, built at first use."""
    global _runner
    if _runner is None:
        from parley.services import build_runner, build_storage, build_webhooks

        settings = Settings()
        storage = build_storage(settings)
        _runner = build_runner(settings, storage, build_webhooks(settings, storage))
    return _runner


def warm_up() -> None:
    """Load the models before the first job, not during it."""
    _worker_runner().models.whisper  # noqa: B018


def register_worker_tasks(app: Celery) -> None:
    @app.task(name=TASK, bind=True, max_retries=None)
    def run_job(self: Any, job_id: str) -> str:
        runner = _worker_runner()
        stale = utcnow() - timedelta(seconds=runner.settings.job_stale_seconds)
        with runner.storage.session() as session:
            claimed = jobs_store.claim(session=session, job_id=job_id, stale_before=stale)
            job = None if claimed else jobs_store.get_job(session=session, job_id=job_id)
        if not claimed:
            if job is not None and job.status == JobStatus.SCHEDULED:
                raise self.retry(countdown=1)  # an earlier job of its conversation runs
            return job.status if job is not None else "missing"
        return str(runner.run(job_id))
