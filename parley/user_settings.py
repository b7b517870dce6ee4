"""An app's user settings (Symbl's ``/v1/manage/settings``, spec R.6), and where they apply.

The document holds only the keys that were set; ``PATCH`` takes an RFC 6902 array of
``add``/``replace``/``remove`` operations (applied with ``jsonpatch``) on the known paths:

* ``/intelligence/bookmarks/duration``: a bookmark's default length, whole seconds > 0;
* ``/redaction/default``: whether messages are redacted when a read does not say;
* ``/redaction/type``: ``default`` (an entity becomes its type, ``[PERSON_NAME]``) or
  ``obfuscation`` (asterisks, ``****``, what ``?redact=true`` has always given).

Operations apply to a document whose containers (``/intelligence/bookmarks``,
``/redaction``) exist, so ``add`` of a leaf needs no ``add`` of its parents; empty
containers are dropped again before storing. Anything else (an unknown path, another
``op``, a value of the wrong type, ``replace``/``remove`` of a key that is not set) is a
400 naming it, and nothing is stored.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import jsonpatch
import jsonpointer

from parley.errors import BadRequest
from parley.storage import Storage
from parley.storage import app_settings as store
from parley_client.wire.limits import LIMITS

__all__ = [
    "MAX_OPERATIONS",
    "Redaction",
    "app_settings",
    "bookmark_duration",
    "patch_settings",
    "redaction",
]

MAX_OPERATIONS = 100
#: The longest default bookmark: a day (the longest bookmark, too).
MAX_BOOKMARK_SECONDS = LIMITS["bookmark_seconds"]
_OPS = ("add", "replace", "remove")
_TYPES = ("default", "obfuscation")


def _seconds(path: str, value: Any) -> None:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 0 < value <= MAX_BOOKMARK_SECONDS
    ):
        raise BadRequest(
            f'"{path}" must be a whole number of seconds from 1 to {MAX_BOOKMARK_SECONDS}'
        )


def _boolean(path: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise BadRequest(f'"{path}" must be true or false')


def _redaction_type(path: str, value: Any) -> None:
    if value not in _TYPES:
        raise BadRequest(f'"{path}" must be one of {", ".join(map(repr, _TYPES))}')


#: Each setting's path and its check.
KNOWN: dict[str, Callable[[str, Any], None]] = {
    "/intelligence/bookmarks/duration": _seconds,
    "/redaction/default": _boolean,
    "/redaction/type": _redaction_type,
}
_CONTAINERS = {"/intelligence", "/intelligence/bookmarks", "/redaction"}


def _skeleton() -> dict[str, Any]:
    return {"intelligence": {"bookmarks": {}}, "redaction": {}}


def _merged(into: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    for key, value in settings.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merged(into[key], value)
        else:
            into[key] = copy.deepcopy(value)
    return into


def _checked(document: Any, path: str = "") -> dict[str, Any]:
    """``document`` with its empty containers dropped, after checking every key in it."""
    if not isinstance(document, dict):
        raise BadRequest(f'"{path}" must be an object')
    out: dict[str, Any] = {}
    for key, value in document.items():
        where = f"{path}/{jsonpointer.escape(str(key))}"
        if where in KNOWN:
            KNOWN[where](where, value)
            out[key] = value
        elif where in _CONTAINERS:
            inner = _checked(value, where)
            if inner:
                out[key] = inner
        else:
            raise BadRequest(f'Unknown setting "{where}"')
    return out


def _operations(body: Any) -> list[dict[str, Any]]:
    """The patch's operations, each checked for its ``op``, known ``path`` and ``value``."""
    if not isinstance(body, list) or not body:
        raise BadRequest("The request body must be a non-empty array of patch operations.")
    if len(body) > MAX_OPERATIONS:
        raise BadRequest(f"At most {MAX_OPERATIONS} patch operations per request")
    for number, op in enumerate(body):
        where = f"[{number}]"
        if not isinstance(op, dict):
            raise BadRequest(f'"{where}" must be an object with "op" and "path"')
        if op.get("op") not in _OPS:
            raise BadRequest(f'"{where}.op" must be one of "add", "replace", "remove"')
        path = op.get("path")
        if not isinstance(path, str) or (path not in KNOWN and path not in _CONTAINERS):
            raise BadRequest(
                f'"{where}.path": unknown setting {json.dumps(path)}; '
                f"known: {', '.join(sorted(KNOWN))}"
            )
        if op["op"] != "remove" and "value" not in op:
            raise BadRequest(f'"{where}.value" is required for "{op["op"]}"')
        unknown = set(op) - {"op", "path", "value"}
        if unknown:
            raise BadRequest(f'"{where}.{sorted(unknown)[0]}" is not allowed')
    return body


def apply_patch(settings: dict[str, Any], body: Any) -> dict[str, Any]:
    """``settings`` with the RFC 6902 patch ``body`` applied, checked; else BadRequest."""
    operations = _operations(body)
    document = _merged(_skeleton(), settings)
    for number, op in enumerate(operations):
        try:
            document = jsonpatch.apply_patch(document, [op])
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
            raise BadRequest(
                f'"[{number}]": "{op["path"]}" is not set, so it cannot be {op["op"]}d'
                + (' (use "add" to set it)' if op["op"] == "replace" else "")
            ) from None
        if not isinstance(document, dict):
            raise BadRequest(f'"[{number}]" must not replace the whole settings document')
        _checked(document)  # a wrong value is named by the operation that wrote it
        document = _merged(_skeleton(), document)  # a removed container is there again
    return _checked(document)


def app_settings(storage: Storage, app_id: str) -> dict[str, Any]:
    """The app's settings, only what was set (``{}`` when nothing was)."""
    with storage.session() as session:
        return store.get_settings(session=session, app_id=app_id)


def patch_settings(storage: Storage, app_id: str, body: Any) -> dict[str, Any]:
    """Apply an RFC 6902 patch to the app's settings; the settings afterwards."""
    with storage.session() as session:
        current = store.get_settings(session=session, app_id=app_id, for_update=True)
        updated = apply_patch(current, body)
        if updated != current:
            store.put_settings(session=session, app_id=app_id, settings=updated)
        return updated


class Redaction(NamedTuple):
    """How an app's messages are redacted when a read does not say."""

    default: bool
    #: ``default``: ``[PERSON_NAME]``; ``obfuscation``: ``****``.
    style: Literal["default", "obfuscation"]


def redaction(settings: dict[str, Any]) -> Redaction:
    """The redaction settings; unset, no redaction by default and ``****`` masks."""
    section = settings.get("redaction") or {}
    style = section.get("type")
    return Redaction(
        default=section.get("default") is True,
        style="default" if style == "default" else "obfuscation",
    )


def bookmark_duration(settings: dict[str, Any]) -> int | None:
    """``/intelligence/bookmarks/duration`` in seconds, if the app set it."""
    value = ((settings.get("intelligence") or {}).get("bookmarks") or {}).get("duration")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
