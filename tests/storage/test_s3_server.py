"""A server whose audio lives in S3 (moto): upload in parts, transcribe from the store,
DELETE leaves no object."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import APP_ID, APP_SECRET, Api, data_dir, start_server
from tests.helpers import wer
from tests.s3 import S3Server


@pytest.fixture()
def s3_api(tmp_path: Path, s3: S3Server) -> Iterator[tuple[Api, str]]:
    from parley.api.app import create_app
    from parley.config import Settings
    from parley.services import build_services

    bucket = s3.new_bucket()
    settings = Settings(
        data_dir=data_dir(tmp_path),
        storage_url=f"s3://{bucket}/audio",
        app_id=APP_ID,
        app_secret=APP_SECRET,
        max_upload_bytes=40 * 1024 * 1024,
    )
    services = build_services(settings)
    server, thread, url = start_server(create_app(settings, services=services))
    yield Api(url, services), bucket
    server.should_exit = True
    thread.join(30)


def test_audio_in_s3_is_transcribed_and_deleted(
    s3_api: tuple[Api, str], s3: S3Server, testdata: Path, tmp_path: Path
) -> None:
    api, bucket = s3_api
    manifest = json.loads((testdata / "manifest.json").read_text())
    entry = next(e for e in manifest if e["audio"].startswith("read/cmu_arctic/"))
    job = api.submit_file(testdata / entry["audio"])
    assert s3.objects(bucket) == [f"audio/{job['conversationId']}/{job['jobId']}"]
    assert not any(tmp_path.rglob("*.wav")) and not (tmp_path / "audio").exists()
    assert api.wait(job["jobId"])["status"] == "completed"
    messages = api.get(f"/v1/conversations/{job['conversationId']}/messages").json()["messages"]
    text = " ".join(m["text"] for m in messages)
    assert wer(entry["reference_text"], text) < 0.3, text

    assert api.request("DELETE", f"/v1/conversations/{job['conversationId']}").status_code == 200
    assert s3.objects(bucket) == []


def test_a_rejected_upload_leaves_no_object(s3_api: tuple[Api, str], s3: S3Server) -> None:
    api, bucket = s3_api
    answer = api.request("POST", "/v1/process/audio", content=b"not audio at all" * 100000)
    assert answer.status_code == 400, answer.text
    assert "message" in answer.json()
    assert s3.objects(bucket) == [] and s3.pending_uploads(bucket) == []
