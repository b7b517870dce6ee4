"""The conversation list's ``filter`` grammar: ``conversation.metadata.key==value``.

A query language of its own (two clauses joined by ``and``, no OR), parsed with string
operations rather than one regex, because a regex for it backtracked for 78 s on 100,000
spaces.
"""

from __future__ import annotations

import re

from parley.errors import BadRequest
from parley_client.wire.limits import LIMITS

__all__ = ["parse_metadata_filter"]

_FILTER_SPLIT = re.compile(r";|\band\b")
_FILTER_OR = re.compile(r",|\bor\b", re.IGNORECASE)
_METADATA_KEY = re.compile(r"[\w.-]+")
_FILTER_PREFIX = "conversation.metadata."


def parse_metadata_filter(
    raw: str | None, *, limit: int | None = LIMITS["filter_chars"]
) -> dict[str, str]:
    """``conversation.metadata.key==value[;|and ...]`` → {key: value}, in linear time.

    The clauses are split and then cut at ``==`` with string operations; the only
    patterns left have no nested or adjacent unbounded repeats, so no input makes them
    backtrack (the old single regex took 78 s on 100,000 spaces).
    """
    if not raw:
        return {}
    if limit is not None and len(raw) > limit:
        raise BadRequest(f'"filter" must be at most {limit} characters')
    clauses = _FILTER_SPLIT.split(raw)
    if len(clauses) > 2 or _FILTER_OR.search(raw):
        raise BadRequest('"filter" allows at most 2 conditions joined by "and"; OR is not allowed')
    result = {}
    for clause in clauses:
        left, sep, right = clause.partition("==")
        left, value = left.strip(), right.strip()
        key = left.removeprefix(_FILTER_PREFIX)
        if not sep or key == left or not value or not _METADATA_KEY.fullmatch(key):
            raise BadRequest('"filter" must look like conversation.metadata.key==value')
        result[key] = value.strip("'\"")
    return result
