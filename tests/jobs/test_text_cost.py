"""A text job's cost is linear in its size (issue 23), through the worker's whole run:
sentence splitting, the insight read, the detectors, and the final transaction (messages,
search index, insight and redaction rows).

``compute_insights`` alone is covered in ``tests/insights/test_text_cost.py``; this guards
the stages around it, where a per-sentence scan of all sentences (a query or flush per row)
would hide. It counts SQL statements, which no load can change: one statement per sentence
is the usual way a job's write goes quadratic (each query scans or flushes what the job
wrote before it). Time per MB is measured by ``bench/text_cost.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from parley import ids
from parley.config import Settings
from parley.insights.context import get_nlp
from parley.jobs.webhook import WebhookDispatcher
from parley.jobs.worker import JobRunner
from parley.options import JobOptions
from parley.pipeline.models import Models
from parley.services import build_storage
from parley.storage import Storage
from parley.storage import conversations as store
from parley.storage import jobs as jobs_store
from parley.storage.models import JobStatus

WORKER = "test-worker"


@pytest.fixture()
def storage(tmp_path: Path) -> Iterator[Storage]:
    storage = build_storage(Settings(data_dir=tmp_path, app_id="app", app_secret="s" * 32))
    yield storage
    storage.dispose()


def _tiny_sentences_job(runner: JobRunner, storage: Storage, chars: int) -> tuple[float, int]:
    """CPU seconds and SQL statements (an ``executemany`` counts once) of one text job of
    ``A. A. A. …``: one sentence per 3 characters, the input of ``bench/text_cost.py`` with
    the most sentences per MB."""
    body = {"messages": [{"payload": {"content": "A. " * (chars // 3)}}]}
    options = JobOptions(
        enable_summary=True,
        detect_entities=True,
        trackers=({"name": "Budget", "vocabulary": ["budget", "call Dana"]},),
    )
    with storage.session() as session:
        conversation = store.create_conversation(session=session, app_id="app", name=None)
        job = jobs_store.create_job(
            session=session,
            job_id=ids.uuid_id(),
            app_id="app",
            conversation_id=conversation.id,
            kind="text",
            source="text",
            options=options.to_json(),
            input_data=body,
        )
        job_id, conversation_id = job.id, conversation.id
    with storage.session() as session:
        assert jobs_store.claim(session=session, job_id=job_id, worker_id=WORKER)
    statements = 0
    me = threading.get_ident()

    def count(*args: object) -> None:
        # the job's own statements: a timer thread (the webhook poller, a heartbeat) that
        # happens to fire while a longer job runs is not the text's cost
        nonlocal statements
        if threading.get_ident() == me:
            statements += 1

    event.listen(storage.engine, "before_cursor_execute", count)
    started = time.process_time()
    try:
        status = runner.run(job_id)
    finally:
        elapsed = time.process_time() - started
        event.remove(storage.engine, "before_cursor_execute", count)
    assert status == JobStatus.COMPLETED
    with storage.session() as session:
        assert store.message_count(session=session, conversation_id=conversation_id) == (chars // 3)
    return elapsed, statements


@pytest.fixture()
def runner(storage: Storage, tmp_path: Path) -> JobRunner:
    settings = Settings(data_dir=tmp_path, app_id="app", app_secret="s" * 32)
    get_nlp()  # loading spaCy is not the text's cost
    return JobRunner(
        settings=settings,
        storage=storage,
        models=Models(cache_dir=tmp_path / "models"),  # text jobs load no speech model
        webhooks=WebhookDispatcher(storage),
        worker_id=WORKER,
    )


def test_a_text_job_runs_as_many_statements_whatever_its_length(
    runner: JobRunner, storage: Storage
) -> None:
    _tiny_sentences_job(runner, storage, 300)  # first-use reads (the app, its trackers)
    _, small = _tiny_sentences_job(runner, storage, 900)
    _, large = _tiny_sentences_job(runner, storage, 1_800)
    assert small > 10, small  # the job's statements are counted at all
    assert large == small, f"{small} statements for 900 sentences, {large} for 1,800"
