"""Full-text search over stored sentences, on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from parley.storage import Storage
from parley.storage import apps as apps_store
from parley.storage import conversations as store
from parley.storage.search import MAX_MATCHES, search_conversations


def _storage(url: str, tmp_path: Path) -> Storage:
    storage = Storage(url, tmp_path / "audio")
    storage.migrate()
    with storage.session() as session:
        for app in ("a", "b"):
            apps_store.create_app(session=session, name=app, app_id=app, secret="s")
    return storage


@pytest.fixture()
def sqlite(tmp_path: Path) -> Iterator[Storage]:
    storage = _storage(f"sqlite:///{tmp_path / 'parley.db'}", tmp_path)
    yield storage
    storage.dispose()


def _add(storage: Storage, app_id: str, name: str, sentences: list[str]) -> str:
    with storage.session() as session:
        conversation = store.create_conversation(session=session, app_id=app_id, name=name)
        store.store_transcript(
            session=session,
            conversation=conversation,
            job_id="job",
            members=store.resolve_members(
                [], [store.MemberSpec(label="s1", name="Ann")], conversation.id
            ),
            messages=[
                store.MessageSpec(text=t, start=2.0 * i, end=2.0 * i + 1.5, label="s1")
                for i, t in enumerate(sentences)
            ],
            duration=2.0 * len(sentences),
            billing_duration=2.0 * len(sentences),
            language="en",
        )
        return conversation.id


def _search(storage: Storage, query: str, app_id: str = "a", **page: int) -> list[tuple]:
    with storage.session() as session:
        hits = search_conversations(
            session=session,
            app_id=app_id,
            query=query,
            limit=page.get("limit", 20),
            offset=page.get("offset", 0),
        )
        return [(h.conversation.id, [(m.text, m.start) for m in h.messages]) for h in hits]


def _behaves(storage: Storage) -> None:
    budget = _add(storage, "a", "Budget review", ["We are calling the bank.", "Lunch at noon."])
    travel = _add(storage, "a", "Standup", ["The bank called back.", "Flights are booked."])
    other = _add(storage, "b", "Other app", ["The bank again."])

    # words said, with the sentences and their times; stemming: "calls" finds calling/called
    found = dict(_search(storage, "bank"))
    assert set(found) == {budget, travel}
    assert found[budget] == [("We are calling the bank.", 0.0)]
    assert set(dict(_search(storage, "calls"))) == {budget, travel}
    # every word must occur in one sentence; case does not matter
    assert _search(storage, "BANK Flights") == []
    assert _search(storage, "Flights BOOKED") == [(travel, [("Flights are booked.", 2.0)])]
    assert _search(storage, "bank lunch") == []
    assert _search(storage, "bank booked") == []
    # by name, without sentences
    assert _search(storage, "standup") == [(travel, [])]
    # another app's conversations are never found
    assert other not in dict(_search(storage, "bank"))
    assert set(dict(_search(storage, "bank", app_id="b"))) == {other}
    # paging, newest first
    assert [c for c, _ in _search(storage, "bank", limit=1)] == [travel]
    assert [c for c, _ in _search(storage, "bank", limit=1, offset=1)] == [budget]
    # query syntax never reaches the engine raw
    for odd in ('"', "bank AND (", "NEAR(", "*", "bank' OR 1=1 --", "%_"):
        _search(storage, odd)
    # deleting a conversation takes its sentences out of the index
    with storage.session() as session:
        conversation = store.get_conversation(session=session, conversation_id=budget, app_id="a")
        store.delete_conversation(session=session, conversation=conversation)
    assert set(dict(_search(storage, "bank"))) == {travel}


def test_search_on_sqlite_fts5(sqlite: Storage) -> None:
    _behaves(sqlite)
    with sqlite.session() as session:  # the index holds exactly the stored sentences
        indexed = session.execute(text("SELECT count(*) FROM messages_fts")).scalar()
        stored = session.execute(text("SELECT count(*) FROM messages")).scalar()
    assert indexed == stored == 3


def test_sentences_stored_before_the_migration_are_indexed(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from parley.storage.db import MIGRATIONS

    storage = Storage(f"sqlite:///{tmp_path / 'old.db'}", tmp_path / "audio")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with storage.engine.begin() as connection:
        config.attributes["connection"] = connection
        before = ScriptDirectory.from_config(config).get_revision("0005").down_revision
        command.upgrade(config, str(before))
    with storage.session() as session:  # in SQL: the App model has columns 0004 lacks
        session.execute(
            text(
                "INSERT INTO apps (id, name, secret_hash, created_at) "
                "VALUES ('a', 'a', 'not-a-hash', CURRENT_TIMESTAMP)"
            )
        )
    old = _add(storage, "a", "Old", ["Quarterly numbers look fine."])
    storage.migrate()
    assert _search(storage, "quarterly") == [(old, [("Quarterly numbers look fine.", 0.0)])]
    storage.dispose()


def test_matches_per_conversation_are_capped(sqlite: Storage) -> None:
    cid = _add(sqlite, "a", "Long", [f"Sentence {i} about pricing." for i in range(50)])
    [(found, matches)] = _search(sqlite, "pricing")
    assert found == cid and len(matches) == MAX_MATCHES
    assert [s for _, s in matches] == sorted(s for _, s in matches)


@pytest.mark.services
def test_search_on_postgresql(pg_database: str, tmp_path: Path) -> None:
    storage = _storage(pg_database, tmp_path)
    try:
        _behaves(storage)
        with storage.session() as session:
            indexes = session.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'messages'")
            ).scalars()
            assert "ix_messages_text_search" in set(indexes)
    finally:
        storage.dispose()
