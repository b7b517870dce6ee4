"""The job queue behind a small interface, and the reaper that takes back dead workers' jobs.

``JobQueue.enqueue(job_id)`` is all the submission side needs. The database is the source
of truth for job state; a queue only wakes workers. ``LocalQueue`` is the embedded default:
jobs run in worker *child processes* of the server, so a native crash in a decoder or a
model, or running out of memory, costs one job and never the API server. A child that dies
is replaced; its job goes back to ``scheduled`` and, after ``job_max_attempts`` crashes,
ends ``failed``. ``parley.jobs.celery_queue`` implements the same interface for scale-out.

A running job is taken over only when its worker is known dead (same host, pid gone) or its
heartbeat is older than ``job_stale_seconds``: never because another process started.

Nothing the server does waits on a lock or condition a child shares: a child can die at any
instant (SIGKILL, OOM), and ``multiprocessing.Event.set()`` waits forever for a sleeper that
died inside ``wait()``. Children are woken by a byte down a non-blocking pipe, stopped by a
shared flag and the pipe's EOF, and report readiness in a shared byte. SIGTERM ends a child
at once (a stop signals the whole process group); its job goes back to the queue without
counting as a crash. A child tells the server it finished a job by a byte down a second
pipe, which is what ``LocalQueue.join`` waits on instead of polling on a timer.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import secrets
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from parley.config import Settings
from parley.jobs import owners
from parley.jobs.webhook import WebhookDispatcher
from parley.jobs.worker import JobRunner, notify
from parley.storage import Storage
from parley.storage import jobs as jobs_store
from parley.storage.models import ACTIVE, Job, JobStatus, utcnow

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


class _Doorbell:
    """Wakes a worker child without any lock the child could die holding.

    The server writes a byte to a non-blocking pipe (a full pipe already means "wake up";
    a dead reader is ignored); the child waits for the pipe to be readable. Closing the
    server's end is EOF: the child stops.
    """

    def __init__(self, context: Any) -> None:
        self.reader, self.writer = context.Pipe(duplex=False)
        os.set_blocking(self.writer.fileno(), False)
        # this process's threads only (request threads ring, the supervisor closes), so a
        # ring never writes to a file descriptor number closed and reused meanwhile
        self._lock = threading.Lock()

    def ring(self) -> None:
        with self._lock:
            if self.writer.closed:
                return
            # BlockingIOError: a wake-up is pending anyway; BrokenPipeError: the child is gone
            with contextlib.suppress(OSError):
                os.write(self.writer.fileno(), b"\0")

    def close(self) -> None:
        with self._lock:
            self.writer.close()
            if not self.reader.closed:
                self.reader.close()


def _wait_for_bell(bell: multiprocessing.connection.Connection, timeout: float) -> bool:
    """In the child: wait up to ``timeout`` s for a ring; False once the server hung up."""
    if not multiprocessing.connection.wait([bell], timeout):
        return True
    try:
        return os.read(bell.fileno(), 4096) != b""
    except BlockingIOError:
        return True


def _tell(done: multiprocessing.connection.Connection) -> None:
    """In the child: a job ended. Never blocks: a full pipe already says so, and a server
    that is gone has nobody to tell."""
    with contextlib.suppress(OSError):
        os.write(done.fileno(), b"\0")


def _drain(reader: multiprocessing.connection.Connection) -> bool:
    """In the server: read what a child told; False once its end is closed (or ours)."""
    try:
        while reader.poll():
            if not os.read(reader.fileno(), 4096):
                return False
    except (OSError, ValueError):
        return False
    return True


def _child_main(
    factory: RunnerFactory,
    settings: Settings,
    worker_id: str,
    bell: multiprocessing.connection.Connection,
    stop: Any,
    ready: Any,
    done: multiprocessing.connection.Connection,
) -> None:
    """A worker child: load the models once, then claim and run jobs until told to stop."""
    from parley import logs  # the parent's format and redaction (issue 11)

    # Ctrl-C reaches the whole group: the server stops its children itself, so a child
    # neither prints a KeyboardInterrupt nor dies as if it crashed. SIGTERM keeps its
    # default (exit at once, even inside native code); the server hands the job back.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.set_blocking(bell.fileno(), False)
    os.set_blocking(done.fileno(), False)
    logs.setup(settings.log_format, settings.log_level)
    _watch_parent(multiprocessing.parent_process())
    runner = factory(settings, worker_id)
    runner.warm()
    ready.value = 1
    log.info("worker %s ready", worker_id)
    while not stop.value:
        try:
            with runner.storage.session() as session:
                job_id = jobs_store.claim_next(session=session, worker_id=worker_id)
        except Exception as exc:
            log.warning("could not read the job queue (%s); retrying", exc)
            job_id = None
        if job_id is not None:
            runner.run(job_id)
            _tell(done)
            continue
        if not _wait_for_bell(bell, settings.queue_poll_seconds):
            break
    runner.storage.dispose()


@dataclass
class _Slot:
    """One worker child and what the supervisor knows of it."""

    index: int
    process: multiprocessing.process.BaseProcess | None = None
    worker_id: str = ""
    bell: _Doorbell | None = None
    ready: Any = None
    #: the server's end of the child's "a job ended" pipe (``join`` waits on it)
    done: multiprocessing.connection.Connection | None = None
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
        self._stop = self._context.RawValue("b", 0)  # lock-free: see the module docstring
        self._slots = [_Slot(i) for i in range(self._workers)]
        self._halt = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._nonce = secrets.token_hex(3)
        self.reaper = Reaper(
            settings=settings, storage=storage, webhooks=webhooks, on_requeue=self.enqueue
        )

    def enqueue(self, job_id: str) -> None:
        """Wake the children; never blocks, whichever of them is alive."""
        for slot in self._slots:
            bell = slot.bell
            if bell is not None:
                bell.ring()

    def start(self) -> None:
        if not self._workers:
            return
        self._stop.value = 0
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
        if slot.bell is not None:
            slot.bell.close()
        slot.bell, slot.ready = _Doorbell(self._context), self._context.RawValue("b", 0)
        if slot.done is not None:
            slot.done.close()
        slot.done, done = self._context.Pipe(duplex=False)
        # The id is fixed here from the child's pid, which the child learns the same way.
        child_ends = (slot.bell.reader, self._stop, slot.ready, done)
        process = self._context.Process(
            target=_spawned,
            args=(self._factory, self._settings, name, *child_ends),
            name=f"parley-worker-{slot.index}",
            daemon=True,
        )
        process.start()
        slot.bell.reader.close()  # the child's now: a dead child makes ring() a no-op
        done.close()  # the child's end
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
                slot.exits.append(process.exitcode)
                lived = time.monotonic() - slot.started_at
                if process.exitcode == -signal.SIGTERM:
                    self._stopped(slot, process)
                    continue
                died = True
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

    def _stopped(self, slot: _Slot, process: multiprocessing.process.BaseProcess) -> None:
        """A child ended by SIGTERM was stopped, not crashed (a stop of the whole process
        group signals every child): its job goes back uncounted, and it is replaced after a
        pause, by which time a server that is stopping no longer supervises."""
        log.info("worker %d (pid %s) was stopped by SIGTERM", slot.index, process.pid)
        process.close()
        slot.process, slot.not_before = None, time.monotonic() + 2.0
        self._release([slot.worker_id])

    def _release(self, worker_ids: list[str]) -> None:
        try:
            with self._storage.session() as session:
                released = jobs_store.release(session=session, worker_ids=worker_ids)
        except Exception:
            log.warning("could not hand back the jobs of stopped workers", exc_info=True)
            return
        if released:
            log.info("returned %d running job(s) to the queue", released)

    def stop(self, timeout: float | None = None) -> None:
        """Stop the children: idle ones at once; a running job gets ``timeout`` s
        (``shutdown_grace_seconds``) to finish, then its child is ended and the job handed
        back to the queue, uncounted. Waits on process exits only, never on a shared lock."""
        if self._supervisor is None:
            return
        grace = self._settings.shutdown_grace_seconds if timeout is None else timeout
        self._halt.set()
        self._supervisor.join(5.0)
        self._supervisor = None
        self._stop.value = 1
        for slot in self._slots:
            if slot.bell is not None:
                slot.bell.close()  # EOF: an idle child leaves its wait at once
                slot.bell = None
        deadline = time.monotonic() + grace
        for slot in self._slots:
            process = slot.process
            if process is None:
                continue
            if slot.ready is not None and slot.ready.value:
                process.join(max(deadline - time.monotonic(), 0.0))
            if process.is_alive():  # busy past the grace, or still loading its models
                log.warning("worker %d still busy at shutdown; stopping it", slot.index)
                process.terminate()
                process.join(5.0)
            if process.is_alive():
                process.kill()
                process.join(5.0)
            slot.process = None
            if slot.done is not None:
                slot.done.close()
                slot.done = None
        self._release([slot.worker_id for slot in self._slots if slot.worker_id])

    def join(self, timeout: float) -> bool:
        """Wait until no job is scheduled or running (the jobs table says so); False if
        some still are after ``timeout`` s. Woken by each job a child finishes, so a test
        (or a draining operator) waits for the work itself, not a polling interval. The
        wait is capped at a second per look, for jobs that end otherwise (a reaped crash)."""
        deadline = time.monotonic() + timeout
        while True:
            # drained before the look, so a job that ends after it wakes the wait below;
            # a dead child's pipe (EOF) is left out until its slot is respawned
            pipes = [s.done for s in self._slots if s.done is not None]
            readers = [r for r in pipes if _drain(r)]
            with self._storage.session() as session:
                if session.scalar(select(Job.id).where(Job.status.in_(ACTIVE)).limit(1)) is None:
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                multiprocessing.connection.wait(readers, min(left, 1.0))
            except (OSError, ValueError):  # a reader closed by a respawn meanwhile
                time.sleep(min(left, 0.05))

    def status(self) -> dict[str, Any]:
        alive = [s for s in self._slots if s.process is not None and s.process.is_alive()]
        ready = [s for s in alive if s.ready is not None and s.ready.value]
        return {
            "ready": len(ready) == self._workers,
            "workers": self._workers,
            "alive": len(alive),
            "warm": len(ready),
            "restarts": sum(s.restarts for s in self._slots),
            "pids": [s.process.pid for s in alive if s.process is not None],
        }


def _spawned(
    factory: RunnerFactory,
    settings: Settings,
    name: str,
    bell: multiprocessing.connection.Connection,
    stop: Any,
    ready: Any,
    done: multiprocessing.connection.Connection,
) -> None:
    worker_id = owners.worker_id_for(os.getpid(), name)
    _child_main(factory, settings, worker_id, bell, stop, ready, done)
