"""The ``parley`` command as a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODEL_CACHE


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "models").symlink_to(MODEL_CACHE.resolve(), target_is_directory=True)
    return os.environ | {"PARLEY_DATA_DIR": str(tmp_path)}


def _parley(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parley", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
    )


def test_process_prints_the_transcript(env: dict[str, str], testdata: Path) -> None:
    jfk = str(testdata / "read/jfk/jfk.flac")
    text = _parley(env, "process", jfk)
    assert text.returncode == 0, text.stderr
    assert "ask not what your country can do for you" in text.stdout.lower()
    assert text.stdout.startswith("[")

    as_json = _parley(
        env, "process", jfk, "--format", "json", "--words", "--customVocabulary", "Americans"
    )
    messages = json.loads(as_json.stdout)["messages"]
    assert messages and messages[0]["words"] and messages[0]["timeOffset"] == 0

    srt = _parley(env, "process", jfk, "--format", "srt")
    assert srt.stdout.startswith("1\n00:00:")


def test_process_errors_are_clear(env: dict[str, str], tmp_path: Path, testdata: Path) -> None:
    missing = _parley(env, "process", str(tmp_path / "nope.wav"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    (tmp_path / "fake.wav").write_text("not audio at all\n" * 20)
    fake = _parley(env, "process", str(tmp_path / "fake.wav"))
    assert fake.returncode == 2 and "not audio" in fake.stderr
    bad = _parley(env, "process", str(testdata / "read/jfk/jfk.flac"), "--mode", "radio")
    assert bad.returncode == 2 and '"mode"' in bad.stderr


def test_apps_create_prints_working_credentials(env: dict[str, str]) -> None:
    created = _parley(env, "apps", "create", "--name", "team-a")
    assert created.returncode == 0, created.stderr
    credentials = json.loads(created.stdout)
    assert credentials["name"] == "team-a"
    # the shape Symbl's Web SDK validates (symbl-streaming.md §12 item 11)
    assert re.fullmatch(r"[0-9a-z]{64}", credentials["appId"]), credentials["appId"]
    assert re.fullmatch(r"[0-9a-z]{128}", credentials["appSecret"])
    from parley.config import Settings
    from parley.services import build_services
    from parley.storage.apps import create_app

    services = build_services(Settings(data_dir=Path(env["PARLEY_DATA_DIR"]), workers=0))
    token, _ = services.tokens.generate(credentials["appId"], credentials["appSecret"])
    assert services.tokens.verify(token) == credentials["appId"]
    # credentials of the older shape (any id, any secret) keep working beside them
    with services.storage.session() as session:
        create_app(session=session, name="old", app_id="team-b", secret="short-secret")
    token, _ = services.tokens.generate("team-b", "short-secret")
    assert services.tokens.verify(token) == "team-b"
    services.stop()
