"""Conversation metadata as rows (migration 0007): conversations stored
before it are found by a filter after it, and ``list_conversations`` matches terms in SQL
the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from parley.storage import Storage
from parley.storage import conversations as store
from parley.storage.db import MIGRATIONS
from parley.storage.models import Conversation, ConversationMetadata

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _at_0006(url: str, tmp_path: Path) -> Storage:
    storage = Storage(url, tmp_path / "audio")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with storage.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        # in SQL: the ORM model of ``apps`` has columns of later revisions
        for app_id in ("a", "b"):
            connection.execute(
                text(
                    "INSERT INTO apps (id, name, secret_hash, created_at) "
                    "VALUES (:id, :id, 'not-a-hash', CURRENT_TIMESTAMP)"
                ),
                {"id": app_id},
            )
    return storage


def _page(storage: Storage, app_id: str, terms: list[tuple[str, str]], **kw: object) -> list[str]:
    options: dict = {
        "limit": 20,
        "offset": 0,
        "descending": False,
        "sort_by_name": False,
        "start": NOW - timedelta(days=7),
        "end": NOW,
    } | kw
    with storage.session() as session:
        rows = store.list_conversations(
            session=session, app_id=app_id, metadata_filter=terms, **options
        )
        return [c.id for c in rows]


def _check(storage: Storage) -> None:
    """Old rows (JSON only) become matchable; new ones are written through set_metadata."""
    with storage.session() as session:
        old = store.create_conversation(session=session, app_id="a", name="old")
        old.start_time = NOW - timedelta(hours=3)
        old.meta = {"agentId": "john", "customerId": 88338833, "vip": True}  # before 0007
        old_id = old.id
    storage.migrate()
    with storage.session() as session:
        rows = session.scalars(
            select(ConversationMetadata).where(ConversationMetadata.conversation_id == old_id)
        ).all()
        assert {(r.key, r.value, r.app_id) for r in rows} == {
            ("agentId", "john", "a"),
            ("customerId", "88338833", "a"),
            ("vip", "true", "a"),
        }
        assert {r.start_time for r in rows} == {NOW - timedelta(hours=3)}
        made = []
        for hours, app_id, metadata in (
            (2, "a", {"agentId": "john", "tier": "gold"}),
            (1, "a", {"agentId": "john"}),
            (1, "b", {"agentId": "john", "tier": "gold"}),
            (24 * 8, "a", {"agentId": "john", "tier": "gold"}),
        ):
            conversation = store.create_conversation(session=session, app_id=app_id, name=None)
            conversation.start_time = NOW - timedelta(hours=hours)
            store.set_metadata(session=session, conversation=conversation, metadata=metadata)
            made.append(conversation.id)
    gold, plain, other_app, too_old = made
    assert _page(storage, "a", [("agentId", "john")]) == [old_id, gold, plain]
    assert _page(storage, "a", [("agentId", "john")], descending=True) == [plain, gold, old_id]
    assert _page(storage, "a", [("agentId", "john")], limit=1, offset=1) == [gold]
    assert _page(storage, "a", [("agentId", "john"), ("tier", "gold")]) == [gold]
    assert _page(storage, "a", [("tier", "gold"), ("agentId", "john")]) == [gold]
    assert _page(storage, "a", [("agentId", "john"), ("agentId", "jane")]) == []
    assert _page(storage, "a", [("customerId", "88338833")]) == [old_id]
    assert _page(storage, "b", [("agentId", "john")]) == [other_app]
    assert _page(storage, "a", [("tier", "gold")], start=NOW - timedelta(days=9)) == [too_old, gold]
    assert _page(storage, "a", [("agentId", "john")], sort_by_name=True) == sorted(
        [old_id, gold, plain], key=lambda cid: "old" if cid == old_id else cid
    )
    with storage.session() as session:  # a replaced value leaves no stale row behind
        conversation = session.get(Conversation, gold)
        assert conversation is not None
        store.set_metadata(session=session, conversation=conversation, metadata={"tier": "gold"})
    assert _page(storage, "a", [("agentId", "john")]) == [old_id, plain]
    with storage.session() as session:
        conversation = session.get(Conversation, plain)
        assert conversation is not None
        store.delete_conversation(session=session, conversation=conversation)
    assert _page(storage, "a", [("agentId", "john")]) == [old_id]


def test_metadata_rows_on_sqlite(tmp_path: Path) -> None:
    storage = _at_0006(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)
    try:
        _check(storage)
    finally:
        storage.dispose()


@pytest.mark.services
def test_metadata_rows_on_postgresql(pg_database: str, tmp_path: Path) -> None:
    storage = _at_0006(pg_database, tmp_path)
    try:
        _check(storage)
    finally:
        storage.dispose()
