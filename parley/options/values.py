"""How one raw option value becomes a typed one, whatever spelling the client used.

Symbl clients send the same option in many spellings: JSON booleans or the strings
"true"/"false", lists as a JSON array string or as repeated query keys, and (a Python SDK
bug) one query key per character of the JSON text. These parsers accept all of them and
turn anything else into a ``BadRequest`` naming the option. Each takes the option's name
and its raw values (one per occurrence: a query string's repeated keys, or a one-element
list holding a JSON body's value).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from parley.errors import BadRequest
from parley.options.jsonload import json_depth, loads_bounded
from parley.outbound import check_url_shape
from parley_client.wire.limits import LIMITS

__all__ = [
    "Raw",
    "boolean",
    "integer",
    "json_value",
    "number",
    "object_list",
    "single",
    "string",
    "string_list",
    "url",
    "validate_url",
]

Raw = Sequence[Any]


def single(name: str, raw: Raw) -> Any:
    """The last occurrence wins (a body's value is the only one)."""
    return raw[-1]


def boolean(name: str, raw: Raw) -> bool:
    value = single(name, raw)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", ""):
        return False
    raise BadRequest(f'"{name}" must be a boolean')


def number(name: str, raw: Raw) -> float:
    """A finite number (NaN and infinities are refused, as is a 5,000-digit literal)."""
    value = single(name, raw)
    if isinstance(value, bool) or (isinstance(value, str) and len(value) > 64):
        raise BadRequest(f'"{name}" must be a number')
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        raise BadRequest(f'"{name}" must be a number') from None
    if not math.isfinite(result):
        raise BadRequest(f'"{name}" must be a finite number')
    return result


def integer(name: str, raw: Raw) -> int:
    result = number(name, raw)
    if result != int(result):
        raise BadRequest(f'"{name}" must be an integer')
    return int(result)


def string(name: str, raw: Raw, limit: int = LIMITS["string"]) -> str:
    value = single(name, raw)
    if not isinstance(value, str):
        raise BadRequest(f'"{name}" must be a string')
    if len(value) > limit:
        raise BadRequest(f'"{name}" must be at most {limit} characters')
    return value


def json_value(name: str, raw: Raw) -> Any:
    """A JSON array/object given as JSON, as a JSON string, or split per character."""
    if len(raw) > 1 and all(isinstance(v, str) and len(v) <= 1 for v in raw):
        joined = "".join(raw)  # the Python SDK's one-key-per-character quirk
        if joined.lstrip()[:1] in ("[", "{"):
            raw = [joined]
    if len(raw) > 1:
        return list(raw)
    value = raw[0]
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("[", "{"):
            return loads_bounded(text, f'"{name}"', field=name)
        return [value] if text else []
    if json_depth(value) > LIMITS["json_depth"]:
        raise BadRequest(f'"{name}" is nested deeper than {LIMITS["json_depth"]} levels.')
    return value


def string_list(name: str, raw: Raw) -> tuple[str, ...]:
    value = json_value(name, raw)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f'"{name}" must be an array of strings')
    if len(value) > LIMITS["vocabulary_items"]:
        raise BadRequest(f'"{name}" must have at most {LIMITS["vocabulary_items"]} items')
    if any(len(v) > LIMITS["vocabulary_chars"] for v in value):
        raise BadRequest(f'"{name}" items must be at most {LIMITS["vocabulary_chars"]} characters')
    return tuple(v.strip() for v in value if v.strip())


def object_list(name: str, raw: Raw) -> list[dict[str, Any]]:
    value = json_value(name, raw)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadRequest(f'"{name}" must be an array of objects')
    return value


def validate_url(name: str, value: Any) -> str:
    """An absolute http(s) URL without control characters, or BadRequest naming the
    option. Where it may connect to is the outbound guard's business (``parley.outbound``)."""
    return check_url_shape(name, value)


def url(name: str, raw: Raw) -> str:
    return validate_url(name, single(name, raw))
