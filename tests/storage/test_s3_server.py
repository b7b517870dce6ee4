"""A server whose audio lives in S3 (moto): upload in parts, transcribe from the store,
DELETE leaves no object."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Api, running_server
from tests.helpers import wer
from tests.s3 import S3Server


@pytest.fixture(scope="module")
def s3_api(
    tmp_path_factory: pytest.TempPathFactory, s3: S3Server
) -> Iterator[tuple[Api, str, Path]]:
    """One server for the module (its worker loads the models once): each test leaves
    its bucket empty, as it found it."""
    bucket = s3.new_bucket()
    path = tmp_path_factory.mktemp("s3-server")
    with running_server(
        path, storage_url=f"s3://{bucket}/audio", max_upload_bytes=40 * 1024 * 1024
    ) as api:
        yield api, bucket, path


def test_audio_in_s3_is_transcribed_and_deleted(
    s3_api: tuple[Api, str, Path], s3: S3Server, testdata: Path
) -> None:
    api, bucket, data = s3_api
    manifest = json.loads((testdata / "manifest.json").read_text())
    entry = next(e for e in manifest if e["audio"].startswith("read/cmu_arctic/"))
    job = api.submit_file(testdata / entry["audio"])
    assert s3.objects(bucket) == [f"audio/{job['conversationId']}/{job['jobId']}"]
    assert not any(data.rglob("*.wav")) and not (data / "audio").exists()
    assert api.wait(job["jobId"])["status"] == "completed"
    messages = api.get(f"/v1/conversations/{job['conversationId']}/messages").json()["messages"]
    text = " ".join(m["text"] for m in messages)
    assert wer(entry["reference_text"], text) < 0.3, text

    assert api.request("DELETE", f"/v1/conversations/{job['conversationId']}").status_code == 200
    assert s3.objects(bucket) == []


def test_a_rejected_upload_leaves_no_object(s3_api: tuple[Api, str, Path], s3: S3Server) -> None:
    api, bucket, _ = s3_api
    answer = api.request("POST", "/v1/process/audio", content=b"not audio at all" * 100000)
    assert answer.status_code == 400, answer.text
    assert "message" in answer.json()
    assert s3.objects(bucket) == [] and s3.pending_uploads(bucket) == []
