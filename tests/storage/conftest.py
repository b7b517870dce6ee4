"""Fixtures for the audio stores: the local one and S3 on a real moto server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.storage.audio import AudioStore, LocalAudioStore
from tests.s3 import S3Server, environment, moto_server


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    with moto_server() as server, environment(server.env):
        yield server


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> AudioStore:
    if request.param == "local":
        return LocalAudioStore(tmp_path / "audio")
    from parley.storage.s3 import S3AudioStore

    server: S3Server = request.getfixturevalue("s3")
    return S3AudioStore.from_url(f"s3://{server.new_bucket()}/some/prefix")
