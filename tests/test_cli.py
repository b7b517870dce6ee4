"""The ``parley`` command as a user runs it.

``apps create`` runs as its own process, through ``python -m parley`` as a user starts
it. ``process`` runs ``parley.cli.main`` in this process, with the session's speech
models: a fresh process per call loaded Python, Whisper and the insight models again
each time, three times per test, for the same output.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


@dataclasses.dataclass
class Ran:
    """What ``main(argv)`` returned and printed."""

    returncode: int
    stdout: str
    stderr: str


def _configuration(models: Any) -> dict[str, Any]:
    """The settings a ``Models`` was built from (its model directory resolved)."""
    values = {f.name: getattr(models, f.name) for f in dataclasses.fields(models) if f.init}
    return values | {"cache_dir": Path(values["cache_dir"]).resolve()}


@pytest.fixture()
def parley(
    env: dict[str, str],
    models: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Callable[..., Ran]]:
    """``parley ARGS`` in this process. The command builds its models from its settings as
    ever; what it built must match the session's models, which it then gets, loaded.

    ``process`` leaves its services running (a webhook poller thread over a scratch store
    it deletes), which the end of its process stops; here they are stopped after it.
    """
    from parley import cli, services

    monkeypatch.setenv("PARLEY_DATA_DIR", env["PARLEY_DATA_DIR"])
    build_models, build_services = services.build_models, services.build_services
    built: list[Any] = []

    def loaded(settings: Any) -> Any:
        assert _configuration(build_models(settings)) == _configuration(models)
        return models

    def kept(settings: Any) -> Any:
        built.append(build_services(settings))
        return built[-1]

    monkeypatch.setattr(services, "build_models", loaded)
    monkeypatch.setattr(services, "build_services", kept)

    def run(*args: str) -> Ran:
        # main() sets logging up for a process of its own: put this one's back after it
        loggers = [
            logging.getLogger(n)
            for n in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "celery")
        ]
        saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
        try:
            code = cli.main(list(args))
        finally:
            while built:
                built.pop().stop()
            for logger, handlers, level, propagate in saved:
                logger.handlers[:], logger.propagate = handlers, propagate
                logger.setLevel(level)
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    yield run


def test_process_prints_the_transcript(parley: Callable[..., Ran], testdata: Path) -> None:
    jfk = str(testdata / "read/jfk/jfk.flac")
    text = parley("process", jfk)
    assert text.returncode == 0, text.stderr
    assert "ask not what your country can do for you" in text.stdout.lower()
    assert text.stdout.startswith("[")

    as_json = parley(
        "process", jfk, "--format", "json", "--words", "--customVocabulary", "Americans"
    )
    messages = json.loads(as_json.stdout)["messages"]
    assert messages and messages[0]["words"] and messages[0]["timeOffset"] == 0

    srt = parley("process", jfk, "--format", "srt")
    assert srt.stdout.startswith("1\n00:00:")


def test_process_errors_are_clear(
    parley: Callable[..., Ran], tmp_path: Path, testdata: Path
) -> None:
    missing = parley("process", str(tmp_path / "nope.wav"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    (tmp_path / "fake.wav").write_text("not audio at all\n" * 20)
    fake = parley("process", str(tmp_path / "fake.wav"))
    assert fake.returncode == 2 and "not audio" in fake.stderr
    bad = parley("process", str(testdata / "read/jfk/jfk.flac"), "--mode", "radio")
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
