"""Fetch media from a URL (the ``/url`` endpoints) into stored audio, streaming.

Symbl's rule is no redirects; Parley follows a few, since signed storage URLs
often redirect once. A URL that does not answer, answers with an error, or
sends more than the upload limit fails the job with a reason.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from parley.errors import PipelineError
from parley.storage.audio import AudioStore

__all__ = ["fetch_url"]


def fetch_url(
    url: str,
    *,
    audio: AudioStore,
    conversation_id: str,
    job_id: str,
    timeout: float,
    max_bytes: int,
) -> Path:
    temp, out = audio.new_upload()
    received = 0
    try:
        with (
            out,
            httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=3) as client,
            client.stream("GET", url) as response,
        ):
            if not response.is_success:
                raise PipelineError(f"Fetching the media URL failed: HTTP {response.status_code}.")
            for chunk in response.iter_bytes(1 << 16):
                received += len(chunk)
                if received > max_bytes:
                    raise PipelineError(
                        f"The media at the URL is larger than the limit of {max_bytes} bytes."
                    )
                out.write(chunk)
    except httpx.HTTPError as exc:
        temp.unlink(missing_ok=True)
        raise PipelineError(f"Fetching the media URL failed: {type(exc).__name__}.") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return audio.path(audio.commit(temp, conversation_id, job_id))
