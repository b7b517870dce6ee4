"""JSON loading with bounds: every JSON body and every JSON-valued option passes here.

``json.loads`` alone accepts what later breaks a job or a database: NaN, a 5,000-digit
integer, nesting deep enough to exhaust the stack, a NUL or a lone surrogate in a string.
``loads_bounded`` refuses all of them up front with a ``BadRequest`` naming what was sent.
"""

from __future__ import annotations

import json
from typing import Any

from parley.errors import BadRequest
from parley.textcheck import check_tree
from parley_client.wire.limits import LIMITS

__all__ = ["json_depth", "loads_bounded"]


def json_depth(value: Any) -> int:
    """The nesting depth of a parsed JSON value, without recursion (linear time)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > LIMITS["int_digits"]:
        raise ValueError("integer too long")
    return int(text)


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def loads_bounded(text: str | bytes, what: str, *, field: str = "") -> Any:
    """``json.loads`` that refuses, with a ``BadRequest`` naming ``what``: invalid JSON,
    NaN/Infinity, integers over 100 digits and nesting deeper than 32; and a NUL or a
    lone surrogate (``"\\ud800"``) in any string or key, naming its path (under
    ``field``, an option's name), as every JSON body and JSON option passes here."""
    try:
        value = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except RecursionError:
        raise BadRequest(f"{what} is nested too deeply.") from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(f"{what} is not valid JSON.") from None
    if json_depth(value) > LIMITS["json_depth"]:
        raise BadRequest(f"{what} is nested deeper than {LIMITS['json_depth']} levels.")
    check_tree(value, what, prefix=field)
    return value
