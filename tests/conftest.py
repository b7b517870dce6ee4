"""Shared fixtures: the speech test data, and a real Parley server on a free port."""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.waiting import until

REPO = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("PARLEY_TESTDATA", REPO.parent / "shared" / "testdata"))
MODEL_CACHE = Path(os.environ.get("PARLEY_TEST_MODEL_CACHE", REPO / "parley-data" / "models"))
APP_ID, APP_SECRET = "test-app", "test-secret"
PG_ADMIN = os.environ.get("PARLEY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# The suite's media servers and webhook receivers listen on loopback, which the outbound
# guard refuses by default; tests of the guard itself clear this in their own settings.
os.environ.setdefault("PARLEY_OUTBOUND_ALLOW", "127.0.0.0/8,::1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each schemathesis case its own node id (``test…[GET /v1/…]``, as its name already is).

    schemathesis 4 gives every operation's test the function's bare node id; pytest-xdist's
    file-by-file scheduler keys its work by node id, so all 103 operations collapsed into one.
    """
    for item in items:
        if "[" in item.name and item.nodeid.endswith(f"::{item.name.partition('[')[0]}"):
            assert item.parent is not None
            item._id = item.parent._id.child(item.name)  # what pytest gives a parametrized test


@pytest.fixture()
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database (local server, trust auth), dropped afterwards."""
    import psycopg

    name = f"parley_test_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def testdata() -> Path:
    """The shared speech test data (never copied into the repo)."""
    if not (TESTDATA / "MANIFEST.md").exists():
        pytest.skip(f"speech test data not found at {TESTDATA} (set PARLEY_TESTDATA)")
    return TESTDATA


@pytest.fixture(scope="session")
def models() -> Any:
    """One set of models for the whole test session (loaded on first use)."""
    from parley.pipeline.models import Models

    return Models(cache_dir=MODEL_CACHE)


@dataclass
class Api:
    """A client for a running server, with the calls tests repeat."""

    base_url: str
    services: Any
    client: httpx.Client = field(init=False)
    _token: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=60)

    def token(self) -> str:
        if self._token is None:
            response = self.client.post(
                "/oauth2/token:generate",
                json={"type": "application", "appId": APP_ID, "appSecret": APP_SECRET},
            )
            response.raise_for_status()
            self._token = response.json()["accessToken"]
        return self._token

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def submit_file(
        self,
        path: Path,
        params: dict[str, Any] | None = None,
        *,
        conversation_id: str | None = None,
        content_type: str = "",
    ) -> dict[str, str]:
        url = "/v1/process/audio" + (f"/{conversation_id}" if conversation_id else "")
        response = self.request(
            "PUT" if conversation_id else "POST",
            url,
            params=params or {},
            content=path.read_bytes(),
            headers={"Content-Type": content_type},
        )
        assert response.status_code == 201, response.text
        return response.json()

    def wait(self, job_id: str, timeout: float = 180) -> dict[str, Any]:
        """The job once it has ended (completed or failed), read over HTTP."""
        return wait_for_job(self.client, job_id, self.auth, timeout)


def wait_for_job(
    client: httpx.Client, job_id: str, headers: dict[str, str], timeout: float = 180
) -> dict[str, Any]:
    """``GET /v1/job/{id}`` until the job has ended; its last answer."""

    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = client.get(f"/v1/job/{job_id}", headers=headers).json()
        return job if job["status"] in ("completed", "failed") else None

    return until(ended, timeout=timeout, what=f"job {job_id} did not end")


def wait_for_token(base_url: str, timeout: float = 60) -> str:
    """Poll a starting server until it issues a token for the test app."""

    def token() -> str:
        response = httpx.post(
            f"{base_url}/oauth2/token:generate", json={"appId": APP_ID, "appSecret": APP_SECRET}
        )
        return str(response.json()["accessToken"])

    return until(
        token,
        timeout=timeout,
        what=f"no token from {base_url}",
        ignore=(httpx.HTTPError, KeyError, ValueError),
    )


def start_server(app: Any) -> tuple[Any, threading.Thread, str]:
    """Run an ASGI app under uvicorn on a free loopback port, in a thread."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    until(lambda: server.started or not thread.is_alive(), timeout=30, what="no server started")
    if not server.started:
        raise RuntimeError("the test server did not start")
    return server, thread, f"http://127.0.0.1:{port}"


def data_dir(path: Path) -> Path:
    """A data dir whose model cache is the shared one, so worker processes of test servers
    do not assemble the bundled Whisper model again."""
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    (path / "models").symlink_to(MODEL_CACHE.resolve(), target_is_directory=True)
    return path


@contextmanager
def running_server(path: Path, **settings: Any) -> Iterator[Api]:
    """A real Parley server on ``path`` (its model cache shared), with these settings over
    the test app's credentials; stopped, workers included, when the block ends."""
    from parley.api.app import create_app
    from parley.config import Settings
    from parley.services import build_services

    # models load at their first use: most servers of the suite never hear audio
    settings.setdefault("warm_models", False)
    config = Settings(data_dir=data_dir(path), app_id=APP_ID, app_secret=APP_SECRET, **settings)
    services = build_services(config)
    server, thread, url = start_server(create_app(config, services=services))
    client = Api(url, services)
    try:
        yield client
    finally:
        client.client.close()
        server.should_exit = True
        thread.join(60)


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A real Parley server (SQLite, local files, one worker child process). Webhook
    retries come 50, 100, 200 ms apart: a test of the delivery log waits out all of them."""
    with running_server(
        tmp_path_factory.mktemp("parley"),
        workers=1,
        webhook_backoff_seconds=0.05,
        webhook_max_attempts=4,
        max_upload_bytes=40 * 1024 * 1024,
    ) as client:
        yield client


@pytest.fixture(scope="session")
def phone_call(api: Api, testdata: Path) -> dict[str, str]:
    """The pyannote 2-speaker phone call, processed with diarization: once for the
    session, read (never changed) by the speaker tests and the console's."""
    created = api.submit_file(
        testdata / "diarization" / "pyannote_sample" / "sample.wav",
        {"name": "Phone call", "enableSpeakerDiarization": "true", "diarizationSpeakerCount": "2"},
        content_type="audio/wav",
    )
    job = api.wait(created["jobId"])
    assert job["status"] == "completed", job
    return created
