"""Secrets: no token stored, owner-only files, even timing, failed-attempt limits."""

from __future__ import annotations

import logging
import os
import stat
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from parley.api.app import create_app
from parley.auth import FailureLimiter, Tokens
from parley.config import Settings
from parley.errors import TooManyRequests, Unauthorized
from parley.services import build_services, build_storage
from parley.storage import apps as apps_store
from parley.storage.models import App
from tests.conftest import APP_ID, APP_SECRET, start_server


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Any, Path]]:
    data = tmp_path / "fresh"
    settings = Settings(
        data_dir=data, app_id=APP_ID, app_secret=APP_SECRET, workers=0, token_failures_per_minute=3
    )
    services = build_services(settings)
    srv, thread, url = start_server(create_app(settings, services=services))
    yield url, services, data
    srv.should_exit = True
    thread.join(30)


def _token(url: str, app_id: str = APP_ID, secret: str = APP_SECRET) -> httpx.Response:
    return httpx.post(
        f"{url}/oauth2/token:generate", json={"appId": app_id, "appSecret": secret}, timeout=60
    )


def test_files_are_owner_only(server: tuple[str, Any, Path]) -> None:
    _, _, data = server
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("parley.db", "jwt_secret"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name


def test_parley_serve_makes_the_data_dir_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``parley serve`` makes ``<data dir>/metrics`` before the storage exists, which left
    the data directory 0755."""
    from parley import cli

    data = tmp_path / "fresh"
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    old_umask = os.umask(0o022)
    try:
        cli._metrics_dir(Settings(data_dir=data))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "metrics").stat().st_mode) == 0o700


def test_an_open_data_dir_is_made_owner_only_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A data directory an earlier version left 0755 is made 0700 at start, with a log line;
    the directory an audio store lives in is owner-only too."""
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    settings = Settings(data_dir=data, storage_url=str(tmp_path / "elsewhere" / "audio"))
    with caplog.at_level(logging.INFO, logger="parley.services"):
        build_storage(settings).dispose()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert "made it 0700" in caplog.text
    assert stat.S_IMODE((tmp_path / "elsewhere" / "audio").stat().st_mode) == 0o700


def test_no_access_token_is_stored(server: tuple[str, Any, Path]) -> None:
    url, services, data = server
    first = _token(url).json()["accessToken"]
    assert _token(url).json()["accessToken"] == first  # still reused while valid
    assert (
        httpx.get(f"{url}/v1/conversations", headers={"x-api-key": first}, timeout=60).status_code
        == 200
    )
    with services.storage.session() as session:
        rows = list(session.execute(select(App.__table__)))
    in_the_clear = [row for row in rows if any(first in str(value) for value in row)]
    assert rows and in_the_clear == []
    raw = b"".join(p.read_bytes() for p in data.glob("parley.db*") if p.is_file())
    assert first.encode() not in raw
    assert first.split(".")[2].encode() not in raw  # not even the signature part


def test_failed_token_requests_are_limited_with_retry_after(
    server: tuple[str, Any, Path],
) -> None:
    url, _, _ = server
    statuses = [_token(url, secret="wrong").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    limited = _token(url, secret="wrong")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["message"]
    # locked out: even the right secret waits, and so does another appId from this client
    assert _token(url).status_code == 429
    assert _token(url, app_id="someone-else", secret="x").status_code == 429


def test_limiter_counts_per_key_and_forgets_after_the_window() -> None:
    now = [100.0]
    limiter = FailureLimiter(limit=2, window=60, clock=lambda: now[0])
    limiter.failed(["app:a", "client:1"])
    limiter.failed(["app:a", "client:2"])
    with pytest.raises(TooManyRequests):
        limiter.check(["app:a", "client:3"])
    limiter.check(["app:b", "client:3"])  # other app, other client: free
    now[0] += 59.9
    with pytest.raises(TooManyRequests):
        limiter.check(["app:a"])
    now[0] += 0.1  # the window has passed
    limiter.check(["app:a"])


def test_unknown_and_known_app_ids_take_the_same_time(server: tuple[str, Any, Path]) -> None:
    _, services, _ = server
    tokens = Tokens(storage=services.storage, secret="k" * 32, limiter=FailureLimiter(limit=10**6))

    def timed(app_id: str) -> float:
        started = time.perf_counter()
        with pytest.raises(Unauthorized):
            tokens.generate(app_id, "wrong-secret")
        return time.perf_counter() - started

    timed(APP_ID), timed("nobody")  # warm up
    known = statistics.median(timed(APP_ID) for _ in range(9))
    unknown = statistics.median(timed("nobody") for _ in range(9))
    assert 0.5 < unknown / known < 2.0, (known, unknown)


def test_dummy_check_never_accepts_a_missing_app() -> None:
    assert apps_store.verify_secret(None, "") is False
