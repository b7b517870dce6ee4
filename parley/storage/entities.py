"""Stored custom entities (the Management API) and the app's entity-list version.

Every write bumps ``App.entities_version`` first, in the same transaction: that is what
tells a conversation detected with an older list to detect again, and the row update
also serialises one app's entity writes (a row lock on PostgreSQL, the write lock on
SQLite), so the uniqueness and count checks below cannot race each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from parley import ids
from parley.errors import BadRequest, Conflict, NotFound
from parley.storage.models import App, EntityDefinition
from parley_client.wire.limits import LIMITS

__all__ = [
    "create_entities",
    "delete_by_sub_type",
    "delete_entity",
    "entities_version",
    "get_entity",
    "list_entities",
    "update_entity",
]


def _bump(session: Session, app_id: str) -> None:
    session.execute(
        update(App).where(App.id == app_id).values(entities_version=App.entities_version + 1)
    )


def entities_version(*, session: Session, app_id: str) -> int:
    """How many times the app's entity list has changed (0: never)."""
    return session.scalar(select(App.entities_version).where(App.id == app_id)) or 0


def list_entities(*, session: Session, app_id: str) -> list[EntityDefinition]:
    return list(
        session.scalars(
            select(EntityDefinition)
            .where(EntityDefinition.app_id == app_id)
            .order_by(EntityDefinition.created_at, EntityDefinition.id)
        )
    )


def get_entity(*, session: Session, app_id: str, entity_id: str) -> EntityDefinition:
    """The app's entity, or NotFound (also for another app's entity)."""
    entity = session.get(EntityDefinition, entity_id)
    if entity is None or entity.app_id != app_id:
        raise NotFound(f"Entity with id {entity_id} not found.")
    return entity


def _check_totals(session: Session, app_id: str, added: int, values: int, skip: str = "") -> None:
    """At most LIMITS["custom_entities"] entities and LIMITS["entity_values_total"] values
    per app: every conversation's detection walks them all."""
    stored = [
        len(v)
        for entity_id, v in session.execute(
            select(EntityDefinition.id, EntityDefinition.values).where(
                EntityDefinition.app_id == app_id
            )
        )
        if entity_id != skip
    ]
    if len(stored) + added > LIMITS["custom_entities"]:
        raise BadRequest(f"An account can have at most {LIMITS['custom_entities']} entities.")
    if sum(stored) + values > LIMITS["entity_values_total"]:
        raise BadRequest(
            f'"values": an account\'s entities can have at most '
            f"{LIMITS['entity_values_total']} values in all."
        )


def _clash(session: Session, app_id: str, item: dict[str, Any], skip: str = "") -> None:
    taken = session.scalar(
        select(EntityDefinition.id).where(
            EntityDefinition.app_id == app_id,
            EntityDefinition.type == item["type"],
            EntityDefinition.sub_type == item["sub_type"],
            EntityDefinition.id != skip,
        )
    )
    if taken:
        raise Conflict(
            f'An entity of type "{item["type"]}" with subType "{item["sub_type"]}" already exists.'
        )


def create_entities(
    *, session: Session, app_id: str, items: Sequence[dict[str, Any]]
) -> list[EntityDefinition]:
    """Create validated entities (``type``, ``sub_type``, ``category``, ``values``);
    a subType is unique within its type (409), also among the request's own items."""
    _bump(session, app_id)
    _check_totals(session, app_id, len(items), sum(len(i["values"]) for i in items))
    keys = [(i["type"], i["sub_type"]) for i in items]
    if len(set(keys)) != len(keys):
        raise Conflict("Entities in one request must not repeat a type and subType.")
    for item in items:
        _clash(session, app_id, item)
    entities = [EntityDefinition(id=ids.numeric_id(), app_id=app_id, **item) for item in items]
    session.add_all(entities)
    session.flush()
    return entities


def update_entity(
    *, session: Session, entity: EntityDefinition, item: dict[str, Any]
) -> EntityDefinition:
    """Replace an entity's fields with validated ``item``; 409 if its type and subType
    are another entity's."""
    _bump(session, entity.app_id)
    _check_totals(session, entity.app_id, 0, len(item["values"]), skip=entity.id)
    _clash(session, entity.app_id, item, skip=entity.id)
    for key, value in item.items():
        setattr(entity, key, value)
    session.flush()
    return entity


def delete_entity(*, session: Session, entity: EntityDefinition) -> None:
    _bump(session, entity.app_id)
    session.delete(entity)


def delete_by_sub_type(
    *, session: Session, app_id: str, sub_type: str, type_: str | None = None
) -> list[str]:
    """Delete the app's entities with this subType (of any type, or of ``type_``); their
    ids, or NotFound when there is none."""
    query = select(EntityDefinition).where(
        EntityDefinition.app_id == app_id, EntityDefinition.sub_type == sub_type
    )
    if type_ is not None:
        query = query.where(EntityDefinition.type == type_)
    found = list(session.scalars(query.order_by(EntityDefinition.created_at)))
    if not found:
        raise NotFound(f"No entity with subType {sub_type} found.")
    _bump(session, app_id)
    for entity in found:
        session.delete(entity)
    return [e.id for e in found]
