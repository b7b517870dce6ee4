"""Reading request bodies: JSON objects, and uploads streamed to disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from parley.errors import BadRequest, PayloadTooLarge
from parley.pipeline.decode import AudioInfo, probe
from parley.storage.audio import AudioStore

__all__ = ["json_object", "json_value", "receive_upload"]


async def json_value(request: Request, *, max_bytes: int | None = None) -> Any:
    body = await request.body()
    if max_bytes is not None and len(body) > max_bytes:
        raise PayloadTooLarge(f"The request body is larger than {max_bytes} bytes.")
    if not body.strip():
        raise BadRequest("The request body is empty: a JSON body is required.")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None


async def json_object(request: Request, *, max_bytes: int | None = None) -> dict[str, Any]:
    value = await json_value(request, max_bytes=max_bytes)
    if not isinstance(value, dict):
        raise BadRequest("The request body must be a JSON object.")
    return value


async def receive_upload(
    request: Request, *, audio: AudioStore, max_bytes: int
) -> tuple[Path, AudioInfo]:
    """Stream the raw body to a temporary file, then check it is decodable audio.

    The body is never held in memory; more than ``max_bytes`` gives 413.
    """
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise PayloadTooLarge(f"The file is larger than the limit of {max_bytes} bytes.")
    temp, out = audio.new_upload()
    received = 0
    try:
        with out:
            async for chunk in request.stream():
                received += len(chunk)
                if received > max_bytes:
                    raise PayloadTooLarge(
                        f"The file is larger than the limit of {max_bytes} bytes."
                    )
                out.write(chunk)
        if received == 0:
            raise BadRequest("The request body is empty: send the media file's bytes.")
        info = await run_in_threadpool(probe, temp)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp, info
