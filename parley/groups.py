"""Conversation groups (Management API): checking a group as Symbl did, and its JSON.

A group's ``criteria`` is checked when it is written, with the same RSQL subset as the
conversation list's ``filter`` (``parley.options.filters``), so a stored group always
parses; its conversations are matched in SQL when asked for.
"""

from __future__ import annotations

import re
from typing import Any

from parley.errors import BadRequest
from parley.options.filters import parse_metadata_terms
from parley.storage.models import Group
from parley_client.wire.limits import LIMITS

__all__ = ["criteria_terms", "group_json", "validated"]

#: Symbl: "no special characters except -, _ and \"" (spaces appear in its examples).
_NAME = re.compile(r'[\w "-]+')


def validated(body: Any, where: str = "group") -> dict[str, Any]:
    """A group body → the columns to store, or a 400 naming the field and the problem."""
    if not isinstance(body, dict):
        raise BadRequest(f'"{where}" must be an object')
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest(f'"{where}.name" is required and must be a non-empty string')
    if len(name) > LIMITS["group_name"]:
        raise BadRequest(f'"{where}.name" must be at most {LIMITS["group_name"]} characters')
    if not _NAME.fullmatch(name):
        raise BadRequest(
            f'"{where}.name" may hold only letters, digits, spaces and the characters - _ "'
        )
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        raise BadRequest(f'"{where}.description" must be a string')
    if description is not None and len(description) > LIMITS["group_description"]:
        raise BadRequest(
            f'"{where}.description" must be at most {LIMITS["group_description"]} characters'
        )
    criteria = body.get("criteria")
    if not isinstance(criteria, str):
        raise BadRequest(f'"{where}.criteria" is required and must be an RSQL string')
    parse_metadata_terms(criteria, field=f"{where}.criteria")
    return {"name": name.strip(), "description": description, "criteria": criteria.strip()}


def criteria_terms(group: Group) -> list[tuple[str, str]]:
    """The stored criteria's ``(key, value)`` terms (checked when the group was written)."""
    return parse_metadata_terms(group.criteria, field="criteria", limit=None)


def group_json(group: Group) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "description": group.description or "",
        "criteria": group.criteria,
    }
