"""The one check every incoming string and integer passes, and the repair of stored ones.

Python accepts strings and numbers that the layers below refuse much later: JSON's
``"\\ud800"`` decodes to a lone surrogate that cannot be encoded as UTF-8 (so SQLite, a
JSON response and PostgreSQL all fail on it), PostgreSQL refuses NUL in any text, and
``"²".isdigit()`` is True while ``int("²")`` raises, as does ``int()`` of 4,300 digits.
The API's edge runs every string through ``check_text``/``check_tree`` and every integer
through ``parse_int``, so each of them is a 400 naming the field, never a 500 deep inside.
``scrub`` turns a value already stored with such characters into one that can be served.

No imports from the API or the pipeline: both use it, and the storage migration does.
"""

from __future__ import annotations

import re
from typing import Any

from parley.errors import BadRequest

__all__ = [
    "bad_character",
    "check_text",
    "check_tree",
    "parse_capped",
    "parse_digits",
    "parse_int",
    "scrub",
]

#: What a refused character is replaced with when stored text is repaired.
REPLACEMENT = "\ufffd"
#: Digits beyond this are refused unread: no bound the API uses needs more, and
#: ``int()`` of a long digit string costs quadratic time (and raises past 4,300).
MAX_DIGITS = 18
_REFUSED = re.compile("[\x00\ud800-\udfff]")


def bad_character(text: str) -> str | None:
    """Why ``text`` cannot be accepted ("a NUL character", "a lone surrogate"), or None.

    Linear, and nearly free for ASCII text (the usual case)."""
    if "\x00" in text:
        return "a NUL character"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate"
    return None


def check_text(text: str, where: str) -> str:
    """``text`` itself, or a ``BadRequest`` naming ``where`` (already quoted if need be)."""
    problem = bad_character(text)
    if problem is not None:
        raise BadRequest(f"{where} contains a character that is not allowed ({problem}).")
    return text


def _path(parts: tuple[Any, ...] | None) -> str:
    """The dotted path of a node from its linked (parent, key) tuples: a.b[0].c."""
    keys: list[Any] = []
    while parts is not None:
        parts, key = parts
        keys.append(key)
    text = ""
    for key in reversed(keys):
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def check_tree(value: Any, where: str, *, prefix: str = "") -> None:
    """Check every string of a parsed JSON value, keys included, without recursion.

    A refusal names the field by its path (``"metadata.foo"``, ``"messages[0].from.name"``);
    ``prefix`` is prepended to the path (an option's name), and ``where`` is used for a
    string at the top itself. The path is built only for the string refused.
    """
    stack: list[tuple[Any, tuple[Any, ...] | None]] = [(value, None)]
    while stack:
        item, parts = stack.pop()
        if isinstance(item, str):
            if bad_character(item) is not None:
                name = _path(parts)
                if prefix:
                    name = f"{prefix}{'' if name[:1] in ('', '[') else '.'}{name}"
                check_text(item, f'"{name}"' if name else where)
        elif isinstance(item, dict):
            for key, child in item.items():
                if bad_character(key) is not None:
                    name = prefix + _path(parts)
                    check_text(key, f'A key of "{name}"' if name else f"A key of {where}")
                stack.append((child, (parts, key)))
        elif isinstance(item, list):
            stack.extend((child, (parts, i)) for i, child in enumerate(item))


def parse_digits(text: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """The value of a string of ASCII digits, at most ``max_digits`` long, or None.

    Unlike ``str.isdigit``, refuses "²" and "٣"; unlike ``int``, refuses signs,
    underscores, blanks and a 5,000-digit string (before converting it)."""
    if not text or len(text) > max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def parse_capped(text: str, cap: int) -> int | None:
    """ASCII digits as a number of at most ``cap`` (``cap`` for any longer run, without
    reading it), or None when ``text`` is not ASCII digits: for values that only ever
    need "this much or more" (a byte position, a length, seconds to wait)."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0") or "0"
    return cap if len(digits) > len(str(cap)) else min(int(digits), cap)


def parse_int(name: str, raw: str, *, low: int = 0, high: int) -> int:
    """An integer query parameter or header value in ``[low, high]`` (``low`` ≥ 0), or a
    ``BadRequest`` naming it."""
    value = parse_digits(raw.strip())
    if value is None or not low <= value <= high:
        raise BadRequest(f'"{name}" must be an integer between {low} and {high}')
    return value


def scrub(value: Any) -> Any:
    """``value`` with every NUL and lone surrogate (in keys too) replaced by U+FFFD:
    what a row stored before the edge refused them is repaired to. Iterative, so a
    deeply nested stored value cannot exhaust the stack; unchanged values are returned
    as they are."""

    def fix(text: str) -> str:
        if bad_character(text) is None:
            return text
        return _REFUSED.sub(REPLACEMENT, text)

    if isinstance(value, str):
        return fix(value)
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]  # (container, key, item)
    while stack:
        container, key, item = stack.pop()
        if isinstance(item, str):
            container[key] = fix(item)
        elif isinstance(item, dict):
            copy: dict[str, Any] = {}
            for k, child in item.items():
                copy[fix(k) if isinstance(k, str) else k] = child
            container[key] = copy
            stack.extend((copy, k, child) for k, child in copy.items())
        elif isinstance(item, list):
            items = list(item)
            container[key] = items
            stack.extend((items, i, child) for i, child in enumerate(items))
    return root[0]
