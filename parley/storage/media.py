"""A conversation's stored media as one timeline, for the player.

Each upload is stored per job (``<conversationId>/<jobId>``); appended files
follow one another in the conversation's time, in job order, so each file's
``offset`` is the sum of the durations before it. Sentences' times are on that
same timeline, so a player seeks file ``k`` to ``t - offset_k``.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.storage.audio import AudioStore
from parley.storage.models import Job, JobStatus

__all__ = ["MediaFile", "content_type", "timeline"]

_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "aac": "audio/aac",
    "matroska": "video/webm",
    "webm": "video/webm",
    "mov": "video/mp4",
    "mp4": "video/mp4",
    "m4a": "audio/mp4",
}


@dataclass(frozen=True)
class MediaFile:
    job_id: str
    key: str
    offset: float  # seconds on the conversation's timeline where this file starts
    duration: float
    content_type: str
    size: int


def content_type(format_name: str, has_video: bool) -> str:
    """A browser-playable MIME type for an FFmpeg container name like ``mov,mp4,m4a``."""
    for name in format_name.split(","):
        if name in _TYPES:
            found = _TYPES[name]
            return found if has_video or not found.startswith("video/") else "audio/" + found[6:]
    return "application/octet-stream"


def _facts(audio: AudioStore, key: str) -> tuple[float, str] | None:
    """(duration, content type) of a stored file, None when it is gone or unreadable."""
    try:
        with audio.open(key) as handle, av.open(handle, "r", metadata_errors="ignore") as container:
            duration = container.duration / 1_000_000 if container.duration else 0.0
            stream = container.streams.audio[0] if container.streams.audio else None
            if stream is not None and stream.duration is not None and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            return duration, content_type(container.format.name, bool(container.streams.video))
    except (OSError, av.FFmpegError):
        return None


def timeline(*, session: Session, audio: AudioStore, conversation_id: str) -> list[MediaFile]:
    """The conversation's completed audio/video jobs whose files are still stored."""
    jobs = session.scalars(
        select(Job)
        .where(
            Job.conversation_id == conversation_id,
            Job.status == JobStatus.COMPLETED.value,
            Job.kind != "text",
        )
        .order_by(Job.seq)
    )
    files, offset = [], 0.0
    for job in jobs:
        key = f"{conversation_id}/{job.id}"
        facts = _facts(audio, key)
        if facts is None:  # audio not kept: its length is unknown, later offsets may drift
            continue
        duration, mime = facts
        files.append(
            MediaFile(job.id, key, round(offset, 3), round(duration, 3), mime, audio.size(key))
        )
        offset += duration
    return files
