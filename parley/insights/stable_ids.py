"""Insight ids that survive recomputation.

Insights are recomputed after every job, member rename, tracker change or ``refresh``,
and clients keep the ids they were given. An id is therefore derived from what the
insight is (its kind, its content and the messages it comes from), never drawn at
random: the same insight gets the same id every time, and only an insight whose content
or messages changed gets a new one. Speaker names are never part of the content, so a
rename keeps every id.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableSequence

from parley.ids import derived_id
from parley.insights.schema import Item

__all__ = ["insight_id", "make_unique"]


def insight_id(kind: str, content: str, message_ids: Iterable[str]) -> str:
    """The 16-digit id of an insight of ``kind`` with ``content`` from ``message_ids``."""
    return derived_id("insight", kind, content, *message_ids)


def make_unique(items: MutableSequence[Item]) -> MutableSequence[Item]:
    """Give true duplicates (same kind, content and messages) distinct ids, in place.

    The n-th repeat of an id gets an id derived from it and n, so repeats keep their ids
    across runs too as long as their order does.
    """
    seen: dict[str, int] = {}
    for item in items:
        base = item["id"]
        count = seen.get(base, 0)
        seen[base] = count + 1
        if count:
            item["id"] = derived_id("duplicate", base, str(count))
    return items
