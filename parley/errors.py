"""Parley's exceptions, one tree for the whole package.

* ParleyError — base; carries the HTTP status the API layer answers with.
  * BadRequest (400) — an option, body or upload is invalid.
    * InvalidAudio — the upload is not decodable audio/video.
  * Unauthorized (401) — missing, malformed or expired credentials.
  * NotFound (404) — unknown conversation, job, member, tracker…
  * Conflict (409) — a tracker name already exists.
  * PayloadTooLarge (413) — upload or management body over the limit.
  * TooManyJobs (429) — the app's concurrent-job limit is reached.
  * StorageFull (507) — the server's disk (database or audio) has no room.
  * TooManyRequests (429) — too many failed attempts; ``retry_after`` seconds to wait.
  * NotServed (501) — a Symbl endpoint Parley cannot serve; the message says what to do.
  * PipelineError — processing failed; the job ends ``failed`` with this reason.

The pipeline and job layers raise these; only ``parley.api.errors`` turns them
into responses.
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "Conflict",
    "InvalidAudio",
    "NotFound",
    "NotServed",
    "ParleyError",
    "PayloadTooLarge",
    "PipelineError",
    "StorageFull",
    "TooManyJobs",
    "TooManyRequests",
    "Unauthorized",
]


class ParleyError(Exception):
    """Base class. ``status`` is what the API answers with."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ParleyError):
    """Invalid input, named in the message."""

    status = 400


class InvalidAudio(BadRequest):
    """The bytes are not audio or video that FFmpeg can decode."""


class Unauthorized(ParleyError):
    """Missing, malformed or expired credentials."""

    status = 401


class NotFound(ParleyError):
    """An unknown resource (or someone else's)."""

    status = 404


class Conflict(ParleyError):
    """A name that must be unique is taken."""

    status = 409


class PayloadTooLarge(ParleyError):
    """A body beyond the configured limit."""

    status = 413


class TooManyJobs(ParleyError):
    """The app has as many jobs scheduled or running as it may."""

    status = 429


class StorageFull(ParleyError):
    """The disk under the database or the audio store is full: nothing was stored."""

    status = 507

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message
            or "The server has no storage space left, so nothing was stored. "
            "Try again later; the operator has to free disk space."
        )


class TooManyRequests(ParleyError):
    """Too many failed attempts (token requests); answered with ``Retry-After``."""

    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotServed(ParleyError):
    """A Symbl endpoint Parley knows but cannot serve (telephony dial-out, legacy APIs):
    answered 501, never a bare 404, with a message saying what to use instead."""

    status = 501


class PipelineError(ParleyError):
    """Processing failed for a reason the user should see (the job's ``reason``)."""

    status = 500
