"""Scale-out: the job queue on Celery (Redis or RabbitMQ), workers in other processes.

The API enqueues a job id; a ``parley worker`` process claims it in the database and runs
it with the same ``JobRunner`` as the embedded queue. The database stays the source of
truth:

* a job whose conversation has an earlier unfinished job is retried shortly, so jobs of
  one conversation still run in order;
* tasks are acknowledged late and rejected when a worker is lost, so the broker redelivers
  a crashed worker's job; the job itself is taken back only once its worker's heartbeat is
  stale (``Reaper``), and fails after ``job_max_attempts`` crashes.

This module is the submission adapter plus ``register_worker_tasks(app, runner)``; the
runner is built by ``parley.services`` from the settings the worker was started with.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery

from parley.config import Settings
from parley.jobs.queue import JobQueue, Reaper
from parley.jobs.webhook import WebhookDispatcher
from parley.jobs.worker import JobRunner
from parley.storage import Storage
from parley.storage import jobs as jobs_store
from parley.storage.models import JobStatus

__all__ = ["TASK", "CeleryQueue", "make_celery", "register_worker_tasks"]

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
    """The submission side: sends job ids to the workers, and takes back dead workers' jobs."""

    def __init__(
        self, settings: Settings, *, storage: Storage, webhooks: WebhookDispatcher | None
    ) -> None:
        self.app = make_celery(settings)
        self._settings = settings
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self.reaper = Reaper(
            settings=settings, storage=storage, webhooks=webhooks, on_requeue=self.enqueue
        )

    def enqueue(self, job_id: str) -> None:
        self.app.send_task(TASK, args=[job_id])

    def start(self) -> None:
        self._halt.clear()
        self._thread = threading.Thread(target=self._reap, name="parley-reaper", daemon=True)
        self._thread.start()

    def _reap(self) -> None:
        while not self._halt.wait(self._settings.queue_reap_seconds):
            try:
                self.reaper.sweep()
            except Exception:
                log.warning("could not check for dead workers' jobs", exc_info=True)

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None


def register_worker_tasks(app: Celery, runner: JobRunner) -> None:
    """The worker side: one task that claims a job for ``runner`` and runs it."""
    reaper = Reaper(
        settings=runner.settings,
        storage=runner.storage,
        webhooks=runner.webhooks,
        on_requeue=lambda job_id: None,  # this very task claims it next
    )
    worker_id = runner.worker_id

    @app.task(name=TASK, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
    def run_job(self: Any, job_id: str) -> str:
        with runner.storage.session() as session:
            job = jobs_store.get_job(session=session, job_id=job_id)
        if job is not None and job.status == JobStatus.IN_PROGRESS:
            reaper.sweep()  # redelivered after a crash: take it back if its worker is gone
        with runner.storage.session() as session:
            claimed = jobs_store.claim(session=session, job_id=job_id, worker_id=worker_id)
            job = None if claimed else jobs_store.get_job(session=session, job_id=job_id)
        if not claimed:
            if job is not None and job.status == JobStatus.SCHEDULED:
                raise self.retry(countdown=1)  # an earlier job of its conversation runs
            if job is not None and job.status == JobStatus.IN_PROGRESS:
                # alive elsewhere, or not yet stale: look again later, keeping the message
                raise self.retry(countdown=max(runner.settings.job_stale_seconds / 4, 1))
            return str(job.status) if job is not None else "missing"
        return str(runner.run(job_id))
