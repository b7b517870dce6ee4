"""Fetch media from a URL (the ``/url`` endpoints) into stored audio, streaming.

Symbl's rule is no redirects; Parley follows a few, since signed storage URLs
often redirect once. Every connection, redirect hops included, goes through the
outbound guard (``parley.outbound``), so a URL cannot reach Parley's own network.
A download has an overall deadline, a minimum average rate (after a short grace
period) and a size cap, so a server that trickles bytes cannot hold a worker.
Failure reasons describe the user's URL, never the network behind Parley.
"""

from __future__ import annotations

import time

import httpx

from parley.errors import PipelineError
from parley.outbound import OutboundGuard, OutboundRefused
from parley.storage.audio import AudioStore

__all__ = ["fetch_url"]

_GRACE_SECONDS = 10.0


def _reason(exc: httpx.HTTPError) -> str:
    """What went wrong, for the user: no exception names, addresses or ports."""
    if isinstance(exc, httpx.TooManyRedirects):
        return "Fetching the media URL failed: it redirected too many times."
    if isinstance(exc, httpx.TimeoutException):
        return "Fetching the media URL failed: the server did not answer in time."
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "Fetching the media URL failed: it redirected to a URL that is not http or https."
    return "Fetching the media URL failed: the server could not be reached."


def fetch_url(
    url: str,
    *,
    audio: AudioStore,
    conversation_id: str,
    job_id: str,
    timeout: float,
    max_bytes: int,
    guard: OutboundGuard | None = None,
    deadline: float = 1800.0,
    min_rate: float = 0.0,
) -> str:
    """Download ``url`` into the job's audio and return its key; ``PipelineError`` on failure.

    ``timeout`` bounds each connect and read, ``deadline`` the whole download, and
    ``min_rate`` (bytes per second, averaged, after a 10 s grace) refuses trickles.
    """
    guard = guard or OutboundGuard()
    temp, out = audio.new_upload()
    received = 0
    started = time.monotonic()
    try:
        with (
            out,
            guard.client(timeout=timeout, follow_redirects=True, max_redirects=3) as client,
            client.stream("GET", url) as response,
        ):
            if not response.is_success:
                raise PipelineError(
                    f"Fetching the media URL failed: the server answered HTTP "
                    f"{response.status_code}."
                )
            for chunk in response.iter_bytes():  # as it arrives: a trickle is seen
                received += len(chunk)
                if received > max_bytes:
                    raise PipelineError(
                        f"The media at the URL is larger than the limit of {max_bytes} bytes."
                    )
                out.write(chunk)
                elapsed = time.monotonic() - started
                if elapsed > deadline:
                    raise PipelineError(
                        f"Fetching the media URL took longer than {deadline:g} seconds."
                    )
                if min_rate and elapsed > _GRACE_SECONDS and received < min_rate * elapsed:
                    raise PipelineError(
                        "Fetching the media URL failed: the server sent data slower than "
                        f"{min_rate / 1024:g} kB/s."
                    )
    except OutboundRefused as exc:
        temp.unlink(missing_ok=True)
        why = exc.message[:1].lower() + exc.message[1:]
        raise PipelineError(f"The media URL was not fetched: {why}") from None
    except httpx.HTTPError as exc:
        temp.unlink(missing_ok=True)
        raise PipelineError(_reason(exc)) from None
    except (httpx.InvalidURL, ValueError):  # httpx cannot parse the URL (or a hop's)
        temp.unlink(missing_ok=True)
        raise PipelineError("The media URL was not fetched: it is not a valid URL.") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return audio.commit(temp, conversation_id, job_id)
