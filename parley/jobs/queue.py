"""The job queue behind a small interface.

``JobQueue.enqueue(job_id)`` is all the submission side needs. The database is
the source of truth for job state; a queue only wakes workers. That keeps the
in-process default durable: after a restart, jobs left ``in_progress`` go back
to ``scheduled`` and everything scheduled runs, in per-conversation order.
``parley.jobs.celery_queue`` implements the same interface for scale-out.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable

from parley.jobs.status import JobStatus
from parley.storage import Storage
from parley.storage import jobs as jobs_store

__all__ = ["JobQueue", "LocalQueue"]

log = logging.getLogger(__name__)


class JobQueue(ABC):
    """Where submitted jobs go."""

    @abstractmethod
    def enqueue(self, job_id: str) -> None:
        """Make a scheduled job known to the workers."""

    def start(self) -> None:  # noqa: B027 - optional hook
        """Begin consuming (no-op for queues whose workers run elsewhere)."""

    def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop consuming; a running job finishes first."""


class LocalQueue(JobQueue):
    """Worker threads in this process, fed from the jobs table.

    ``run`` is called with a job already claimed (in_progress); the default
    is ``JobRunner.run``.
    """

    def __init__(
        self,
        *,
        storage: Storage,
        run: Callable[[str], JobStatus],
        workers: int = 1,
        poll_seconds: float = 2.0,
    ) -> None:
        self._storage = storage
        self._run = run
        self._workers = workers
        self._poll = poll_seconds
        self._wake = threading.Condition()
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._busy = 0

    def enqueue(self, job_id: str) -> None:
        with self._wake:
            self._wake.notify_all()

    def start(self) -> None:
        with self._storage.session() as session:
            interrupted = jobs_store.requeue_interrupted(session=session)
        if interrupted:
            log.warning("re-running %d job(s) interrupted by a restart", len(interrupted))
        self._stopping = False
        for n in range(self._workers):
            thread = threading.Thread(target=self._loop, name=f"parley-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _claim_next(self) -> str | None:
        with self._storage.session() as session:
            for job_id in jobs_store.runnable(session=session, limit=5):
                if jobs_store.claim(session=session, job_id=job_id):
                    return job_id
        return None

    def _loop(self) -> None:
        while not self._stopping:
            try:
                job_id = self._claim_next()
            except Exception:
                log.exception("could not read the job queue; retrying")
                job_id = None
            if job_id is None:
                with self._wake:
                    if not self._stopping:
                        self._wake.wait(self._poll)
                continue
            self._run(job_id)
            with self._wake:  # a finished job may unblock the next of its conversation
                self._wake.notify_all()
