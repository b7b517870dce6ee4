"""Prometheus metrics, shared by every process of a deployment.

Jobs run in worker processes and there may be several API processes, so the
counters and histograms use ``prometheus_client``'s multiprocess mode whenever
``PROMETHEUS_MULTIPROC_DIR`` is set (``parley serve`` and ``parley worker`` set it
to ``<data_dir>/metrics`` unless it is given): each process writes its own
file there and ``/metrics`` adds them up. Without it (tests, ``parley process``)
the process-local default registry is used.

What is counted where the database knows better (jobs by status, the queue's
depth) is read from the database when scraped, so every process reports the
same fleet-wide figure.

The names are listed in the README ("Operations").
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from time import perf_counter
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = [
    "CONTENT_TYPE_LATEST",
    "HTTP_REQUESTS",
    "HTTP_SECONDS",
    "JOBS_FINISHED",
    "MODEL_LOAD_SECONDS",
    "WEBHOOK_DELIVERIES",
    "observe_stage",
    "render",
    "stage",
]

_STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
_AUDIO_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400)
_HTTP_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

JOBS_FINISHED = Counter(
    "parley_jobs_finished_total", "Jobs that reached a final status.", ["status"]
)
JOB_SECONDS = Histogram(
    "parley_job_seconds",
    "Worker wall-clock seconds per finished job, from its start to its stored result.",
    ["status"],
    buckets=_STAGE_BUCKETS,
)
JOB_STAGE_SECONDS = Histogram(
    "parley_job_stage_seconds",
    "Wall-clock seconds a job spent in a stage (decode, speech, speakers, insights).",
    ["stage"],
    buckets=_STAGE_BUCKETS,
)
JOB_AUDIO_SECONDS = Histogram(
    "parley_job_audio_seconds",
    "Seconds of audio (or transcript, for text jobs) a stage processed, per job.",
    ["stage"],
    buckets=_AUDIO_BUCKETS,
)
WEBHOOK_DELIVERIES = Counter(
    "parley_webhook_deliveries_total",
    "Webhook delivery attempts by outcome: delivered, retry, given_up.",
    ["outcome"],
)
HTTP_REQUESTS = Counter(
    "parley_http_requests_total",
    "HTTP requests by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "parley_http_request_duration_seconds",
    "HTTP request duration by method and route template.",
    ["method", "route"],
    buckets=_HTTP_BUCKETS,
)
MODEL_LOAD_SECONDS = Gauge(
    "parley_model_load_seconds",
    "Seconds the last load of a model took in a process (the slowest process).",
    ["model"],
    multiprocess_mode="max",
)


def observe_stage(name: str, seconds: float, audio_seconds: float | None) -> None:
    JOB_STAGE_SECONDS.labels(stage=name).observe(seconds)
    if audio_seconds is not None:
        JOB_AUDIO_SECONDS.labels(stage=name).observe(audio_seconds)


@contextmanager
def stage(name: str, audio_seconds: float | None = None) -> Iterator[None]:
    """Time a block as one stage of a job."""
    started = perf_counter()
    try:
        yield
    finally:
        observe_stage(name, perf_counter() - started, audio_seconds)


class _Snapshot:
    """A collector for figures computed at scrape time (from the database)."""

    def __init__(self, families: Iterable[Any]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Any]:
        return self._families


def job_families(counts: dict[str, int]) -> list[GaugeMetricFamily]:
    """``parley_jobs{status}`` and ``parley_queue_depth`` from counts by status."""
    jobs = GaugeMetricFamily("parley_jobs", "Jobs in the database by status.", labels=["status"])
    for status in ("scheduled", "in_progress", "completed", "failed"):
        jobs.add_metric([status], counts.get(status, 0))
    depth = GaugeMetricFamily("parley_queue_depth", "Jobs waiting to run (scheduled), fleet-wide.")
    depth.add_metric([], counts.get("scheduled", 0))
    return [jobs, depth]


def render(extra: Iterable[Any] = ()) -> bytes:
    """The exposition text: this process (or every process, in multiprocess mode),
    plus figures computed now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    snapshot = CollectorRegistry()
    snapshot.register(_Snapshot(extra))
    return text + generate_latest(snapshot)
