"""Scale-out on real infrastructure: PostgreSQL, a broker (Redis, and RabbitMQ), S3
storage (moto in server mode), an API process and two Celery workers.

Needs the local PostgreSQL (trust auth), Redis and RabbitMQ; marked ``services``.
Each run uses a fresh database, bucket and Celery queue name.
"""

from __future__ import annotations

import json
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
from tests.helpers import free_port, wer
from tests.s3 import S3Server, moto_server

pytestmark = [pytest.mark.services, pytest.mark.slow]

REDIS = os.environ.get("PARLEY_TEST_REDIS", "redis://127.0.0.1:6379/0")
RABBITMQ = os.environ.get("PARLEY_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")
BROKERS = {"redis": REDIS, "rabbitmq": RABBITMQ}


@dataclass
class Cluster:
    api: httpx.Client
    workers: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]
    s3: S3Server
    bucket: str
    health: str  # w1's /health, /ready, /metrics

    def wait(self, job_id: str, timeout: float = 240) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while (job := self.api.get(f"/v1/job/{job_id}").json())["status"] not in (
            "completed",
            "failed",
        ):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        return job


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with moto_server() as server:
        yield server


@pytest.fixture(params=list(BROKERS))
def cluster(
    request: pytest.FixtureRequest, tmp_path: Path, pg_database: str, s3: S3Server
) -> Iterator[Cluster]:
    from parley.health import check_broker

    broker = BROKERS[request.param]
    if (problem := check_broker(broker)) is not None:
        pytest.skip(f"{request.param}: {problem}")
    bucket = s3.new_bucket()
    health_port = free_port()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "models").symlink_to(MODEL_CACHE.resolve(), target_is_directory=True)
    port = free_port()
    env = (os.environ | s3.env) | {
        "PARLEY_QUEUE": "celery",
        "PARLEY_DATABASE_URL": pg_database,
        "PARLEY_BROKER_URL": broker,
        "PARLEY_STORAGE_URL": f"s3://{bucket}/fleet",
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
        with logs[name].open("wb") as log:  # the child has its own copy of the descriptor
            process = subprocess.Popen(
                [sys.executable, "-m", "parley", *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        return process

    spawn("api", "serve")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each cluster: <data dir>/metrics
    workers = {
        "w1": spawn("w1", "worker", "--hostname", "w1@%h", "--health-port", str(health_port)),
        "w2": spawn("w2", "worker", "--hostname", "w2@%h"),
    }
    base = f"http://127.0.0.1:{port}"
    try:
        token = wait_for_token(base)
    except httpx.HTTPError:
        pytest.fail(logs["api"].read_text())
    client = httpx.Client(base_url=base, headers={"x-api-key": token}, timeout=60)
    try:
        yield Cluster(client, workers, logs, s3, bucket, f"http://127.0.0.1:{health_port}")
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


def _metric(text: str, name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def test_two_workers_share_jobs_and_take_over_from_a_dead_one(
    cluster: Cluster, testdata: Path
) -> None:
    manifest = json.loads((testdata / "manifest.json").read_text())
    references = {e["audio"]: e["reference_text"] for e in manifest}
    files = sorted((testdata / "read/cmu_arctic").glob("*.wav"))[:6]
    jobs = []
    for path in files:
        response = cluster.api.post("/v1/process/audio", content=path.read_bytes())
        assert response.status_code == 201, response.text
        jobs.append((path, response.json()))
    said, heard = [], []
    for path, job in jobs:
        assert cluster.wait(job["jobId"])["status"] == "completed"
        messages = cluster.api.get(f"/v1/conversations/{job['conversationId']}/messages").json()[
            "messages"
        ]
        heard.append(" ".join(m["text"] for m in messages))
        said.append(references[path.relative_to(testdata).as_posix()])
    assert all(heard), heard
    assert wer(" ".join(said), " ".join(heard)) < 0.2, list(zip(said, heard, strict=True))
    runners = {name for _, job in jobs for name in _ran(cluster, job["jobId"])}
    assert runners == {"w1", "w2"}, "both workers took jobs"
    keys = set(cluster.s3.objects(cluster.bucket))
    assert keys == {f"fleet/{j['conversationId']}/{j['jobId']}" for _, j in jobs}

    # The worker with a health port is ready (database, broker, models).
    ready = httpx.get(cluster.health + "/ready", timeout=60)
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) == {"database", "broker", "models"}

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

    # Every process writes its metrics to the shared directory; the API adds them up.
    scraped = cluster.api.get("/metrics").text
    assert _metric(scraped, "parley_jobs_finished_total", status="completed") >= 7
    assert _metric(scraped, "parley_jobs", status="completed") == 7
    assert _metric(scraped, "parley_job_stage_seconds_count", stage="speech") >= 7

    # DELETE leaves no object behind.
    for _, j in [*jobs, (long, submitted)]:
        answer = cluster.api.delete(f"/v1/conversations/{j['conversationId']}")
        assert answer.status_code == 200, answer.text
    assert cluster.s3.objects(cluster.bucket) == []
    assert cluster.s3.pending_uploads(cluster.bucket) == []
