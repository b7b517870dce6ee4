"""Migration 0006: rows stored with a lone surrogate or a NUL, before the API refused
them, are repaired to U+FFFD, so they can be served again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from parley.storage import Storage
from parley.storage import conversations as store
from parley.storage import jobs as jobs_store
from parley.storage.db import MIGRATIONS
from parley.storage.models import Conversation, Job, Member, Tracker


def _at_0005(url: str, tmp_path: Path) -> Storage:
    storage = Storage(url, tmp_path / "audio")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with storage.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
    with storage.session() as session:  # in SQL: the App model has columns 0005 lacks
        session.execute(
            text(
                "INSERT INTO apps (id, name, secret_hash, created_at) "
                "VALUES ('a', 'a', 'not-a-hash', CURRENT_TIMESTAMP)"
            )
        )
    return storage


def _store_bad_rows(storage: Storage, *, nul_in_text: bool) -> tuple[str, str]:
    """What the old code stored: metadata and options with "\\ud800" and "\\u0000"."""
    with storage.session() as session:
        conversation = store.create_conversation(
            session=session, app_id="a", name="a\x00b" if nul_in_text else "plain"
        )
        conversation.meta = {"foo": "x\ud800", "k\udc00": "fine", "nul": "a\x00"}
        job = jobs_store.create_job(
            session=session,
            job_id="job-1",
            app_id="a",
            conversation_id=conversation.id,
            kind="text",
            source="text",
            options={"name": "n\ud800", "metadata": {"deep": ["\udfff"]}},
            input_data={"messages": [{"payload": {"content": "hi \ud800"}}]},
        )
        job.status = "completed"
        session.add(Tracker(id="t1", app_id="a", name="tracker", vocabulary=["ok", "bad\ud800"]))
        session.add(
            Member(
                id="m1",
                conversation_id=conversation.id,
                name="Ann\x00" if nul_in_text else "Ann",
                email=None,
            )
        )
        return conversation.id, job.id


def _serves(value: object) -> None:
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # what a JSON response does


def _check_repaired(storage: Storage, cid: str, job_id: str, *, nul_in_text: bool) -> None:
    with storage.session() as session:
        conversation = session.get(Conversation, cid)
        job = session.get(Job, job_id)
        tracker = session.get(Tracker, "t1")
        member = session.get(Member, "m1")
        assert conversation is not None and job is not None
        assert tracker is not None and member is not None
        assert conversation.meta == {"foo": "x\ufffd", "k\ufffd": "fine", "nul": "a\ufffd"}
        assert job.options == {"name": "n\ufffd", "metadata": {"deep": ["\ufffd"]}}
        assert job.input_data == {"messages": [{"payload": {"content": "hi \ufffd"}}]}
        assert tracker.vocabulary == ["ok", "bad\ufffd"]
        if nul_in_text:
            assert (conversation.name, member.name) == ("a\ufffdb", "Ann\ufffd")
        for value in (conversation.meta, job.options, job.input_data, tracker.vocabulary):
            _serves(value)


def test_stored_surrogates_and_nul_are_repaired_on_sqlite(tmp_path: Path) -> None:
    storage = _at_0005(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)
    try:
        cid, job_id = _store_bad_rows(storage, nul_in_text=True)
        with storage.session() as session:  # as stored, it cannot be served
            conversation = session.get(Conversation, cid)
            assert conversation is not None
            with pytest.raises(UnicodeEncodeError):
                _serves(conversation.meta)
        storage.migrate()
        _check_repaired(storage, cid, job_id, nul_in_text=True)
        storage.migrate()  # at head: nothing runs twice, nothing changes
        _check_repaired(storage, cid, job_id, nul_in_text=True)
    finally:
        storage.dispose()


@pytest.mark.services
def test_stored_surrogates_and_nul_are_repaired_on_postgresql(
    pg_database: str, tmp_path: Path
) -> None:
    """PostgreSQL's ``json`` keeps the escapes as written; its text columns never held
    a NUL (it refuses one)."""
    storage = _at_0005(pg_database, tmp_path)
    try:
        cid, job_id = _store_bad_rows(storage, nul_in_text=False)
        storage.migrate()
        _check_repaired(storage, cid, job_id, nul_in_text=False)
    finally:
        storage.dispose()
