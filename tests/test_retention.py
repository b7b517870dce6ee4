"""Retention deletes old audio, or old conversations whole: files and rows."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from parley import cli
from parley.config import Settings
from parley.options.job import parse_options
from parley.retention import apply_retention
from parley.services import Services, build_runner, build_services
from parley.storage import jobs as jobs_store
from parley.storage.apps import create_app
from parley.storage.models import Conversation, Job, Message, WebhookDelivery, utcnow
from tests.conftest import data_dir
from tests.helpers import silent_wav


def _run_audio_job(services: Services, models: Any, app_id: str, wav: Path) -> tuple[str, str]:
    staged, out = services.storage.audio.new_upload()
    with out:
        out.write(wav.read_bytes())
    submission = services.submitter.submit(
        app_id=app_id,
        kind="audio",
        source="file",
        options=parse_options({"webhookUrl": ["http://127.0.0.1:9/hook"]}),
        upload=staged,  # type: ignore[arg-type]
    )
    runner = build_runner(services.settings, services.storage, services.webhooks, models)
    with services.storage.session() as session:
        assert jobs_store.claim(
            session=session, job_id=submission.job_id, worker_id=runner.worker_id
        )
    assert runner.run(submission.job_id) == "completed"
    return submission.conversation_id, submission.job_id


@pytest.fixture()
def setup(tmp_path: Path, models: Any) -> Any:
    (tmp_path / "data").mkdir()
    settings = Settings(data_dir=data_dir(tmp_path / "data"), workers=0, webhook_max_attempts=1)
    services = build_services(settings)
    with services.storage.session() as session:
        app, _ = create_app(session=session, name="retention")
    wav = silent_wav(tmp_path / "a.wav", 1.0)
    old = _run_audio_job(services, models, app.id, wav)
    new = _run_audio_job(services, models, app.id, wav)
    with services.storage.session() as session:  # the first one is 10 days old
        for model in (Conversation, Job):
            session.execute(
                update(model)
                .where(model.conversation_id == old[0] if model is Job else model.id == old[0])
                .values(created_at=utcnow() - timedelta(days=10))
            )
    yield settings, services, old, new
    services.stop()
    shutil.rmtree(tmp_path / "data", ignore_errors=True)


def test_audio_scope_deletes_only_old_audio(setup: Any) -> None:
    _, services, old, new = setup
    audio = services.storage.audio
    assert audio.exists(f"{old[0]}/{old[1]}") and audio.exists(f"{new[0]}/{new[1]}")
    assert apply_retention(services.storage, days=7, dry_run=True).audio == 1
    assert audio.exists(f"{old[0]}/{old[1]}"), "a dry run deletes nothing"
    removed = apply_retention(services.storage, days=7)
    assert removed.audio == 1 and removed.conversations == 0
    assert not audio.exists(f"{old[0]}/{old[1]}")
    assert audio.exists(f"{new[0]}/{new[1]}")
    with services.storage.session() as session:
        assert session.get(Conversation, old[0]) is not None, "the transcript stays"
    assert apply_retention(services.storage, days=7).audio == 0


def test_conversation_scope_deletes_files_and_rows(
    setup: Any, monkeypatch: Any, capsys: Any
) -> None:
    settings, services, old, new = setup
    monkeypatch.setenv("PARLEY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARLEY_RETENTION_DAYS", "7")
    monkeypatch.setenv("PARLEY_RETENTION_SCOPE", "conversations")
    assert cli.main(["retention"]) == 0
    assert json.loads(capsys.readouterr().out)["deleted"] == {"audio": 0, "conversations": 1}
    assert list(services.storage.audio.keys()) == [f"{new[0]}/{new[1]}"]
    with services.storage.session() as session:
        assert session.get(Conversation, old[0]) is None
        for model in (Job, Message):
            count = session.scalar(
                select(func.count()).select_from(model).where(model.conversation_id == old[0])
            )
            assert count == 0, model
        assert (
            session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.job_id == old[1])
            )
            == 0
        )
        assert session.get(Conversation, new[0]) is not None


def test_retention_needs_a_period(monkeypatch: Any, tmp_path: Path, capsys: Any) -> None:
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PARLEY_RETENTION_DAYS", raising=False)
    assert cli.main(["retention"]) == 2
    assert "PARLEY_RETENTION_DAYS" in capsys.readouterr().err
