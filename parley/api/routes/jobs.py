"""``GET /v1/job/{jobId}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from parley.api.deps import AppId, ServicesDep
from parley.errors import NotFound
from parley.options import JobOptions
from parley.storage import conversations as conversations_store
from parley.storage import jobs as jobs_store

router = APIRouter(tags=["jobs"])


@router.get("/v1/job/{job_id}")
def get_job(job_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        job = jobs_store.get_job(session=session, job_id=job_id)
        if job is None or job.app_id != app_id:
            raise NotFound("The job could not be found, please check the jobId provided")
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
        if job.status == "completed" and JobOptions.from_json(job.options).diarization:
            # Parley extension: the voices told apart, which can be fewer than
            # diarizationSpeakerCount asked for (never a voice split to fill the count).
            body["speakersFound"] = conversations_store.job_speaker_count(
                session=session, job_id=job.id
            )
        return body
