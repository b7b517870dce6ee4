"""/health, /ready and /metrics on a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from tests.conftest import Api, running_server, wait_for_job
from tests.helpers import silent_wav
from tests.server import parley_serve
from tests.waiting import until


def _samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_health_answers_without_a_token(api: Api) -> None:
    answer = api.client.get("/health")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_ready_checks_the_database_schema(api: Api) -> None:
    def ready() -> httpx.Response | None:  # the worker process loads its models first
        answer = api.client.get("/ready")
        if answer.status_code == 200:
            return answer
        assert "worker processes ready" in answer.json()["checks"]["workers"], answer.text
        return None

    answer = until(ready, timeout=120, what="never ready")
    assert answer.json()["checks"] == {"database": "ok", "workers": "ok"}
    engine = api.services.storage.engine
    with engine.begin() as connection:
        (current,) = connection.execute(text("SELECT version_num FROM alembic_version")).one()
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        answer = api.client.get("/ready")
        assert answer.status_code == 503
        assert "schema" in answer.json()["message"]
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
    assert api.client.get("/ready").status_code == 200


def test_metrics_count_jobs_stages_and_requests(tmp_path: Path) -> None:
    """Against `parley serve` as started in production: jobs run in worker child processes
    and the metrics of all processes are added up (multiprocess mode)."""
    with (
        parley_serve(tmp_path) as served,
        httpx.Client(
            base_url=served.base, headers={"x-api-key": served.token}, timeout=60
        ) as client,
    ):
        wav = silent_wav(tmp_path / "quiet.wav", 1.5)
        jobs = [
            client.post("/v1/process/audio", content=wav.read_bytes()).json(),
            client.post(
                "/v1/process/text", json={"messages": [{"payload": {"content": "Hello there."}}]}
            ).json(),
        ]
        for job in jobs:
            assert wait_for_job(client, job["jobId"], {}, timeout=120)["status"] == "completed"
        answer = client.get("/metrics")
        assert (served.data / "metrics").is_dir()
    assert answer.headers["content-type"].startswith("text/plain")
    after = _samples(answer.text)
    assert _value(after, "parley_jobs_finished_total", status="completed") == 2
    assert _value(after, "parley_job_seconds_count", status="completed") == 2
    stages = sum(
        _value(after, "parley_job_stage_seconds_sum", stage=stage)
        for stage in ("decode", "speech", "insights")
    )
    assert _value(after, "parley_job_seconds_sum", status="completed") >= stages
    for stage in ("decode", "speech", "insights"):
        assert _value(after, "parley_job_stage_seconds_count", stage=stage) >= 1, stage
        assert _value(after, "parley_job_stage_seconds_sum", stage=stage) > 0, stage
    assert _value(after, "parley_job_audio_seconds_sum", stage="decode") == pytest.approx(
        1.5, abs=0.05
    )
    polls = _value(
        after, "parley_http_requests_total", method="GET", route="/v1/job/{job_id}", status="200"
    )
    assert polls >= 2  # by route template, not by id
    assert not any(job["jobId"] in str(labels) for _, labels in after for job in jobs)
    assert _value(after, "parley_jobs", status="completed") == 2
    assert _value(after, "parley_queue_depth") == 0
    assert _value(after, "parley_model_load_seconds", model="whisper") > 0


@pytest.fixture()
def pg_api(tmp_path: Path, pg_database: str) -> Iterator[tuple[Api, str]]:
    with running_server(tmp_path, database_url=pg_database, workers=0) as api:
        yield api, pg_database.rsplit("/", 1)[1]


@pytest.mark.services
def test_ready_fails_while_the_database_is_down_and_recovers(pg_api: tuple[Api, str]) -> None:
    import psycopg

    from tests.conftest import PG_ADMIN

    api, name = pg_api
    assert api.client.get("/ready").status_code == 200
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        try:
            answer = api.client.get("/ready")
            assert answer.status_code == 503, answer.text
            assert answer.json()["checks"]["database"].startswith("database unreachable")
            assert "message" in answer.json()
            assert api.client.get("/health").status_code == 200, "alive while not ready"
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    answer = api.client.get("/ready")
    assert answer.status_code == 200, answer.text


def test_ready_names_an_unreachable_broker() -> None:
    from parley.health import check_broker

    problem = check_broker("redis://127.0.0.1:9/0", timeout=0.5)
    assert problem is not None and problem.startswith("broker unreachable")
    assert check_broker("redis://127.0.0.1:6379/0") in (None, problem)  # up here, or absent
