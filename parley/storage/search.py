"""Full-text search over what was said, with the database's own engine.

SQLite (the embedded default) uses the FTS5 table ``messages_fts``; PostgreSQL
uses ``to_tsvector('english', text)`` backed by a GIN index. Both are created by
migration 0005 and kept current by the database itself (triggers on SQLite, an
expression index on PostgreSQL), so storing or deleting messages needs no call
here: a deleted conversation's sentences leave the index with their rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select, text
from sqlalchemy.orm import Session

from parley.storage.models import Conversation, Message

__all__ = ["MAX_MATCHES", "Hit", "search_conversations"]

#: Sentences returned per conversation; a conversation can match hundreds of times.
MAX_MATCHES = 20

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    """A conversation that matched, by name and/or by the sentences listed."""

    conversation: Conversation
    messages: list[Message]
    origin: float  # the conversation's first sentence start: where ``timeOffset`` counts from


def _fts5_query(query: str) -> str | None:
    """User words → an FTS5 query of quoted terms (all in one sentence); ``word*`` is a prefix."""
    terms = []
    for match in _WORD.finditer(query):
        prefix = query[match.end() : match.end() + 1] == "*"
        terms.append(f'"{match.group()}"' + ("*" if prefix else ""))
    return " ".join(terms) or None


def _said(session: Session, query: str) -> ColumnElement[bool] | None:
    """The condition on ``Message`` rows whose text matches ``query`` (None: no words)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        fts = _fts5_query(query)
        if fts is None:
            return None
        ids = text("SELECT message_id FROM messages_fts WHERE messages_fts MATCH :q")
        return Message.id.in_(ids.bindparams(q=fts))
    if dialect == "postgresql":
        return func.to_tsvector("english", Message.text).op("@@")(
            func.websearch_to_tsquery("english", query)
        )
    # Other databases: a plain substring match (slow, but correct).
    return Message.text.ilike(f"%{query}%")


def search_conversations(
    *, session: Session, app_id: str, query: str, limit: int, offset: int
) -> list[Hit]:
    """The app's conversations whose name contains ``query`` or with a sentence that has
    all its words (stemmed, any case).

    Newest first, paged by ``limit``/``offset``; each with up to ``MAX_MATCHES``
    matching sentences in time order.
    """
    query = query.strip()
    if not query or limit <= 0:
        return []
    said = _said(session, query)
    dialect = session.get_bind().dialect.name
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    by_name = func.lower(Conversation.name).like(f"%{escaped}%", escape="\\")
    conditions = [by_name]
    if said is not None and dialect == "sqlite":  # the FTS table carries the conversation
        fts = text("SELECT conversation_id FROM messages_fts WHERE messages_fts MATCH :q")
        conditions.append(Conversation.id.in_(fts.bindparams(q=_fts5_query(query))))
    elif said is not None:
        conditions.append(Conversation.id.in_(select(Message.conversation_id).where(said)))
    conversations = list(
        session.scalars(
            select(Conversation)
            .where(Conversation.app_id == app_id, or_(*conditions))
            .order_by(Conversation.start_time.desc(), Conversation.id)
            .limit(limit)
            .offset(offset)
        )
    )
    messages: dict[str, list[Message]] = {c.id: [] for c in conversations}
    if said is not None and conversations:
        rows = session.scalars(
            select(Message)
            .where(Message.conversation_id.in_(list(messages)), said)
            .order_by(Message.conversation_id, Message.start, Message.id)
        )
        for row in rows:
            found = messages[row.conversation_id]
            if len(found) < MAX_MATCHES:
                found.append(row)
    origins: dict[str, float] = {
        cid: start
        for cid, start in session.execute(
            select(Message.conversation_id, func.min(Message.start))
            .where(Message.conversation_id.in_(list(messages)))
            .group_by(Message.conversation_id)
        )
    }
    return [Hit(c, messages[c.id], float(origins.get(c.id) or 0.0)) for c in conversations]
