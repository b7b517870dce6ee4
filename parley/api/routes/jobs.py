"""``GET /v1/job/{jobId}``, and ``GET /v1/jobs`` (a Parley extension: recent jobs)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from parley.api.deps import AppId, ServicesDep
from parley.api.openapi import doc, errors, query
from parley.api.params import query_int
from parley.errors import NotFound
from parley.options.job import JobOptions
from parley.storage import conversations as conversations_store
from parley.storage import jobs as jobs_store
from parley.storage.models import Job
from parley.times import iso
from parley_client import wire

router = APIRouter(tags=["jobs"])


def _job_json(job: Job, *, details: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "conversationId": job.conversation_id,
        "progress": job.progress,
    }
    if job.reason:
        body["reason"] = job.reason
    if job.warnings:  # Parley extension: e.g. speech that could not be transcribed
        body["warnings"] = list(job.warnings)
    if details:
        body["name"] = (job.options or {}).get("name")
        body["type"] = job.kind
        body["createdAt"] = iso(job.created_at)
        body["updatedAt"] = iso(job.updated_at)
    return body


@router.get(
    "/v1/job/{job_id}",
    response_model=wire.Job,
    response_model_exclude_unset=True,
    responses=errors(404),
)
async def get_job(job_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    """The status poll, the API's hottest route: on SQLite it reads on the event loop
    (see ``Storage.loop_session``), else in the thread pool."""
    storage = services.storage
    if storage.reads_on_loop:
        try:
            return _job_status(storage.loop_session, job_id, app_id)
        except OperationalError:  # locked for a moment: the pool's path waits for it
            pass
    return await run_in_threadpool(_job_status, storage.session, job_id, app_id)


def _job_status(
    session_factory: Callable[[], AbstractContextManager[Session]], job_id: str, app_id: str
) -> dict[str, Any]:
    with session_factory() as session:
        job = jobs_store.get_job(session=session, job_id=job_id)
        if job is None or job.app_id != app_id:
            raise NotFound("The job could not be found, please check the jobId provided")
        body = _job_json(job)
        if job.status == "completed" and JobOptions.from_json(job.options).diarization:
            # Parley extension: the voices told apart, which can be fewer than
            # diarizationSpeakerCount asked for (never a voice split to fill the count).
            body["speakersFound"] = conversations_store.job_speaker_count(
                session=session, job_id=job.id
            )
        return body


@router.get(
    "/v1/jobs",
    response_model=wire.JobList,
    response_model_exclude_unset=True,
    responses=errors(),
    openapi_extra=doc(params=[query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})]),
)
def list_jobs(request: Request, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    """Parley extension: the app's recent jobs, newest first (``limit``, default 50)."""
    limit = query_int(request, "limit", 50, 1, 1000)
    with services.storage.session() as session:
        jobs = jobs_store.list_jobs(session=session, app_id=app_id, limit=limit)
        return {"jobs": [_job_json(job, details=True) for job in jobs]}
