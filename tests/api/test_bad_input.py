"""Bad input: a clear Symbl-shaped error or a failed job with a reason; nothing half-done."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Api
from tests.helpers import silent_wav

LIBRI = "read/librispeech/1272-128104-0000.wav"


def _post(api: Api, content: bytes, content_type: str = "", **params: str) -> tuple[int, dict]:
    response = api.request(
        "POST",
        "/v1/process/audio",
        content=content,
        params=params,
        headers={"Content-Type": content_type},
    )
    return response.status_code, response.json()


def test_empty_body(api: Api) -> None:
    status, body = _post(api, b"")
    assert status == 400 and "empty" in body["message"]


def test_text_file_named_wav(api: Api, tmp_path: Path) -> None:
    status, body = _post(api, b"this is not audio\n" * 100, "audio/wav")
    assert status == 400 and "not audio" in body["message"]


def test_zero_second_wav(api: Api, tmp_path: Path) -> None:
    status, body = _post(api, silent_wav(tmp_path / "empty.wav", 0).read_bytes())
    assert status == 400 and "no audio" in body["message"]


def test_unsupported_content_type(api: Api, testdata: Path) -> None:
    status, body = _post(api, (testdata / LIBRI).read_bytes(), "application/json")
    assert status == 400 and "Content-Type" in body["message"]


def test_invalid_option_is_named(api: Api, testdata: Path) -> None:
    status, body = _post(api, (testdata / LIBRI).read_bytes(), confidenceThreshold="7")
    assert status == 400 and "confidenceThreshold" in body["message"]


def test_too_large(api: Api) -> None:
    limit = api.services.settings.max_upload_bytes
    status, body = _post(api, os.urandom(1024) * (limit // 1024 + 1))
    assert status == 413 and "limit" in body["message"]


def test_truncated_audio_keeps_what_was_received(api: Api, testdata: Path) -> None:
    data = (testdata / LIBRI).read_bytes()
    status, body = _post(api, data[: len(data) // 2])  # header still claims the full length
    assert status == 201
    job = api.wait(body["jobId"])
    assert job["status"] == "completed"
    messages = api.get(f"/v1/conversations/{body['conversationId']}/messages").json()
    words = " ".join(m["text"] for m in messages["messages"]).lower()
    assert "quilter" in words or "apostle" in words or "middle" in words
    conversation = api.get(f"/v1/conversations/{body['conversationId']}").json()
    assert conversation["endTime"] > conversation["startTime"]


def test_garbage_after_a_valid_header(api: Api, testdata: Path) -> None:
    data = (testdata / "read/jfk/jfk.flac").read_bytes()
    corrupt = data[:8192] + os.urandom(len(data) - 8192)
    status, body = _post(api, corrupt)
    if status == 201:  # accepted: it must end failed with a reason, or completed, never hang
        job = api.wait(body["jobId"])
        assert job["status"] in ("failed", "completed")
        if job["status"] == "failed":
            assert job["reason"]
    else:
        assert status == 400 and body["message"]


def test_unknown_ids_are_404(api: Api, testdata: Path) -> None:
    response = api.request(
        "PUT", "/v1/process/audio/1234567890123456", content=(testdata / LIBRI).read_bytes()
    )
    assert response.status_code == 404
    assert "could not be found" in response.json()["message"]
    for path in (
        "/v1/conversations/1234567890123456",
        "/v1/conversations/1/messages",
        "/v1/job/not-a-job",
    ):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["message"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({}, '"url" is required'),
        ({"url": "not a url"}, '"url"'),
        ({"url": "ftp://x/y.wav"}, '"url"'),
        ({"url": "http://127.0.0.1/a.wav", "languageCode": 5}, '"languageCode"'),
    ],
)
def test_url_body_validation(api: Api, body: dict, needle: str) -> None:
    response = api.request("POST", "/v1/process/audio/url", json=body)
    assert response.status_code == 400 and needle in response.json()["message"]


def test_invalid_json_and_text_bodies(api: Api) -> None:
    response = api.request(
        "POST",
        "/v1/process/text",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and "JSON" in response.json()["message"]
    for body, needle in (
        ({"messages": []}, '"messages"'),
        ({"messages": [{"payload": {}}]}, "payload.content"),
        (
            {"messages": [{"payload": {"content": "hi"}, "duration": {"startTime": "yesterday"}}]},
            "startTime",
        ),
    ):
        response = api.request("POST", "/v1/process/text", json=body)
        assert response.status_code == 400 and needle in response.json()["message"]


def test_unknown_route_and_method_are_symbl_shaped(api: Api) -> None:
    response = api.get("/v1/nothing-here")
    assert response.status_code == 404 and "message" in response.json()
    response = api.request("DELETE", "/v1/process/audio")
    assert response.status_code == 405 and "message" in response.json()
