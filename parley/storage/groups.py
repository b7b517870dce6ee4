"""Stored conversation groups (the Management API), each owned by one app.

A group is its name, description and RSQL criteria; which conversations belong to it is
not stored but matched when asked (``conversations.list_conversations`` with the
criteria's terms), so a conversation whose metadata changes moves between groups at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parley import ids
from parley.errors import BadRequest, NotFound
from parley.storage.models import Group
from parley_client.wire.limits import LIMITS

__all__ = ["create_groups", "get_group", "list_groups", "update_group"]


def list_groups(*, session: Session, app_id: str) -> list[Group]:
    return list(
        session.scalars(
            select(Group).where(Group.app_id == app_id).order_by(Group.created_at, Group.id)
        )
    )


def get_group(*, session: Session, app_id: str, group_id: str) -> Group:
    """The app's group, or NotFound (also for another app's group)."""
    group = session.get(Group, group_id)
    if group is None or group.app_id != app_id:
        raise NotFound(f"Group with id {group_id} not found.")
    return group


def create_groups(*, session: Session, app_id: str, items: Sequence[dict[str, Any]]) -> list[Group]:
    """Create validated groups (name, description, criteria); at most LIMITS["groups"]."""
    count = session.scalar(select(func.count()).where(Group.app_id == app_id)) or 0
    if count + len(items) > LIMITS["groups"]:
        raise BadRequest(f"An account can have at most {LIMITS['groups']} conversation groups.")
    groups = [Group(id=ids.numeric_id(), app_id=app_id, **item) for item in items]
    session.add_all(groups)
    session.flush()
    return groups


def update_group(*, session: Session, group: Group, item: dict[str, Any]) -> Group:
    """Replace the group's fields with validated ``item``."""
    for key, value in item.items():
        setattr(group, key, value)
    session.flush()
    return group
