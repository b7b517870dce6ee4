"""Stored bookmarks (spec R.3), each on one conversation of one app.

The routes check the conversation's owner first (``conversations.get_conversation``); a
bookmark is then looked up within that conversation, so another conversation's bookmark
id is a 404 like an unknown one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parley import ids
from parley.errors import BadRequest, NotFound
from parley.storage.models import Bookmark, Message
from parley_client.wire.limits import LIMITS

__all__ = [
    "Span",
    "create_bookmarks",
    "get_bookmark",
    "list_bookmarks",
    "message_spans",
    "update_bookmark",
]


def list_bookmarks(*, session: Session, conversation_id: str) -> list[Bookmark]:
    """The conversation's bookmarks, oldest first."""
    return list(
        session.scalars(
            select(Bookmark)
            .where(Bookmark.conversation_id == conversation_id)
            .order_by(Bookmark.created_at, Bookmark.id)
        )
    )


def get_bookmark(*, session: Session, conversation_id: str, bookmark_id: str) -> Bookmark:
    """The conversation's bookmark, or NotFound (also for another conversation's)."""
    bookmark = session.get(Bookmark, bookmark_id)
    if bookmark is None or bookmark.conversation_id != conversation_id:
        raise NotFound(f"Bookmark with id {bookmark_id} not found.")
    return bookmark


def create_bookmarks(
    *, session: Session, app_id: str, conversation_id: str, items: Sequence[dict[str, Any]]
) -> list[Bookmark]:
    """Store checked bookmarks (columns from ``parley.bookmarks``); at most
    ``LIMITS["bookmarks"]`` per conversation."""
    count = (
        session.scalar(
            select(func.count())
            .select_from(Bookmark)
            .where(Bookmark.conversation_id == conversation_id)
        )
        or 0
    )
    if count + len(items) > LIMITS["bookmarks"]:
        raise BadRequest(f"A conversation can have at most {LIMITS['bookmarks']} bookmarks.")
    bookmarks = [
        Bookmark(id=ids.numeric_id(), app_id=app_id, conversation_id=conversation_id, **item)
        for item in items
    ]
    session.add_all(bookmarks)
    session.flush()
    return bookmarks


def update_bookmark(*, session: Session, bookmark: Bookmark, item: dict[str, Any]) -> Bookmark:
    """Replace every field of the bookmark with the checked ``item``."""
    for key, value in item.items():
        setattr(bookmark, key, value)
    session.flush()
    return bookmark


class Span(NamedTuple):
    """A message's id and place, all a bookmark's content needs (not its text or words)."""

    id: str
    start: float
    end: float


def message_spans(*, session: Session, conversation_id: str) -> list[Span]:
    """The conversation's messages in conversation order (``list_messages``'s order)."""
    rows = session.execute(
        select(Message.id, Message.start, Message.end)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.start, Message.end, Message.id)
    )
    return [Span(*row) for row in rows]
