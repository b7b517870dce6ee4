"""Job lifecycle over HTTP: webhooks on every change, the concurrency limit, FIFO order."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Api, running_server
from tests.receiver import receiver

ARCTIC = "read/cmu_arctic/cmu_arctic_us_aew_a0002.wav"


def test_webhook_gets_every_status_change(api: Api, testdata: Path) -> None:
    with receiver(fail_first=1) as hook:
        submitted = api.submit_file(testdata / ARCTIC, {"webhookUrl": hook.url})
        assert api.wait(submitted["jobId"])["status"] == "completed"
        bodies = hook.wait_for(3)
    assert [b["status"] for b in bodies] == ["scheduled", "in_progress", "completed"]
    for body in bodies:
        assert body == {
            "jobId": submitted["jobId"],
            "id": submitted["jobId"],
            "status": body["status"],
            "conversationId": submitted["conversationId"],
        }


def test_failed_job_webhook(api: Api) -> None:
    with receiver() as hook:
        response = api.request(
            "POST",
            "/v1/process/audio/url",
            json={"url": "http://127.0.0.1:9/x.wav", "webhookUrl": hook.url},
        )
        job = api.wait(response.json()["jobId"])
        assert job["status"] == "failed"
        assert [b["status"] for b in hook.wait_for(3)] == ["scheduled", "in_progress", "failed"]


@pytest.fixture()
def idle_server(tmp_path: Path) -> Iterator[Api]:
    """A server whose workers are off, with a limit of 2 concurrent jobs."""
    with running_server(tmp_path, workers=0, max_concurrent_jobs=2) as server:
        yield server


def test_concurrency_limit_is_429_and_nothing_is_dropped(idle_server: Api, testdata: Path) -> None:
    first = idle_server.submit_file(testdata / ARCTIC)
    second = idle_server.submit_file(testdata / ARCTIC)
    response = idle_server.request(
        "POST", "/v1/process/audio", content=(testdata / ARCTIC).read_bytes()
    )
    assert response.status_code == 429
    body = response.json()
    assert body["statusCode"] == 429 and "`2`" in body["message"]
    for submitted in (first, second):
        job = idle_server.get(f"/v1/job/{submitted['jobId']}").json()
        assert job["status"] == "scheduled"
    # a worker coming up drains what was accepted, in order
    from parley.jobs.queue import LocalQueue
    from parley.services import build_worker_runner

    services = idle_server.services
    queue = LocalQueue(
        settings=services.settings,
        storage=services.storage,
        webhooks=services.webhooks,
        factory=build_worker_runner,
        workers=1,
    )
    assert not queue.join(0.1), "nothing drains the queue yet"
    queue.start()
    try:
        assert queue.join(240), "woken as the jobs end"
        for submitted in (first, second):
            job = idle_server.get(f"/v1/job/{submitted['jobId']}").json()
            assert job["status"] == "completed", job
    finally:
        queue.stop()
    again = idle_server.request(
        "POST", "/v1/process/audio", content=(testdata / ARCTIC).read_bytes()
    )
    assert again.status_code == 201


def test_jobs_of_one_conversation_run_in_submission_order(api: Api, testdata: Path) -> None:
    first = api.submit_file(testdata / "read/librispeech/1089-134686-0000.flac")
    cid = first["conversationId"]
    later = [api.submit_file(testdata / ARCTIC, conversation_id=cid) for _ in range(2)]
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + 120
    jobs = [first, *later]
    while time.monotonic() < deadline:
        # Poll later jobs first: if a later job has started, the earlier one,
        # read after it, must already be complete.
        statuses = [api.get(f"/v1/job/{j['jobId']}").json()["status"] for j in reversed(jobs)]
        statuses.reverse()
        seen.append(tuple(statuses))
        if all(s == "completed" for s in statuses):
            break
        time.sleep(0.05)
    for snapshot in seen:  # a later job never runs before an earlier one is done
        for earlier, later_status in itertools.pairwise(snapshot):
            if later_status != "scheduled":
                assert earlier == "completed", snapshot
    assert seen[-1] == ("completed",) * 3


def test_status_polls_answer_while_a_writer_holds_the_database(api: Api, testdata: Path) -> None:
    """On SQLite the poll reads on the event loop; WAL means no writer can make it wait."""
    import sqlite3

    submitted = api.submit_file(testdata / ARCTIC)
    assert api.wait(submitted["jobId"])["status"] == "completed"
    path = api.services.storage.engine.url.database
    writer = sqlite3.connect(path, timeout=1, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # the write lock, held across the polls
        writer.execute("UPDATE jobs SET progress = progress WHERE id = ?", (submitted["jobId"],))
        started = time.monotonic()
        for _ in range(20):
            answer = api.get(f"/v1/job/{submitted['jobId']}")
            assert answer.status_code == 200 and answer.json()["status"] == "completed"
        assert time.monotonic() - started < 5  # 20 polls: milliseconds, never a lock wait
        assert api.get("/v1/job/no-such-job").status_code == 404
    finally:
        writer.execute("ROLLBACK")
        writer.close()
