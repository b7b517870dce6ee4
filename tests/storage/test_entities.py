"""Stored custom entities on SQLite and PostgreSQL: every write bumps the app's list
version, subTypes are unique within a type per app, and an app's totals are bounded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parley.errors import BadRequest, Conflict, NotFound
from parley.storage import Storage
from parley.storage import apps as apps_store
from parley.storage import entities as store
from parley_client.wire.limits import LIMITS


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


def _item(type_: str = "Vehicle", sub_type: str = "Tesla", values: int = 1) -> dict[str, Any]:
    return {
        "type": type_,
        "sub_type": sub_type,
        "category": "Custom",
        "values": [f"v{i}" for i in range(values)],
    }


def _version(storage: Storage, app: str = "a") -> int:
    with storage.session() as session:
        return store.entities_version(session=session, app_id=app)


def _behaves(storage: Storage) -> None:
    assert _version(storage) == 0
    with storage.session() as session:
        (tesla,) = store.create_entities(session=session, app_id="a", items=[_item()])
    assert _version(storage) == 1 and _version(storage, "b") == 0
    with storage.session() as session:  # another app may use the same type and subType
        store.create_entities(session=session, app_id="b", items=[_item()])
    with pytest.raises(Conflict), storage.session() as session:
        store.create_entities(session=session, app_id="a", items=[_item(values=2)])
    assert _version(storage) == 1  # the refused write left nothing, its bump included
    with storage.session() as session:
        entity = store.get_entity(session=session, app_id="a", entity_id=tesla.id)
        store.update_entity(session=session, entity=entity, item=_item(values=3))
    assert _version(storage) == 2
    with pytest.raises(NotFound), storage.session() as session:
        store.get_entity(session=session, app_id="b", entity_id=tesla.id)
    with storage.session() as session:
        assert store.delete_by_sub_type(session=session, app_id="a", sub_type="Tesla") == [tesla.id]
    assert _version(storage) == 3
    with storage.session() as session:
        assert [e.app_id for e in store.list_entities(session=session, app_id="b")] == ["b"]


def test_writes_bump_the_version_and_stay_per_app(sqlite: Storage) -> None:
    _behaves(sqlite)


@pytest.mark.services
def test_on_postgresql(pg_database: str, tmp_path: Path) -> None:
    storage = _storage(pg_database, tmp_path)
    try:
        _behaves(storage)
        _concurrent_creates_of_one_subtype(storage)
    finally:
        storage.dispose()


def _concurrent_creates_of_one_subtype(storage: Storage) -> None:
    """The version bump locks the app's row first, so two creates of one subType in
    parallel give one entity and one 409 (not a unique-index error)."""
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def create() -> None:
        barrier.wait()
        try:
            with storage.session() as session:
                store.create_entities(session=session, app_id="a", items=[_item("Race", "One")])
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["conflict"] * 7 + ["created"]


def test_an_app_has_at_most_so_many_entities_and_values(sqlite: Storage) -> None:
    most = LIMITS["custom_entities"]
    with sqlite.session() as session:
        store.create_entities(
            session=session, app_id="a", items=[_item(sub_type=str(i)) for i in range(most)]
        )
    with pytest.raises(BadRequest, match=f"at most {most} entities"), sqlite.session() as s:
        store.create_entities(session=s, app_id="a", items=[_item(sub_type="one more")])
    per_entity = LIMITS["entity_values"]
    fits = LIMITS["entity_values_total"] // per_entity
    with sqlite.session() as session:
        store.create_entities(
            session=session,
            app_id="b",
            items=[_item(sub_type=str(i), values=per_entity) for i in range(fits)],
        )
    with pytest.raises(BadRequest, match='"values"'), sqlite.session() as session:
        store.create_entities(session=session, app_id="b", items=[_item(sub_type="more")])
    with sqlite.session() as session:  # an update may keep the total where it is
        first = store.list_entities(session=session, app_id="b")[0]
        store.update_entity(session=session, entity=first, item=_item("Other", "0", per_entity))
