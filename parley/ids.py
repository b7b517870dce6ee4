"""Identifier formats, as Symbl clients expect them.

Conversation ids are 16-digit numeric strings, job and member ids are UUID v4
strings, and everything else (messages, insights, trackers) is a numeric string.
Ids are always serialised as JSON strings.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

__all__ = ["conversation_id", "derived_id", "numeric_id", "uuid_id"]

_SPAN = 9 * 10**15


def conversation_id() -> str:
    """A 16-digit numeric string that never starts with 0."""
    return str(secrets.randbelow(9 * 10**15) + 10**15)


def derived_id(*parts: str) -> str:
    """A 16-digit numeric string determined by ``parts``: the same parts give the same id.

    Used where an id must survive recomputation (insights keep their ids across re-runs).
    """
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return str(int.from_bytes(digest[:8], "big") % _SPAN + 10**15)


def numeric_id() -> str:
    """A 16-digit numeric string for messages, insights, trackers and groups."""
    return conversation_id()


def uuid_id() -> str:
    """A UUID v4 string for jobs and members."""
    return str(uuid.uuid4())
