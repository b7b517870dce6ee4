"""Security headers: no framing, no sniffing, no Referer, a strict policy on pages, and
the CDN-loading docs pages off unless asked for."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from parley.storage.models import Job, JobStatus
from tests.conftest import Api, running_server

PAGE_SOURCES = ("default-src 'self'", "script-src 'self'", "style-src 'self'")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with running_server(tmp_path_factory.mktemp("headers"), workers=0) as api:
        yield api


@pytest.fixture(scope="module")
def conversation(server: Api) -> tuple[str, str]:
    """(conversation id, job id) of a stored upload. Media is served for completed jobs;
    the job is marked completed here rather than run through the speech models, which
    would not change a header."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.zeros(16000, dtype="<i2").tobytes())
    response = server.client.post(
        "/v1/process/audio",
        content=buffer.getvalue(),
        headers={"Authorization": f"Bearer {server.token()}", "Content-Type": "audio/wav"},
    )
    assert response.status_code == 201, response.text
    conversation_id, job_id = response.json()["conversationId"], response.json()["jobId"]
    with server.services.storage.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.status = JobStatus.COMPLETED.value
    return conversation_id, job_id


def _assert_hardened(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def _assert_page(response: httpx.Response) -> None:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/")
    _assert_hardened(response)
    policy = response.headers["content-security-policy"]
    assert all(source in policy for source in PAGE_SOURCES), policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_console_page_and_files_are_hardened(server: Api) -> None:
    _assert_page(server.client.get("/"))
    for name in ("app.js", "bookmarks.js", "app.css", "favicon.svg"):
        response = server.client.get(f"/console/{name}")
        assert response.status_code == 200
        _assert_hardened(response)


def test_media_json_and_errors_are_hardened(server: Api, conversation: tuple[str, str]) -> None:
    conversation_id, job_id = conversation
    auth = {"Authorization": f"Bearer {server.token()}"}
    media = server.client.get(f"/v1/conversations/{conversation_id}/media/{job_id}", headers=auth)
    assert media.status_code == 200 and media.headers["content-type"].startswith("audio/")
    _assert_hardened(media)
    ranged = server.client.get(
        f"/v1/conversations/{conversation_id}/media/{job_id}",
        headers=auth | {"Range": "bytes=0-99"},
    )
    assert ranged.status_code == 206
    _assert_hardened(ranged)
    for response in (
        server.client.get(f"/v1/conversations/{conversation_id}", headers=auth),
        server.client.get("/v1/conversations/unknown", headers=auth),  # 404
        server.client.get("/v1/conversations"),  # 401
        server.client.get("/health"),
    ):
        _assert_hardened(response)
        assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


def test_shared_experience_page_and_media_are_hardened(
    server: Api, conversation: tuple[str, str]
) -> None:
    conversation_id, job_id = conversation
    created = server.client.post(
        f"/v1/conversations/{conversation_id}/experiences",
        json={"name": "audio-summary"},
        headers={"Authorization": f"Bearer {server.token()}"},
    )
    assert created.status_code == 200, created.text
    path = httpx.URL(created.json()["url"]).path
    _assert_page(server.client.get(path))
    media = server.client.get(f"{path}/media/{job_id}")
    assert media.status_code == 200
    _assert_hardened(media)


def test_docs_pages_are_off_by_default_and_the_document_stays(server: Api) -> None:
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        response = server.client.get(path)
        assert response.status_code == 404, path
        assert "cdn" not in response.text
    document = server.client.get("/openapi.json")
    assert document.status_code == 200 and document.json()["paths"]
    _assert_hardened(document)


def test_docs_pages_when_asked_for(tmp_path: Path) -> None:
    """``PARLEY_API_DOCS=true``: served, not framed, without the page policy that would
    stop their CDN script (the README says what enabling them costs)."""
    with running_server(tmp_path, workers=0, api_docs=True) as api:
        for path in ("/docs", "/redoc"):
            response = api.client.get(path)
            assert response.status_code == 200 and "openapi.json" in response.text
            _assert_hardened(response)
            assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
        _assert_page(api.client.get("/"))
