"""Workers that survive: jobs run in supervised child processes of the server.

A worker that dies (here: SIGKILL while it runs a job, as a segfault or the OOM killer
would) is replaced, its job runs again, and after ``job_max_attempts`` deaths the job ends
``failed`` with a reason while the conversation's later jobs go on. Two servers sharing one
database run each job once, whichever of them restarts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    APP_ID,
    APP_SECRET,
    Api,
    data_dir,
    running_server,
    wait_for_token,
)
from tests.helpers import free_port
from tests.receiver import receiver

pytestmark = pytest.mark.slow

LONG = "phone_8k/asterisk_allison/demo-instruct.wav"  # 73 s
SHORT = "phone_8k/asterisk_allison/conf-adminmenu-18.wav"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Api]:
    with running_server(tmp_path, job_max_attempts=2, queue_reap_seconds=1.0) as api:
        yield api


def _status(api: Api, job_id: str) -> str:
    return str(api.get(f"/v1/job/{job_id}").json()["status"])


def test_a_job_that_kills_its_worker_ends_failed_and_the_next_runs(
    server: Api, testdata: Path
) -> None:
    doomed = server.submit_file(testdata / LONG)
    cid = doomed["conversationId"]
    after = server.submit_file(testdata / SHORT, conversation_id=cid)
    kills = 0
    deadline = time.monotonic() + 300
    while _status(server, doomed["jobId"]) != "failed":
        assert time.monotonic() < deadline, "the crashing job never ended"
        queue = server.services.queue.status()
        if _status(server, doomed["jobId"]) == "in_progress" and queue["pids"]:
            os.kill(queue["pids"][0], signal.SIGKILL)  # what a segfault does to the worker
            kills += 1
            while server.services.queue.status()["pids"] == queue["pids"]:
                time.sleep(0.1)
            ready = server.client.get("/ready")  # the replacement is still loading its models
            assert ready.status_code == 503, ready.text
            assert "replaced after dying" in ready.json()["checks"]["workers"]
        time.sleep(0.2)
    job = server.get(f"/v1/job/{doomed['jobId']}").json()
    assert kills == 2
    assert "gave up" in job["reason"] and "2 times" in job["reason"], job["reason"]
    # the server kept answering, replaced its worker, and the conversation went on
    assert server.wait(after["jobId"], timeout=240)["status"] == "completed"
    status = server.services.queue.status()
    assert status["restarts"] == 2 and status["alive"] == 1
    assert server.client.get("/ready").status_code == 200
    messages = server.get(f"/v1/conversations/{cid}/messages").json()["messages"]
    assert messages, "the later job's transcript is stored"


def _serve(data: Path, port: int, hook: str | None = None) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "PARLEY_DATA_DIR": str(data),
        "PARLEY_APP_ID": APP_ID,
        "PARLEY_APP_SECRET": APP_SECRET,
        "PARLEY_PORT": str(port),
        "PARLEY_JWT_SECRET": "shared-test-secret",
        "PARLEY_OUTBOUND_ALLOW": "127.0.0.0/8",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "parley", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_two_servers_on_one_database_run_a_job_once(tmp_path: Path, testdata: Path) -> None:
    """Restarting one server mid-job (normally, or one that fails to bind) never resets the
    other's running job: it is stored once and its webhook says ``completed`` once."""
    data = data_dir(tmp_path)
    ports = [free_port(), free_port()]
    servers = [_serve(data, ports[0]), _serve(data, ports[1])]
    try:
        base = [f"http://127.0.0.1:{p}" for p in ports]
        token = wait_for_token(base[0])
        wait_for_token(base[1])
        client = httpx.Client(base_url=base[0], headers={"x-api-key": token}, timeout=60)
        with client, receiver() as hook:
            submitted = client.post(
                "/v1/process/audio",
                params={"webhookUrl": hook.url},
                content=(testdata / LONG).read_bytes(),
            ).json()
            job_url = f"/v1/job/{submitted['jobId']}"
            deadline = time.monotonic() + 120
            while client.get(job_url).json()["status"] != "in_progress":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            # a third server that cannot bind its port starts and exits
            clash = _serve(data, ports[0])
            assert clash.wait(120) != 0
            # restart the second server normally, mid-job
            servers[1].send_signal(signal.SIGTERM)
            servers[1].wait(60)
            servers[1] = _serve(data, ports[1])
            wait_for_token(base[1])
            deadline = time.monotonic() + 300
            while (job := client.get(job_url).json())["status"] not in ("completed", "failed"):
                assert time.monotonic() < deadline
                time.sleep(0.3)
            assert job["status"] == "completed"
            cid = submitted["conversationId"]
            texts = [
                m["text"]
                for m in client.get(f"/v1/conversations/{cid}/messages").json()["messages"]
            ]
            assert texts and len(texts) == len(set(texts)), "stored once, not twice"
            deadline = time.monotonic() + 30
            while "completed" not in [b["status"] for b in hook.bodies()]:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            time.sleep(2)
            assert [b["status"] for b in hook.bodies()].count("completed") == 1
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(60)
