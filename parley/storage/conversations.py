"""Stored conversations: the conversation row, its members, messages and insights.

A job's results are written by ``store_transcript`` inside the caller's
transaction together with the job's terminal status, so readers never see a
conversation half-written by a job that then failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from parley import ids
from parley.errors import NotFound
from parley.storage.models import Conversation, Insight, Job, Member, Message

__all__ = [
    "NOT_FOUND",
    "MemberSpec",
    "MessageSpec",
    "create_conversation",
    "delete_conversation",
    "get_conversation",
    "get_insights",
    "list_conversations",
    "list_members",
    "list_messages",
    "set_insights",
    "store_transcript",
]

NOT_FOUND = (
    "The conversation and/or it's metadata you asked could not be found, "
    "please check the input provided"
)


@dataclass(frozen=True)
class MemberSpec:
    """A participant a job found: a diarization label, a channel or a text author."""

    label: str
    name: str
    email: str | None = None


@dataclass(frozen=True)
class MessageSpec:
    """A sentence to store; times are seconds from the conversation's start."""

    text: str
    start: float
    end: float
    label: str | None = None  # MemberSpec.label of the speaker
    words: list[dict[str, Any]] = field(default_factory=list)


def create_conversation(
    *, session: Session, app_id: str, name: str | None, type: str = "meeting"
) -> Conversation:
    conversation_id = ids.conversation_id()
    conversation = Conversation(
        id=conversation_id, app_id=app_id, name=name or conversation_id, type=type
    )
    session.add(conversation)
    session.flush()
    return conversation


def get_conversation(*, session: Session, conversation_id: str, app_id: str) -> Conversation:
    """The app's conversation, or NotFound (also for another app's conversation)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.app_id != app_id:
        raise NotFound(NOT_FOUND)
    return conversation


def list_conversations(
    *,
    session: Session,
    app_id: str,
    limit: int,
    offset: int,
    descending: bool,
    sort_by_name: bool,
    start: datetime | None,
    end: datetime | None,
    metadata_filter: dict[str, str],
) -> list[Conversation]:
    query = select(Conversation).where(Conversation.app_id == app_id)
    if start is not None:
        query = query.where(Conversation.start_time >= start)
    if end is not None:
        query = query.where(Conversation.start_time <= end)
    column = Conversation.name if sort_by_name else Conversation.start_time
    query = query.order_by(column.desc() if descending else column.asc(), Conversation.id)
    rows: Iterable[Conversation] = session.scalars(query)
    if metadata_filter:  # JSON filtering differs per database; filter the page in Python
        rows = (c for c in rows if all(c.meta.get(k) == v for k, v in metadata_filter.items()))
    return list(rows)[offset : offset + limit] if limit else []


def delete_conversation(*, session: Session, conversation: Conversation) -> None:
    cid = conversation.id
    for model in (Message, Member, Insight, Job):
        session.execute(delete(model).where(model.conversation_id == cid))
    session.delete(conversation)


def list_members(*, session: Session, conversation_id: str) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .where(Member.conversation_id == conversation_id)
            .order_by(Member.position, Member.name)
        )
    )


def list_messages(*, session: Session, conversation_id: str) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.start, Message.end, Message.id)
        )
    )


def store_transcript(
    *,
    session: Session,
    conversation: Conversation,
    job_id: str,
    members: Sequence[MemberSpec],
    messages: Sequence[MessageSpec],
    duration: float,
    billing_duration: float,
    language: str | None,
) -> dict[str, Member]:
    """Add one job's members and messages and extend the conversation.

    Members are matched by label first, then by email (so a known person on a
    second appended file is the same member), else created. Returns label → member.
    """
    existing = list_members(session=session, conversation_id=conversation.id)
    by_label = {m.label: m for m in existing if m.label}
    by_email = {m.email.lower(): m for m in existing if m.email}
    position = max((m.position for m in existing), default=0)
    resolved: dict[str, Member] = {}
    for spec in members:
        member = by_label.get(spec.label) or (
            by_email.get(spec.email.lower()) if spec.email else None
        )
        if member is None:
            position += 1
            member = Member(
                id=ids.uuid_id(),
                conversation_id=conversation.id,
                name=spec.name,
                email=spec.email,
                label=spec.label,
                position=position,
            )
            session.add(member)
        resolved[spec.label] = member
    for spec in messages:
        member = resolved.get(spec.label) if spec.label else None
        session.add(
            Message(
                id=ids.numeric_id(),
                conversation_id=conversation.id,
                job_id=job_id,
                member_id=member.id if member else None,
                text=spec.text,
                start=spec.start,
                end=spec.end,
                words=spec.words,
            )
        )
    conversation.duration = max(conversation.duration, duration)
    conversation.billing_duration += billing_duration
    conversation.language = conversation.language or language
    session.flush()
    return resolved


def get_insights(*, session: Session, conversation_id: str, kind: str) -> list[Any]:
    row = session.get(Insight, (conversation_id, kind))
    return list(row.payload) if row else []


def set_insights(*, session: Session, conversation_id: str, insights: dict[str, list[Any]]) -> None:
    for kind, payload in insights.items():
        row = session.get(Insight, (conversation_id, kind))
        if row is None:
            session.add(Insight(conversation_id=conversation_id, kind=kind, payload=payload))
        else:
            row.payload = payload


def message_count(*, session: Session, conversation_id: str) -> int:
    return (
        session.scalar(select(func.count()).where(Message.conversation_id == conversation_id)) or 0
    )
