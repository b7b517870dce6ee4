"""Symbl's RSQL subset over conversation metadata: ``conversation.metadata.key==value``.

One grammar for the conversation list's ``filter``, a group's ``criteria`` and the
``filter`` of a group's conversations: at most two ``==`` terms joined by ``and`` or ``;``,
no OR (``,`` or ``or``), values bare or quoted. Symbl documented only this much of RSQL.

No PyPI RSQL parser was both kept up and able to read Symbl's spelling (``a==1 and b==2``
with a spaced ``and``; the FIQL ones know only ``;``), and the grammar is tiny, so it is
read here by one left-to-right scan: linear on any input (an earlier single regex
backtracked for 78 s on 100,000 spaces).
"""

from __future__ import annotations

import re

from parley.errors import BadRequest
from parley_client.wire.limits import LIMITS

__all__ = ["MAX_TERMS", "parse_metadata_filter", "parse_metadata_terms"]

#: Symbl: "up to 2 parameters per criterion / filter".
MAX_TERMS = 2
_METADATA_KEY = re.compile(r"[\w.-]+")
_PREFIX = "conversation.metadata."
_QUOTES = "'\""
#: RSQL comparison operators other than ``==``, named in the refusal.
_OTHER_OPERATORS = ("!=", "=gt=", "=ge=", "=lt=", "=le=", "=in=", "=out=", ">=", "<=", "<", ">")
_BARE_FORBIDDEN = frozenset("'\"()!<>=")


def _split(raw: str, field: str) -> list[str]:
    """The terms between top-level ``;``/``and`` separators; OR anywhere outside quotes is
    refused. One pass, quotes respected, so ``'rock and roll'`` is one value."""
    terms: list[str] = []
    start, quote, i, n = 0, "", 0, len(raw)
    while i < n:
        char = raw[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in _QUOTES:
            quote = char
        elif char == ",":
            raise _no_or(field)
        elif char == ";":
            terms.append(raw[start:i])
            start = i + 1
        elif char.isspace():
            word = raw[i + 1 : i + 5].lower()
            if word[:3] == "and" and (len(word) < 4 or word[3].isspace()):
                terms.append(raw[start:i])
                start = i + 4
                i += 3
            elif word[:2] == "or" and (len(word) < 3 or word[2].isspace()):
                raise _no_or(field)
        i += 1
    if quote:
        raise BadRequest(f'"{field}" has a quote that is never closed')
    terms.append(raw[start:])
    return terms


def _no_or(field: str) -> BadRequest:
    return BadRequest(
        f'"{field}" must not use OR ("," or "or"): join at most {MAX_TERMS} conditions with "and"'
    )


def _term(text: str, field: str) -> tuple[str, str]:
    term = text.strip()
    if not term:
        raise BadRequest(
            f'"{field}" has an empty condition: write conversation.metadata.key==value'
        )
    left, sep, right = term.partition("==")
    if not sep:
        used = next((op for op in _OTHER_OPERATORS if op in term), None)
        if used:
            raise BadRequest(f'"{field}" supports only the == operator, not {used}')
        raise BadRequest(f'"{field}" must look like conversation.metadata.key==value')
    left, value = left.strip(), right.strip()
    key = left.removeprefix(_PREFIX)
    if key == left:
        raise BadRequest(
            f'"{field}" can only test conversation metadata: write conversation.metadata.key==value'
        )
    if not _METADATA_KEY.fullmatch(key):
        raise BadRequest(f'"{field}" has an invalid metadata key: use letters, digits, _ . -')
    if len(value) >= 2 and value[0] in _QUOTES and value[-1] == value[0]:
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    elif any(c in _BARE_FORBIDDEN or c.isspace() for c in value):
        raise BadRequest(f'"{field}" has a value that must be quoted: {key}=="..."')
    if not value:
        raise BadRequest(f'"{field}" has no value for conversation.metadata.{key}')
    if len(value) > LIMITS["metadata_value"]:
        raise BadRequest(
            f'"{field}" value for {key} is longer than {LIMITS["metadata_value"]} characters'
        )
    return key, value


def parse_metadata_terms(
    raw: str, *, field: str = "filter", limit: int | None = LIMITS["filter_chars"]
) -> list[tuple[str, str]]:
    """``conversation.metadata.k==v [and|; ...]`` → [(k, v), ...], or a 400 naming ``field``
    and what is wrong with it."""
    if limit is not None and len(raw) > limit:
        raise BadRequest(f'"{field}" must be at most {limit} characters')
    if not raw.strip():
        raise BadRequest(f'"{field}" must not be empty')
    texts = _split(raw, field)
    if len(texts) > MAX_TERMS:
        raise BadRequest(
            f'"{field}" has {len(texts)} conditions; '
            f'at most {MAX_TERMS} joined by "and" are allowed'
        )
    terms = [_term(text, field) for text in texts]
    keys = [key for key, _ in terms]
    if len(set(keys)) != len(keys):
        raise BadRequest(f'"{field}" tests conversation.metadata.{keys[0]} twice')
    return terms


def parse_metadata_filter(
    raw: str | None, *, limit: int | None = LIMITS["filter_chars"]
) -> dict[str, str]:
    """The conversation list's ``filter`` as {key: value}; ``{}`` when absent."""
    if not raw:
        return {}
    return dict(parse_metadata_terms(raw, field="filter", limit=limit))
