"""Bookmarks (spec R.3): a labelled stretch of a conversation, its JSON and its summary.

A bookmark's content is chosen one of two ways:

* ``beginTimeOffset`` + ``duration``: whole seconds from the conversation's start; the
  content is every message with any part inside the window (it ends after the window
  begins and starts before it ends), found when the bookmark is read, so audio appended
  later joins it. ``duration`` defaults to the app's ``/intelligence/bookmarks/duration``
  setting (R.6). A window that begins at or after the conversation's end is a 400.
* ``messageRefs``: ids of sequential messages of this conversation, in conversation
  order, none left out between them. The window is then derived (the first message's
  start rounded down, the last one's end rounded up) unless given too, in which case it
  must cover every named message. This is what lets a client send back the bookmark it
  read (it carries both) and change one field.

Go types the offsets as integers, so they are whole seconds here: a JSON number with a
fraction (``1.5``) is a 400; ``300.0`` is accepted as 300. Every answer carries both the
window and the ``messageRefs`` of the content.

A ``PUT`` replaces the whole bookmark: a field it leaves out is cleared (``messageRefs``
left out makes the content the window's; ``duration`` left out is the default again).

A bookmark's summary is the conversation summary's code (``summary.detect``) run over the
bookmark's messages alone, weighted with the conversation's stored topics and action
items that lie in it: only those messages are parsed, in the API's insight process. It
is always the extractive summary (no LLM call, even where one writes the conversation's),
so reading every bookmark's summary costs a parse of their messages and nothing more.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

from parley import user_settings
from parley.conversations import InsightModels, gather
from parley.errors import BadRequest
from parley.insights import Item, SummaryWindow, summarize_windows
from parley.storage import Storage
from parley.storage import app_settings as settings_store
from parley.storage import bookmarks as store
from parley.storage import conversations as conversations_store
from parley.storage.models import Bookmark, Conversation
from parley_client.wire.limits import LIMITS

__all__ = [
    "create",
    "delete",
    "get",
    "list_all",
    "replace",
    "summaries",
    "validated",
    "with_references",
]

_USER_KEYS = ("name", "userId", "email")


class _Timed(Protocol):
    """A message as far as a bookmark cares: its id and place."""

    @property
    def id(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


# -- checking a body -------------------------------------------------------------------------


def _text(body: dict[str, Any], name: str, where: str, limit: int) -> str:
    value = body.get(name)
    if value is None:
        raise BadRequest(f'"{where}{name}" is required')
    if not isinstance(value, str):
        raise BadRequest(f'"{where}{name}" must be a string')
    if not value.strip():
        raise BadRequest(f'"{where}{name}" is not allowed to be empty')
    if len(value) > limit:
        raise BadRequest(
            f'"{where}{name}" length must be less than or equal to {limit} characters long'
        )
    return value


def _seconds(body: dict[str, Any], name: str, where: str, least: int) -> int | None:
    """A whole number of seconds (``300`` or ``300.0``), or None when absent."""
    value = body.get(name)
    if value is None:
        return None
    most = LIMITS["bookmark_seconds" if name == "duration" else "bookmark_offset"]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value != int(value)
        or not least <= value <= most
    ):
        raise BadRequest(
            f'"{where}{name}" must be a whole number of seconds from {least} to {most}'
        )
    return int(value)


def _user(body: dict[str, Any], where: str) -> dict[str, str]:
    user = body.get("user")
    if user is None:
        raise BadRequest(f'"{where}user" is required')
    if not isinstance(user, dict):
        raise BadRequest(f'"{where}user" must be an object with name, userId and email')
    out: dict[str, str] = {}
    for key in _USER_KEYS:
        value = user.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > LIMITS["name"]:
            raise BadRequest(
                f'"{where}user.{key}" must be a string of at most {LIMITS["name"]} characters'
            )
        out[key] = value
    return out


def _message_refs(body: dict[str, Any], where: str) -> list[str]:
    refs = body.get("messageRefs")
    if refs is None:
        return []
    if not isinstance(refs, list):
        raise BadRequest(f'"{where}messageRefs" must be an array of {{"id"}} objects')
    if len(refs) > LIMITS["bookmark_refs"]:
        raise BadRequest(f'"{where}messageRefs" must have at most {LIMITS["bookmark_refs"]} items')
    out = []
    for i, ref in enumerate(refs):
        mid = ref.get("id") if isinstance(ref, dict) else None
        if not isinstance(mid, str) or not mid:
            raise BadRequest(f'"{where}messageRefs[{i}].id" is required and must be a string')
        out.append(mid)
    return out


def validated(body: Any, where: str = "") -> dict[str, Any]:
    """A bookmark body's fields, checked for shape (not yet against the conversation).

    ``where`` prefixes the field names in errors (``[2].`` for a bulk item)."""
    if not isinstance(body, dict):
        raise BadRequest(f'"{where.rstrip(".") or "bookmark"}" must be an object')
    return {
        "label": _text(body, "label", where, LIMITS["name"]),
        "description": _text(body, "description", where, LIMITS["string"]),
        "user": _user(body, where),
        "begin_time_offset": _seconds(body, "beginTimeOffset", where, 0),
        "duration": _seconds(body, "duration", where, 1),
        "message_ids": _message_refs(body, where),
    }


# -- checking against the conversation -------------------------------------------------------


def _in_window(messages: Sequence[_Timed], begin: float, duration: float) -> list[_Timed]:
    stop = begin + duration
    return [m for m in messages if m.start < stop and (m.end > begin or m.start >= begin)]


def _resolved(
    item: dict[str, Any],
    *,
    messages: Sequence[store.Span],
    conversation_duration: float,
    default_duration: int | None,
    where: str,
) -> dict[str, Any]:
    """The columns to store: ``item`` with its content checked against the conversation's
    messages and its window filled in."""
    begin, duration, refs = item["begin_time_offset"], item["duration"], item["message_ids"]
    if not refs:
        if begin is None:
            raise BadRequest(f'"{where}beginTimeOffset" or "{where}messageRefs" is required')
        if begin >= conversation_duration:
            raise BadRequest(
                f'"{where}beginTimeOffset" {begin} is outside the conversation, which lasts '
                f"{conversation_duration:g} seconds"
            )
        if duration is None:
            duration = default_duration
        if duration is None:
            raise BadRequest(
                f'"{where}duration" is required: no default is set at '
                "/intelligence/bookmarks/duration"
            )
        return {**item, "begin_time_offset": begin, "duration": duration}
    position = {m.id: i for i, m in enumerate(messages)}
    for i, mid in enumerate(refs):
        if mid not in position:
            raise BadRequest(
                f'"{where}messageRefs[{i}].id" {mid} is not a message of this conversation'
            )
        if i and position[mid] != position[refs[i - 1]] + 1:
            raise BadRequest(
                f'"{where}messageRefs" must name sequential messages: {mid} does not '
                f"directly follow {refs[i - 1]}"
            )
    named = [messages[position[mid]] for mid in refs]
    if begin is None:
        begin = math.floor(named[0].start)
    if duration is None:
        duration = max(1, math.ceil(max(m.end for m in named)) - begin)
    if len(_in_window(named, begin, duration)) != len(named):
        raise BadRequest(
            f'"{where}beginTimeOffset" and "{where}duration" must cover every message of '
            f'"{where}messageRefs" (or be left out)'
        )
    return {**item, "begin_time_offset": begin, "duration": duration}


def _content(bookmark: Bookmark, messages: Sequence[_Timed]) -> list[_Timed]:
    """The bookmark's messages: those it names (still there), else its window's."""
    if bookmark.message_ids:
        by_id = {m.id: m for m in messages}
        return [by_id[mid] for mid in bookmark.message_ids if mid in by_id]
    return _in_window(messages, bookmark.begin_time_offset, bookmark.duration)


def bookmark_json(bookmark: Bookmark, messages: Sequence[_Timed]) -> dict[str, Any]:
    return {
        "id": bookmark.id,
        "label": bookmark.label,
        "description": bookmark.description,
        "user": dict(bookmark.user or {}),
        "beginTimeOffset": bookmark.begin_time_offset,
        "duration": bookmark.duration,
        "messageRefs": [{"id": m.id} for m in _content(bookmark, messages)],
    }


# -- operations ------------------------------------------------------------------------------


def _checked(
    session: Session, conversation: Conversation, items: list[tuple[dict[str, Any], str]]
) -> tuple[list[dict[str, Any]], list[store.Span]]:
    settings = settings_store.get_settings(session=session, app_id=conversation.app_id)
    default = user_settings.bookmark_duration(settings)
    messages = store.message_spans(session=session, conversation_id=conversation.id)
    resolved = [
        _resolved(
            item,
            messages=messages,
            conversation_duration=conversation.duration,
            default_duration=default,
            where=where,
        )
        for item, where in items
    ]
    return resolved, messages


def _conversation(session: Session, app_id: str, conversation_id: str) -> Conversation:
    return conversations_store.get_conversation(
        session=session, conversation_id=conversation_id, app_id=app_id
    )


def _bulk_items(body: Any) -> list[Any]:
    """A bulk body's bookmarks: an array (R.3), or ``{"bookmarks": [...]}`` (the answer's
    shape, accepted too)."""
    items = body.get("bookmarks") if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        raise BadRequest("The request body must be a non-empty array of bookmarks.")
    if len(items) > LIMITS["bookmarks"]:
        raise BadRequest(f"The request body must have at most {LIMITS['bookmarks']} bookmarks.")
    return items


def create(
    storage: Storage, app_id: str, conversation_id: str, body: Any, *, bulk: bool
) -> list[dict[str, Any]]:
    """Check and store one bookmark, or (``bulk``) several, all or none. The conversation's
    owner is checked before the body, so another app's conversation is a 404 whatever it
    holds."""
    with storage.session() as session:
        conversation = _conversation(session, app_id, conversation_id)
        bodies = _bulk_items(body) if bulk else [body]
        where = [f"[{i}]." if bulk else "" for i in range(len(bodies))]
        items = [(validated(b, w), w) for b, w in zip(bodies, where, strict=True)]
        resolved, messages = _checked(session, conversation, items)
        created = store.create_bookmarks(
            session=session, app_id=app_id, conversation_id=conversation.id, items=resolved
        )
        return [bookmark_json(b, messages) for b in created]


def list_all(storage: Storage, app_id: str, conversation_id: str) -> list[dict[str, Any]]:
    with storage.session() as session:
        conversation = _conversation(session, app_id, conversation_id)
        bookmarks = store.list_bookmarks(session=session, conversation_id=conversation.id)
        messages = store.message_spans(session=session, conversation_id=conversation.id)
        return [bookmark_json(b, messages) for b in bookmarks]


def get(storage: Storage, app_id: str, conversation_id: str, bookmark_id: str) -> dict[str, Any]:
    with storage.session() as session:
        conversation = _conversation(session, app_id, conversation_id)
        bookmark = store.get_bookmark(
            session=session, conversation_id=conversation.id, bookmark_id=bookmark_id
        )
        messages = store.message_spans(session=session, conversation_id=conversation.id)
        return bookmark_json(bookmark, messages)


def replace(
    storage: Storage, app_id: str, conversation_id: str, bookmark_id: str, body: Any
) -> dict[str, Any]:
    """``PUT``: every field from ``body``; one it leaves out is cleared."""
    with storage.session() as session:
        conversation = _conversation(session, app_id, conversation_id)
        bookmark = store.get_bookmark(
            session=session, conversation_id=conversation.id, bookmark_id=bookmark_id
        )
        if isinstance(body, dict) and body.get("id") not in (None, bookmark_id):
            raise BadRequest('"id" must be the bookmarkId of the path')
        (item,), messages = _checked(session, conversation, [(validated(body), "")])
        store.update_bookmark(session=session, bookmark=bookmark, item=item)
        return bookmark_json(bookmark, messages)


def delete(storage: Storage, app_id: str, conversation_id: str, bookmark_id: str) -> None:
    with storage.session() as session:
        conversation = _conversation(session, app_id, conversation_id)
        session.delete(
            store.get_bookmark(
                session=session, conversation_id=conversation.id, bookmark_id=bookmark_id
            )
        )


# -- summaries -------------------------------------------------------------------------------


def _window(
    ids: set[str], messages: Sequence[Any], topics: list[Item], actions: list[Item]
) -> SummaryWindow:
    """A bookmark's messages and the stored topics and action items within them."""
    return (
        [m for m in messages if m.id in ids],
        [
            {**t, "messageIds": [i for i in t["messageIds"] if i in ids]}
            for t in topics
            if any(i in ids for i in t.get("messageIds") or ())
        ],
        [a for a in actions if a.get("messageIds") and all(i in ids for i in a["messageIds"])],
    )


def summaries(
    storage: Storage,
    insight: InsightModels,
    app_id: str,
    conversation_id: str,
    bookmark_id: str | None = None,
) -> list[tuple[str, list[Item]]]:
    """``(bookmarkId, summary items)`` of one bookmark, or of each of the conversation's."""
    with storage.session() as session:
        conversation = _conversation(session, app_id, conversation_id)
        if bookmark_id is None:
            bookmarks = store.list_bookmarks(session=session, conversation_id=conversation.id)
        else:
            bookmarks = [
                store.get_bookmark(
                    session=session, conversation_id=conversation.id, bookmark_id=bookmark_id
                )
            ]
        if not bookmarks:
            return []
        data = gather(session=session, conversation=conversation, insight=insight)
        stored = {
            kind: conversations_store.get_insights(
                session=session, conversation_id=conversation.id, kind=kind
            )
            for kind in ("topics", "action_items", "follow_ups")
        }
        actions = stored["action_items"] + stored["follow_ups"]
        windows = [
            _window(
                {m.id for m in _content(b, data.messages)},
                data.messages,
                stored["topics"],
                actions,
            )
            for b in bookmarks
        ]
        ids = [b.id for b in bookmarks]
    # extractive, even where an LLM writes the conversation's summary: a bookmarks-summary
    # read would otherwise make one LLM call per bookmark, every time it is read
    options = dataclasses.replace(data.options, llm=None)
    if insight.pool is not None:
        found = insight.pool.summaries(windows, options)
    else:
        found = summarize_windows(windows, options)
    return list(zip(ids, found, strict=True))


def with_references(storage: Storage, conversation_id: str, items: list[Item]) -> list[Item]:
    """The conversation summary's items, each whose messages all lie in one bookmark
    marked ``bookmarkReference: {id}`` (the oldest such bookmark). Unchanged, without a
    read of the messages, when the conversation has no bookmarks."""
    with storage.session() as session:
        bookmarks = store.list_bookmarks(session=session, conversation_id=conversation_id)
        if not bookmarks:
            return items
        messages = store.message_spans(session=session, conversation_id=conversation_id)
        contents = [(b.id, {m.id for m in _content(b, messages)}) for b in bookmarks]
    out = []
    for item in items:
        refs = {r.get("id") for r in item.get("messageRefs") or () if isinstance(r, dict)}
        found = next((bid for bid, ids in contents if refs and refs <= ids), None)
        out.append({**item, "bookmarkReference": {"id": found}} if found else item)
    return out
