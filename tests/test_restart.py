"""Jobs survive a crash: kill the server mid-job, start it again, the job completes once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import APP_ID, APP_SECRET, MODEL_CACHE, wait_for_token
from tests.helpers import free_port
from tests.waiting import until

pytestmark = pytest.mark.slow

LONG = "phone_8k/asterisk_allison/demo-instruct.wav"  # 73 s: long enough to kill mid-run


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_APP_ID": APP_ID,
        "PARLEY_APP_SECRET": APP_SECRET,
        "PARLEY_PORT": str(port),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "parley", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _client(port: int) -> httpx.Client:
    base = f"http://127.0.0.1:{port}"
    return httpx.Client(base_url=base, headers={"x-api-key": wait_for_token(base)}, timeout=60)


def test_job_interrupted_by_a_crash_runs_again(tmp_path: Path, testdata: Path) -> None:
    (tmp_path / "models").symlink_to(MODEL_CACHE.resolve(), target_is_directory=True)
    port = free_port()
    server = _serve(tmp_path, port)
    try:
        client = _client(port)
        submitted = client.post("/v1/process/audio", content=(testdata / LONG).read_bytes())
        assert submitted.status_code == 201
        job_url = f"/v1/job/{submitted.json()['jobId']}"
        deadline = time.monotonic() + 60
        while client.get(job_url).json()["status"] != "in_progress":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        client.close()

        server = _serve(tmp_path, port)
        with _client(port) as client:
            assert client.get(job_url).json()["status"] in ("scheduled", "in_progress")
            job = until(
                lambda: (
                    (j := client.get(job_url).json())["status"] in ("completed", "failed") and j
                ),
                timeout=180,
                what="the interrupted job did not finish after the restart",
            )
            assert job["status"] == "completed"
            cid = submitted.json()["conversationId"]
            messages = client.get(f"/v1/conversations/{cid}/messages").json()["messages"]
        texts = [m["text"] for m in messages]
        assert len(texts) >= 5 and len(texts) == len(set(texts)), "stored once, not twice"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
