"""Reading request bodies: JSON objects, and uploads streamed to disk."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from parley.errors import BadRequest, ParleyError, PayloadTooLarge
from parley.options.jsonload import loads_bounded
from parley.pipeline.decode import AudioInfo, probe
from parley.storage.audio import AudioStore, Staged
from parley.textcheck import parse_capped

__all__ = ["json_bytes", "json_object", "json_value", "parse_object", "receive_upload"]

log = logging.getLogger(__name__)

#: Every JSON body is capped, whatever the route: 1 MiB unless it says otherwise.
DEFAULT_MAX_JSON_BYTES = 1024 * 1024


def _declared_too_large(request: Request, max_bytes: int) -> bool:
    """Whether ``Content-Length`` already says more than ``max_bytes``. A value that is
    not plain ASCII digits is left to the stream's own count (which is what binds)."""
    declared = parse_capped(request.headers.get("content-length", "").strip(), max_bytes + 1)
    return declared is not None and declared > max_bytes


class ClientGone(ParleyError):
    """The client closed the connection before its request body was complete: nobody reads
    the answer, and it is no server error (no traceback, no 500 in the log)."""

    status = 400


async def _chunks(request: Request) -> AsyncIterator[bytes]:
    """The body as it arrives; a client that goes away mid-body leaves one log line."""
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            yield chunk
    except ClientDisconnect:
        log.info(
            "%s %s: the client closed the connection after %d bytes of the body",
            request.method,
            request.url.path,
            received,
        )
        raise ClientGone("The client closed the connection during the request.") from None


async def _read_limited(request: Request, max_bytes: int) -> bytes:
    """The body, read as a stream and refused (413) once it passes ``max_bytes``,
    so a huge body is never held in memory."""
    if _declared_too_large(request, max_bytes):
        raise PayloadTooLarge(f"The request body is larger than {max_bytes} bytes.")
    chunks, received = [], 0
    async for chunk in _chunks(request):
        received += len(chunk)
        if received > max_bytes:
            raise PayloadTooLarge(f"The request body is larger than {max_bytes} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_bytes(request: Request, *, max_bytes: int | None = None) -> bytes:
    """The raw bytes of a JSON body: at most ``max_bytes`` (413), not empty (400). For a
    route whose body is big enough that parsing it belongs in the thread pool."""
    body = await _read_limited(request, max_bytes or DEFAULT_MAX_JSON_BYTES)
    if not body.strip():
        raise BadRequest("The request body is empty: a JSON body is required.")
    return body


def parse_object(body: bytes) -> dict[str, Any]:
    """``body`` as a JSON object, with bounded nesting and numbers (400)."""
    value = loads_bounded(body, "The request body")
    if not isinstance(value, dict):
        raise BadRequest("The request body must be a JSON object.")
    return value


async def json_value(request: Request, *, max_bytes: int | None = None) -> Any:
    """The JSON body: at most ``max_bytes`` (413), valid JSON with bounded nesting and
    numbers (400)."""
    return loads_bounded(await json_bytes(request, max_bytes=max_bytes), "The request body")


async def json_object(request: Request, *, max_bytes: int | None = None) -> dict[str, Any]:
    return parse_object(await json_bytes(request, max_bytes=max_bytes))


async def receive_upload(
    request: Request, *, audio: AudioStore, max_bytes: int
) -> tuple[Staged, AudioInfo]:
    """Stream the raw body into the audio store's staging place, then check it is
    decodable audio.

    The body is never held in memory: it goes to the store in ``_BATCH``-sized
    writes (on S3, multipart parts as they fill). More than ``max_bytes`` gives
    413; the probe reads the staged upload back from the store (ranged reads on
    S3), so the check is the same whatever the store.
    """
    if _declared_too_large(request, max_bytes):
        raise PayloadTooLarge(f"The file is larger than the limit of {max_bytes} bytes.")
    staged, out = await run_in_threadpool(audio.new_upload)
    received = 0
    try:
        with out:
            batch = bytearray()
            async for chunk in _chunks(request):
                received += len(chunk)
                if received > max_bytes:
                    raise PayloadTooLarge(
                        f"The file is larger than the limit of {max_bytes} bytes."
                    )
                batch += chunk
                if len(batch) >= _BATCH:  # store writes (S3 parts) off the event loop
                    await run_in_threadpool(out.write, bytes(batch))
                    batch.clear()
            if batch:
                await run_in_threadpool(out.write, bytes(batch))
            batch.clear()
            await run_in_threadpool(out.close)
        if received == 0:
            raise BadRequest("The request body is empty: send the media file's bytes.")
        info = await run_in_threadpool(_probe_staged, audio, staged)
    except BaseException:  # also a client gone or stalled (ClientGone, 408): nothing staged
        await run_in_threadpool(staged.unlink)
        raise
    return staged, info


_BATCH = 1024 * 1024


def _probe_staged(audio: AudioStore, staged: Staged) -> AudioInfo:
    source = audio.source(staged.key)
    if isinstance(source, Path):
        return probe(source)
    with source:
        return probe(source)
