"""A live worker busy in one long GIL-holding call keeps its job (issue 23).

The job's own heartbeat thread cannot run while the worker holds its GIL; the server that
supervises the worker knows the child is alive and heartbeats for it, so the reaper never
takes the job back and it runs once.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from parley.config import Settings
from parley.jobs.queue import LocalQueue
from parley.jobs.worker import JobRunner
from parley.storage.models import Job
from tests.conftest import APP_ID, APP_SECRET, Api, data_dir, start_server

#: How long the job holds its GIL in one call, at least: two stale windows, so a job whose
#: only heartbeat is its own thread is reaped during the call (1.5 s stale, then a sweep
#: within 0.5 s), while the supervisor's beats every 0.5 s keep it fresh three times over.
BUSY_SECONDS = 3.0
STALE_SECONDS = 1.5


def _hold_gil(seconds: float) -> None:
    """One call into the regex engine, which holds the GIL throughout, of at least about
    ``seconds`` of this thread's CPU time, so at least as long on the clock.

    ``x*y`` searched in a run of x's tries every start: time grows as the square of the
    length, so one short call calibrates it well. Calibrating in CPU time, which a busy
    machine does not inflate, matters: an exponential pattern timed on the clock, one
    preempted sample and the doubling per character turned a 3 s hold into one of 1 s.
    """
    pattern = re.compile(r"x*y")
    n, took = 2000, 0.0
    while took < 0.05:
        n *= 2
        started = time.thread_time()
        pattern.search("x" * n)
        took = time.thread_time() - started
    pattern.search("x" * int(n * 1.1 * (seconds / took) ** 0.5))


def busy_runner(settings: Settings, worker_id: str) -> JobRunner:
    """The real runner, whose insight stage first holds the GIL for ``BUSY_SECONDS``."""
    from parley import conversations
    from parley.services import build_worker_runner

    compute = conversations.compute

    def busy(data: Any) -> Any:
        _hold_gil(BUSY_SECONDS)
        return compute(data)

    conversations.compute = busy  # type: ignore[assignment]
    return build_worker_runner(settings, worker_id)


def test_a_busy_live_worker_is_not_taken_for_dead(tmp_path: Path) -> None:
    from parley.api.app import create_app
    from parley.services import build_services

    config = Settings(
        data_dir=data_dir(tmp_path),
        app_id=APP_ID,
        app_secret=APP_SECRET,
        workers=1,
        job_heartbeat_seconds=0.2,
        job_stale_seconds=STALE_SECONDS,
        queue_reap_seconds=0.3,
        # a text job never uses the speech models; loading them took most of this
        # test's time (10 s on a busy machine)
        warm_models=False,
    )
    services = build_services(config)
    services.queue = services.submitter.queue = LocalQueue(
        settings=config, storage=services.storage, webhooks=services.webhooks, factory=busy_runner
    )
    server, thread, url = start_server(create_app(config, services=services))
    api = Api(url, services)
    try:
        response = api.request(
            "POST",
            "/v1/process/text",
            json={"messages": [{"payload": {"content": "Let's send the report on Friday."}}]},
        )
        assert response.status_code == 201, response.text
        job_id = response.json()["jobId"]
        job = api.wait(job_id, timeout=300)
        assert job["status"] == "completed", job
        with services.storage.session() as session:
            row = session.scalars(select(Job).where(Job.id == job_id)).one()
            assert row.attempts == 1  # never taken back and run again
    finally:
        api.client.close()
        server.should_exit = True
        thread.join(60)
