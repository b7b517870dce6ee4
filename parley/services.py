"""Wiring: build every long-lived service once from Settings.

The API app factory, the CLI and the Celery worker all start here, so there is
one place that decides how storage, models, queue and webhooks fit together.
"""

from __future__ import annotations

import dataclasses
import logging
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from parley.auth import FailureLimiter, Tokens, load_or_create_secret
from parley.config import Settings
from parley.conversations import InsightModels
from parley.insights import LlmSettings
from parley.insights.pool import InsightPool
from parley.jobs.owners import new_worker_id
from parley.jobs.queue import JobQueue, LocalQueue
from parley.jobs.submit import Submitter
from parley.jobs.webhook import WebhookDispatcher
from parley.jobs.worker import JobRunner
from parley.live.engine import Engine
from parley.live.session import Live
from parley.outbound import OutboundGuard
from parley.pipeline.models import Models
from parley.storage import Storage
from parley.storage import apps as apps_store

__all__ = [
    "Services",
    "build_insight_models",
    "build_models",
    "build_runner",
    "build_services",
    "build_storage",
    "build_webhooks",
    "build_worker_runner",
]

log = logging.getLogger(__name__)

#: Seconds a thread of the API process holds the GIL before others may run (see ``start``).
API_SWITCH_INTERVAL = 0.001


@dataclass
class Services:
    settings: Settings
    storage: Storage
    tokens: Tokens
    queue: JobQueue
    submitter: Submitter
    webhooks: WebhookDispatcher
    insight: InsightModels
    #: The Streaming API's connections and its recogniser (a child process started by
    #: the first stream: the API process itself never decodes audio).
    live: Live | None = None

    def start(self) -> None:
        # A request that works in Python for seconds (reading 30,000 messages) takes the
        # GIL in slices of the switch interval, and a request on the event loop waits a
        # slice at each of its many hand-overs: /health took 200-300 ms behind such a read
        # at the default 5 ms; 1 ms cuts that wait fivefold (issue 23).
        sys.setswitchinterval(API_SWITCH_INTERVAL)
        self.queue.start()

    def stop(self) -> None:
        self.queue.stop()
        if self.live is not None:
            self.live.engine.close()
        if self.insight.pool is not None:
            self.insight.pool.close()
        self.webhooks.close()
        self.storage.dispose()


def private_dir(path: Path) -> None:
    """The data directory, owner-only: it holds every transcript, the audio, the database
    and the signing key. Created 0700; one that others may enter is made 0700 and the log
    says so (``parley serve`` makes its metrics folder inside it first, and earlier
    versions left it 0755). An operator who wants it shared can keep its files there."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return
    try:
        path.chmod(0o700)
    except OSError as exc:
        log.warning("data directory %s is mode %o and stays so: %s", path, mode, exc)
    else:
        log.info("data directory %s was mode %o; made it 0700 (owner-only)", path, mode)


def build_storage(settings: Settings, *, migrate: bool = True) -> Storage:
    private_dir(settings.data_dir)
    storage = Storage(
        settings.resolved_database_url, settings.data_dir / "audio", settings.storage_url
    )
    if migrate:
        with storage.exclusive():
            storage.migrate()
            if settings.app_id and settings.app_secret:
                _seed_app(storage, settings.app_id, settings.app_secret)
    return storage


def _seed_app(storage: Storage, app_id: str, app_secret: str) -> None:
    with storage.session() as session:
        if apps_store.get_app(session=session, app_id=app_id) is None:
            apps_store.create_app(session=session, name="default", app_id=app_id, secret=app_secret)
            log.info("seeded app %s from PARLEY_APP_ID", app_id)


def build_models(settings: Settings) -> Models:
    return Models(
        cache_dir=settings.data_dir / "models",
        whisper_model=settings.whisper_model,
        compute_type=settings.whisper_compute_type,
        beam_size=settings.whisper_beam_size,
        batch_size=settings.whisper_batch_size,
        threads=settings.whisper_threads,
        speaker_embedding_model=settings.speaker_embedding_model,
        speaker_segmentation_model=settings.speaker_segmentation_model,
        speaker_overlap_model=settings.speaker_overlap_model,
    )


def build_insight_models(settings: Settings) -> InsightModels:
    """The insight stage's LLM endpoint (None = offline rules only) and sentence model."""
    llm = (
        LlmSettings(
            base_url=settings.llm_base_url, model=settings.llm_model, api_key=settings.llm_api_key
        )
        if settings.llm_base_url
        else None
    )
    return InsightModels(llm=llm, sentence_model=settings.sentence_model)


def _retry_schedule(settings: Settings) -> list[float] | None:
    """The configured schedule, or None for the doubling one when the older
    ``webhook_max_attempts`` / ``webhook_backoff_seconds`` settings were given."""
    if {"webhook_max_attempts", "webhook_backoff_seconds"} & settings.model_fields_set:
        return None
    try:
        return [float(s) for s in settings.webhook_retry_schedule.replace(",", " ").split()]
    except ValueError:
        raise ValueError("PARLEY_WEBHOOK_RETRY_SCHEDULE must be seconds, comma-separated") from None


def build_webhooks(settings: Settings, storage: Storage) -> WebhookDispatcher:
    secrets = (settings.webhook_signing_secrets or "").replace(",", " ").split()
    return WebhookDispatcher(
        storage,
        secret=settings.webhook_secret,
        signing_secrets=secrets,
        max_attempts=settings.webhook_max_attempts,
        backoff=settings.webhook_backoff_seconds,
        retry_schedule=_retry_schedule(settings),
        timeout=settings.webhook_timeout_seconds,
        threads=settings.webhook_threads,
        per_destination=settings.webhook_per_destination,
        guard=OutboundGuard.from_setting(settings.outbound_allow),
    )


def build_runner(
    settings: Settings,
    storage: Storage,
    webhooks: WebhookDispatcher,
    models: Models | None = None,
    *,
    worker_id: str | None = None,
) -> JobRunner:
    return JobRunner(
        settings=settings,
        storage=storage,
        models=models or build_models(settings),
        webhooks=webhooks,
        insight=build_insight_models(settings),
        worker_id=worker_id or new_worker_id(),
    )


def build_worker_runner(settings: Settings, worker_id: str) -> JobRunner:
    """A worker process's runner, built inside that process (a child of ``parley serve``,
    or a Celery worker): its own database engine, webhook dispatcher and models."""
    storage = build_storage(settings, migrate=False)
    return build_runner(settings, storage, build_webhooks(settings, storage), worker_id=worker_id)


def build_services(settings: Settings) -> Services:
    """What an API process holds. Jobs run elsewhere: in worker child processes of this
    server (the embedded default) or in ``parley worker`` processes (Celery)."""
    storage = build_storage(settings)
    secret = settings.jwt_secret or load_or_create_secret(settings.data_dir / "jwt_secret")
    tokens = Tokens(
        storage=storage,
        secret=secret,
        ttl_seconds=settings.token_ttl_seconds,
        limiter=FailureLimiter(settings.token_failures_per_minute),
    )
    webhooks = build_webhooks(settings, storage)
    queue: JobQueue
    if settings.queue == "celery":
        from parley.jobs.celery_queue import CeleryQueue

        queue = CeleryQueue(settings, storage=storage, webhooks=webhooks)
    else:
        queue = LocalQueue(
            settings=settings, storage=storage, webhooks=webhooks, factory=build_worker_runner
        )
    submitter = Submitter(
        storage=storage,
        queue=queue,
        webhooks=webhooks,
        max_concurrent_jobs=settings.max_concurrent_jobs,
    )
    insight = dataclasses.replace(
        base := build_insight_models(settings),
        # The API's own insight work (refresh, rename, redaction of old rows, a live
        # stream's insights) runs in a child process started on first use, never on the
        # API's GIL (issue 23).
        pool=InsightPool(
            base.sentence_model,
            log_format=settings.log_format,
            log_level=settings.log_level,
        ),
    )
    engine = Engine(
        lambda: build_models(settings),
        log_format=settings.log_format,
        log_level=settings.log_level,
    )
    return Services(
        settings=settings,
        storage=storage,
        tokens=tokens,
        queue=queue,
        submitter=submitter,
        webhooks=webhooks,
        insight=insight,
        live=Live(
            storage,
            engine,
            insight,
            max_streams=settings.max_concurrent_streams,
            idle_seconds=settings.stream_idle_seconds,
            silence_seconds=settings.stream_silence_seconds,
        ),
    )
