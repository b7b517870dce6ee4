"""The job queue behind a small interface, and the reaper that takes back dead workers' jobs.

``JobQueue.enqueue(job_id)`` is all the submission side needs. The database is the source
of truth for job state; a queue only wakes workers. ``LocalQueue`` is the embedded default:
jobs run in worker *child processes* of the server, so a native crash in a decoder or a
model, or running out of memory, costs one job and never the API server. A child that dies
is replaced; its job goes back to ``scheduled`` and, after ``job_max_attempts`` crashes,
ends ``failed``. ``parley.jobs.celery_queue`` implements the same interface for scale-out.

A running job is taken over only when its worker is known dead (same host, pid gone) or its
heartbeat is older than ``job_stale_seconds``: never because another process started.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from parley.config import Settings
from parley.jobs import owners
from parley.jobs.webhook import WebhookDispatcher
from parley.jobs.worker import JobRunner, notify
from parley.storage import Storage
from parley.storage import jobs as jobs_store
from parley.storage.models import JobStatus, utcnow

__all__ = ["CRASH_REASON", "JobQueue", "LocalQueue", "Reaper", "RunnerFactory"]

log = logging.getLogger(__name__)

CRASH_REASON = (
    "Processing stopped the worker {attempts} times (the process crashed: it may have run "
    "out of memory, or the media made a decoder fail), so Parley gave up on this job. "
    "Check that the file plays, or split it into shorter parts."
)

#: Builds a worker's JobRunner inside the worker process: ``(settings, worker_id)``.
#: A module-level function (``parley.services.build_worker_runner``), so it can be handed
#: to a child process.
RunnerFactory = Callable[[Settings, str], JobRunner]


class JobQueue(ABC):
    """Where submitted jobs go."""

    @abstractmethod
    def enqueue(self, job_id: str) -> None:
        """Make a scheduled job known to the workers."""

    def start(self) -> None:  # noqa: B027 - optional hook
        """Begin consuming (no-op for queues whose workers run elsewhere)."""

    def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop consuming; a running job finishes first."""

    def status(self) -> dict[str, Any]:
        """What readiness reports: ``{"ready": bool, ...}``."""
        return {"ready": True}


class Reaper:
    """Takes back the jobs of dead workers: rescheduled, or failed after too many tries."""

    def __init__(
        self,
        *,
        settings: Settings,
        storage: Storage,
        webhooks: WebhookDispatcher | None,
        on_requeue: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.webhooks = webhooks
        self.on_requeue = on_requeue

    def sweep(self) -> list[jobs_store.Reaped]:
        stale_before = utcnow() - timedelta(seconds=self.settings.job_stale_seconds)
        max_attempts = self.settings.job_max_attempts
        with self.storage.session() as session:
            reaped = jobs_store.reap(
                session=session,
                stale_before=stale_before,
                is_dead=owners.is_dead,
                max_attempts=max_attempts,
                reason=CRASH_REASON.format(attempts=max_attempts),
            )
            for item in reaped:
                if item.failed and self.webhooks is not None:
                    notify(self.webhooks, item.job, JobStatus.FAILED, session=session)
        for item in reaped:
            if item.failed:
                log.error("job %s failed: its worker died %d times", item.job.id, max_attempts)
            else:
                log.warning(
                    "job %s taken back from dead worker %s (attempt %d of %d)",
                    item.job.id,
                    item.job.worker_id,
                    item.job.attempts,
                    max_attempts,
                )
                self.on_requeue(item.job.id)
        return reaped


# -- the embedded default: worker child processes -------------------------------------------


def _watch_parent(parent: multiprocessing.process.BaseProcess | None) -> None:
    """Exit at once if the server dies, so no orphan keeps running a job."""
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _child_main(
    factory: RunnerFactory,
    settings: Settings,
    worker_id: str,
    wake: Any,
    stop: Any,
    ready: Any,
) -> None:
    """A worker child: load the models once, then claim and run jobs until told to stop."""
    from parley import logs  # the parent's format and redaction (issue 11)

    logs.setup(settings.log_format, settings.log_level)
    _watch_parent(multiprocessing.parent_process())
    runner = factory(settings, worker_id)
    runner.warm()
    ready.set()
    log.info("worker %s ready", worker_id)
    while not stop.is_set():
        try:
            with runner.storage.session() as session:
                job_id = jobs_store.claim_next(session=session, worker_id=worker_id)
        except Exception as exc:
            log.warning("could not read the job queue (%s); retrying", exc)
            job_id = None
        if job_id is not None:
            runner.run(job_id)
            continue
        wake.wait(settings.queue_poll_seconds)
        wake.clear()
    runner.storage.dispose()


@dataclass
class _Slot:
    """One worker child and what the supervisor knows of it."""

    index: int
    process: multiprocessing.process.BaseProcess | None = None
    worker_id: str = ""
    wake: Any = None
    ready: Any = None
    started_at: float = 0.0
    restarts: int = 0
    not_before: float = 0.0
    exits: list[int | None] = field(default_factory=list)


class LocalQueue(JobQueue):
    """Worker child processes of this server, fed from the jobs table and supervised."""

    def __init__(
        self,
        *,
        settings: Settings,
        storage: Storage,
        webhooks: WebhookDispatcher | None,
        factory: RunnerFactory,
        workers: int | None = None,
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._factory = factory
        self._workers = settings.workers if workers is None else workers
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self._slots = [_Slot(i) for i in range(self._workers)]
        self._halt = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._nonce = secrets.token_hex(3)
        self.reaper = Reaper(
            settings=settings, storage=storage, webhooks=webhooks, on_requeue=self.enqueue
        )

    def enqueue(self, job_id: str) -> None:
        for slot in self._slots:
            if slot.wake is not None:
                slot.wake.set()

    def start(self) -> None:
        if not self._workers:
            return
        self._stop.clear()
        self._halt.clear()
        self._sweep()
        for slot in self._slots:
            self._spawn(slot)
        self._supervisor = threading.Thread(
            target=self._supervise, name="parley-supervisor", daemon=True
        )
        self._supervisor.start()

    def _spawn(self, slot: _Slot) -> None:
        name = f"local-{slot.index}-{self._nonce}"
        slot.wake, slot.ready = self._context.Event(), self._context.Event()
        # The id is fixed here from the child's pid, which the child learns the same way.
        process = self._context.Process(
            target=_spawned,
            args=(self._factory, self._settings, name, slot.wake, self._stop, slot.ready),
            name=f"parley-worker-{slot.index}",
            daemon=True,
        )
        process.start()
        slot.process, slot.started_at = process, time.monotonic()
        slot.worker_id = owners.worker_id_for(process.pid or 0, name)

    def _sweep(self) -> None:
        try:
            self.reaper.sweep()
        except Exception:
            log.warning("could not check for dead workers' jobs", exc_info=True)

    def _beat_for_children(self) -> None:
        """Heartbeat the jobs of the children that are alive (issue 23).

        A child's own heartbeat thread needs the child's GIL, which a long C call in a job
        (a tokenizer, a regex, a decoder) can hold for minutes: the reaper then took a live
        worker for dead and ran its job twice. The parent knows for certain which children
        live, and its GIL is not theirs, so it heartbeats their jobs as well; a dead
        child's job still goes stale and is taken back by pid at once.
        """
        live = [s.worker_id for s in self._slots if s.process is not None and s.process.is_alive()]
        try:
            with self._storage.session() as session:
                jobs_store.heartbeat_workers(session=session, worker_ids=live)
        except Exception:
            log.warning("could not heartbeat the workers' jobs", exc_info=True)

    def _supervise(self) -> None:
        last_sweep = last_beat = 0.0
        while not self._halt.wait(0.5):
            if time.monotonic() - last_beat >= self._settings.job_heartbeat_seconds:
                self._beat_for_children()
                last_beat = time.monotonic()
            died = False
            for slot in self._slots:
                process = slot.process
                if process is None:
                    if time.monotonic() >= slot.not_before:
                        self._spawn(slot)
                    continue
                if process.is_alive():
                    continue
                died = True
                slot.exits.append(process.exitcode)
                lived = time.monotonic() - slot.started_at
                log.error(
                    "worker %d (pid %s) died with exit code %s after %.0fs; replacing it",
                    slot.index,
                    process.pid,
                    process.exitcode,
                    lived,
                )
                process.close()
                slot.process, slot.restarts = None, slot.restarts + 1
                # a child that dies at once (e.g. a model that cannot load) is not respawned
                # in a tight loop
                slot.not_before = time.monotonic() + (5.0 if lived < 10 else 0.0)
            if died or time.monotonic() - last_sweep > self._settings.queue_reap_seconds:
                self._sweep()
                last_sweep = time.monotonic()

    def stop(self, timeout: float = 30.0) -> None:
        if self._supervisor is None:
            return
        self._halt.set()
        self._supervisor.join(timeout)
        self._supervisor = None
        self._stop.set()
        self.enqueue("")
        deadline = time.monotonic() + timeout
        held: list[str] = []
        for slot in self._slots:
            process = slot.process
            if process is None:
                continue
            process.join(max(deadline - time.monotonic(), 0.1))
            if process.is_alive():
                log.warning("worker %d still busy at shutdown; stopping it", slot.index)
                process.terminate()
                process.join(10)
                held.append(slot.worker_id)
            slot.process = None
        if held:
            with self._storage.session() as session:
                released = jobs_store.release(session=session, worker_ids=held)
            if released:
                log.info("returned %d running job(s) to the queue at shutdown", released)

    def status(self) -> dict[str, Any]:
        alive = [s for s in self._slots if s.process is not None and s.process.is_alive()]
        ready = [s for s in alive if s.ready is not None and s.ready.is_set()]
        return {
            "ready": len(ready) == self._workers,
            "workers": self._workers,
            "alive": len(alive),
            "warm": len(ready),
            "restarts": sum(s.restarts for s in self._slots),
            "pids": [s.process.pid for s in alive if s.process is not None],
        }


def _spawned(
    factory: RunnerFactory, settings: Settings, name: str, wake: Any, stop: Any, ready: Any
) -> None:
    _child_main(factory, settings, owners.worker_id_for(os.getpid(), name), wake, stop, ready)
