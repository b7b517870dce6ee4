"""Scale-out on real infrastructure: PostgreSQL, Redis, an API process and two Celery workers.

Needs the local PostgreSQL (trust auth) and Redis; marked ``services``. Each
run uses a fresh database and its own Celery queue name.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import APP_ID, APP_SECRET, MODEL_CACHE, wait_for_token
from tests.helpers import free_port

pytestmark = [pytest.mark.services, pytest.mark.slow]

REDIS = os.environ.get("PARLEY_TEST_REDIS", "redis://127.0.0.1:6379/0")


@dataclass
class Cluster:
    api: httpx.Client
    workers: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]

    def wait(self, job_id: str, timeout: float = 240) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while (job := self.api.get(f"/v1/job/{job_id}").json())["status"] not in (
            "completed",
            "failed",
        ):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        return job


@pytest.fixture()
def cluster(tmp_path: Path, pg_database: str) -> Iterator[Cluster]:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "models").symlink_to(MODEL_CACHE.resolve(), target_is_directory=True)
    port = free_port()
    env = os.environ | {
        "PARLEY_QUEUE": "celery",
        "PARLEY_DATABASE_URL": pg_database,
        "PARLEY_BROKER_URL": REDIS,
        "PARLEY_CELERY_QUEUE_NAME": f"parley-test-{secrets.token_hex(4)}",
        "PARLEY_DATA_DIR": str(tmp_path / "data"),
        "PARLEY_JWT_SECRET": secrets.token_hex(32),
        "PARLEY_APP_ID": APP_ID,
        "PARLEY_APP_SECRET": APP_SECRET,
        "PARLEY_PORT": str(port),
        # short leases so a killed worker's job is taken over within seconds
        "PARLEY_CELERY_VISIBILITY_TIMEOUT": "6",
        "PARLEY_JOB_STALE_SECONDS": "3",
        "PARLEY_JOB_HEARTBEAT_SECONDS": "0.5",
    }
    processes: list[subprocess.Popen[bytes]] = []
    logs: dict[str, Path] = {}

    def spawn(name: str, *args: str) -> subprocess.Popen[bytes]:
        logs[name] = tmp_path / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "parley", *args],
            env=env,
            stdout=logs[name].open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    spawn("api", "serve")
    workers = {name: spawn(name, "worker", "--hostname", f"{name}@%h") for name in ("w1", "w2")}
    base = f"http://127.0.0.1:{port}"
    try:
        token = wait_for_token(base)
    except httpx.HTTPError:
        pytest.fail(logs["api"].read_text())
    client = httpx.Client(base_url=base, headers={"x-api-key": token}, timeout=60)
    try:
        yield Cluster(client, workers, logs)
    finally:
        client.close()
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def _ran(cluster: Cluster, job_id: str) -> list[str]:
    return [n for n, log in cluster.logs.items() if f"job {job_id} started" in log.read_text()]


def test_two_workers_share_jobs_and_take_over_from_a_dead_one(
    cluster: Cluster, testdata: Path
) -> None:
    files = sorted((testdata / "read/cmu_arctic").glob("*.wav"))[:6]
    jobs = []
    for path in files:
        response = cluster.api.post("/v1/process/audio", content=path.read_bytes())
        assert response.status_code == 201, response.text
        jobs.append(response.json())
    for job in jobs:
        assert cluster.wait(job["jobId"])["status"] == "completed"
        messages = cluster.api.get(f"/v1/conversations/{job['conversationId']}/messages").json()[
            "messages"
        ]
        assert messages and messages[0]["text"]
    runners = {name for job in jobs for name in _ran(cluster, job["jobId"])}
    assert runners == {"w1", "w2"}, "both workers took jobs"

    # Kill the worker running a long job; the other one finishes it.
    long = testdata / "phone_8k/asterisk_allison/demo-instruct.wav"
    submitted = cluster.api.post("/v1/process/audio", content=long.read_bytes()).json()
    deadline = time.monotonic() + 60
    while not (running := _ran(cluster, submitted["jobId"])):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    (victim,) = running
    cluster.workers[victim].send_signal(signal.SIGKILL)
    cluster.workers[victim].wait(10)
    job = cluster.wait(submitted["jobId"], timeout=300)
    assert job["status"] == "completed"
    survivor = ({"w1", "w2"} - {victim}).pop()
    assert survivor in _ran(cluster, submitted["jobId"])
    messages = cluster.api.get(f"/v1/conversations/{submitted['conversationId']}/messages").json()[
        "messages"
    ]
    texts = [m["text"] for m in messages]
    assert len(texts) >= 5 and len(texts) == len(set(texts))
