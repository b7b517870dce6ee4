"""The stored media, for the console's player (a Parley extension).

``GET /v1/conversations/{id}/media`` lists the conversation's files on one
timeline (appended files follow each other); ``GET .../media/{jobId}`` serves a
file with HTTP Range support (206 partial content), which browsers need to seek.
``<audio>`` cannot send headers, so the player authenticates with ``?access_token=``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import IO, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from parley.api.deps import AppId, ServicesDep
from parley.api.openapi import errors
from parley.errors import NotFound
from parley.storage import conversations as store
from parley.storage.audio import AudioStore
from parley.storage.media import MediaFile, timeline
from parley.textcheck import parse_capped
from parley_client import wire

__all__ = ["media_json", "ranged", "router"]

router = APIRouter(prefix="/v1/conversations", tags=["media"])

NO_MEDIA = "No stored audio for this conversation and job."
_CHUNK = 256 * 1024
_MEDIA = {
    t: {"schema": {"type": "string", "format": "binary"}}
    for t in ("audio/*", "video/*", "application/octet-stream")
}
_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")  # ASCII digits only, not \d


def media_json(files: list[MediaFile], url: str) -> dict[str, Any]:
    """The timeline as JSON; ``url`` is a format string taking the job id."""
    return {
        "media": [
            {
                "jobId": f.job_id,
                "url": url.format(f.job_id),
                "offset": f.offset,
                "duration": f.duration,
                "contentType": f.content_type,
                "size": f.size,
            }
            for f in files
        ]
    }


def _position(digits: str, size: int) -> int:
    """A byte position of a Range header, capped just past the file: a position of
    5,000 digits means "beyond the end" without ``int()`` ever reading it."""
    value = parse_capped(digits, size)
    return size if value is None else value


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The first byte range of a ``Range`` header as (first, last), None if unsatisfiable."""
    match = _RANGE.match(header.split(",")[0].strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = _position(last, size)
        return (max(0, size - length), size - 1) if length else None
    start = _position(first, size)
    end = min(_position(last, size), size - 1) if last else size - 1
    return (start, end) if start <= end and start < size else None


def _stream(opener: Callable[[], IO[bytes]], start: int, length: int) -> Iterator[bytes]:
    """The bytes, read as they are sent. The file is opened here, not before: a browser
    that drops a range request before its body starts (seeking, as players do) never
    starts this generator, and a file opened for it would be left open."""
    with opener() as handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(_CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


def ranged(audio: AudioStore, file: MediaFile, range_header: str | None) -> Response:
    """The file, whole (200) or the requested range (206), or 416 outside it."""
    size = file.size
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
    if range_header and range_header.strip():
        span = _parse_range(range_header, size)
        if span is None:
            return JSONResponse(
                {"message": f"The requested range is outside the file ({size} bytes)."},
                status_code=416,
                headers={**headers, "Content-Range": f"bytes */{size}"},
            )
        start, end = span
        headers |= {"Content-Range": f"bytes {start}-{end}/{size}"}
        status = 206
    else:
        start, end, status = 0, size - 1, 200
    headers["Content-Length"] = str(end - start + 1)
    return StreamingResponse(
        _stream(partial(audio.open, file.key), start, end - start + 1),
        status_code=status,
        media_type=file.content_type,
        headers=headers,
    )


def _files(services: ServicesDep, app_id: str, conversation_id: str) -> list[MediaFile]:
    with services.storage.session() as session:
        store.get_conversation(session=session, conversation_id=conversation_id, app_id=app_id)
        return timeline(
            session=session, audio=services.storage.audio, conversation_id=conversation_id
        )


@router.get(
    "/{conversation_id}/media",
    response_model=wire.MediaList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def list_media(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    files = _files(services, app_id, conversation_id)
    return media_json(files, f"/v1/conversations/{conversation_id}/media/{{}}")


@router.get(
    "/{conversation_id}/media/{job_id}",
    response_class=Response,
    responses={
        200: {
            "description": "The whole file.",
            "content": _MEDIA,
        },
        206: {
            "description": "The requested byte range.",
            "content": _MEDIA,
        },
        **errors(404, 416),
    },
)
def get_media(
    conversation_id: str, job_id: str, request: Request, app_id: AppId, services: ServicesDep
) -> Response:
    for file in _files(services, app_id, conversation_id):
        if file.job_id == job_id:
            return ranged(services.storage.audio, file, request.headers.get("range"))
    raise NotFound(NO_MEDIA)
