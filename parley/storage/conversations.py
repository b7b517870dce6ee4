"""Stored conversations: the conversation row, its members, messages and insights.

A job's results are written by ``store_transcript`` inside the caller's
transaction together with the job's terminal status, so readers never see a
conversation half-written by a job that then failed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from parley import ids
from parley.errors import NotFound
from parley.storage.models import (
    Bookmark,
    Conversation,
    ConversationMetadata,
    Insight,
    Job,
    Member,
    Message,
)

__all__ = [
    "NOT_FOUND",
    "ImportedConversation",
    "MemberSpec",
    "MessageSpec",
    "StoredWord",
    "create_conversation",
    "delete_conversation",
    "find_by_email",
    "get_conversation",
    "get_insights",
    "import_conversations",
    "list_conversations",
    "list_members",
    "list_messages",
    "members_of_many",
    "message_count",
    "metadata_text",
    "move_messages",
    "resolve_members",
    "set_insights",
    "set_metadata",
    "store_transcript",
]

NOT_FOUND = (
    "The conversation and/or it's metadata you asked could not be found, "
    "please check the input provided"
)


class StoredWord(TypedDict):
    """One word of a stored message (``Message.words``): seconds from the conversation start."""

    word: str
    start: float
    end: float
    score: float


@dataclass(frozen=True)
class MemberSpec:
    """A participant a job found: a diarization label, a channel or a text author."""

    label: str
    name: str
    email: str | None = None


@dataclass(frozen=True)
class MessageSpec:
    """A sentence to store; times are seconds from the conversation's start.

    The id is chosen up front, so insights can be computed (and refer to the message)
    before the message is written.
    """

    text: str
    start: float
    end: float
    label: str | None = None  # MemberSpec.label of the speaker
    words: list[StoredWord] = field(default_factory=list)
    id: str = field(default_factory=ids.numeric_id)


def find_by_email(
    members: Iterable[Member], email: str | None, *, exclude: str | None = None
) -> Member | None:
    """The member with this e-mail (case-insensitive), other than ``exclude``: the one rule
    by which a known person is recognised across files, renames and speaker events."""
    if not email:
        return None
    wanted = email.strip().lower()
    return next(
        (m for m in members if m.email and m.email.lower() == wanted and m.id != exclude), None
    )


def resolve_members(
    existing: Sequence[Member], specs: Iterable[MemberSpec], conversation_id: str
) -> dict[str, Member]:
    """label → member for a job's speakers: an existing member by label, then by e-mail
    (a known person on a second appended file is the same member), else a new member,
    not yet added to any session."""
    by_label = {m.label: m for m in existing if m.label}
    position = max((m.position for m in existing), default=0)
    resolved: dict[str, Member] = {}
    for spec in specs:
        member = by_label.get(spec.label) or find_by_email(existing, spec.email)
        if member is None:
            position += 1
            member = Member(
                id=ids.uuid_id(),
                conversation_id=conversation_id,
                name=spec.name,
                email=spec.email,
                label=spec.label,
                position=position,
            )
        resolved[spec.label] = member
    return resolved


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
    metadata_filter: Mapping[str, str] | Sequence[tuple[str, str]] = (),
) -> list[Conversation]:
    """One page of the app's conversations in the window whose metadata has every
    ``key == value`` of ``metadata_filter`` (all of them: a key named twice with two
    values matches nothing). Matched in SQL on ``conversation_metadata``, so the
    database pages, and no conversation outside the page is read."""
    if not limit:
        return []
    terms = list(
        metadata_filter.items() if isinstance(metadata_filter, Mapping) else metadata_filter
    )
    if len(terms) > 1:  # the rarest term drives (see _matches)
        terms.sort(key=lambda term: _matches(session, app_id, term, start, end))
    query = select(Conversation).where(Conversation.app_id == app_id)
    # With terms, the first term's rows drive: its index range (app, key, value, start)
    # holds the matches of the window already in list order, so a page reads only itself.
    started, tie = Conversation.start_time, Conversation.id
    for n, (key, value) in enumerate(terms):
        row = aliased(ConversationMetadata)
        query = query.join(
            row,
            (row.conversation_id == Conversation.id)
            & (row.app_id == app_id)
            & (row.key == key)
            & (row.value == value),
        )
        if n == 0:
            started, tie = row.start_time, row.conversation_id
    if start is not None:
        query = query.where(started >= start)
    if end is not None:
        query = query.where(started <= end)
    column = Conversation.name if sort_by_name else started
    query = query.order_by(column.desc() if descending else column.asc(), tie)
    return list(session.scalars(query.limit(limit).offset(offset)))


#: How far ``_matches`` counts: enough to tell a rare term from a common one.
_PROBE = 1000


def _matches(
    session: Session,
    app_id: str,
    term: tuple[str, str],
    start: datetime | None,
    end: datetime | None,
) -> int:
    """How many conversations of the window have this term, counted up to ``_PROBE`` on the
    covering index: the driving term's range is read in order and the others probed per
    row, so a common term first (``region==emea and customerId==42``) would probe most of
    the window to find a handful."""
    row = ConversationMetadata
    query = select(row.conversation_id).where(
        row.app_id == app_id, row.key == term[0], row.value == term[1]
    )
    if start is not None:
        query = query.where(row.start_time >= start)
    if end is not None:
        query = query.where(row.start_time <= end)
    return session.scalar(select(func.count()).select_from(query.limit(_PROBE).subquery())) or 0


def metadata_text(value: Any) -> str:
    """The string a criterion compares a metadata value with: strings as they are, any
    other JSON value as its JSON text (``88338833``, ``true``)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def set_metadata(*, session: Session, conversation: Conversation, metadata: dict[str, Any]) -> None:
    """Replace the conversation's metadata: the JSON the API answers with and the rows
    that criteria and filters match, in one transaction so they never disagree."""
    conversation.meta = dict(metadata)
    session.execute(
        delete(ConversationMetadata).where(ConversationMetadata.conversation_id == conversation.id)
    )
    session.add_all(
        ConversationMetadata(
            conversation_id=conversation.id,
            app_id=conversation.app_id,
            key=key,
            value=metadata_text(value),
            start_time=conversation.start_time,
        )
        for key, value in metadata.items()
    )
    session.flush()


@dataclass(frozen=True)
class ImportedConversation:
    """A conversation written in bulk: its start, name and metadata (no transcript)."""

    start_time: datetime
    metadata: dict[str, Any]
    name: str | None = None
    members: tuple[str, ...] = ()
    id: str = field(default_factory=ids.conversation_id)


def import_conversations(
    *, session: Session, app_id: str, items: Sequence[ImportedConversation]
) -> None:
    """Write many conversations with their metadata rows and members in a few
    multi-row inserts (the ORM's one-at-a-time flush would take minutes for 100,000)."""
    if not items:
        return
    session.execute(
        insert(Conversation),
        [
            {
                "id": c.id,
                "app_id": app_id,
                "name": c.name or c.id,
                "type": "meeting",
                "start_time": c.start_time,
                "duration": 0.0,
                "billing_duration": 0.0,
                "meta": c.metadata,
                "insight_options": {},
                "created_at": c.start_time,
            }
            for c in items
        ],
    )
    rows = [
        {
            "conversation_id": c.id,
            "app_id": app_id,
            "key": k,
            "value": metadata_text(v),
            "start_time": c.start_time,
        }
        for c in items
        for k, v in c.metadata.items()
    ]
    if rows:
        session.execute(insert(ConversationMetadata), rows)
    members = [
        {"id": ids.uuid_id(), "conversation_id": c.id, "name": name, "position": position}
        for c in items
        for position, name in enumerate(c.members, 1)
    ]
    if members:
        session.execute(insert(Member), members)


def delete_conversation(*, session: Session, conversation: Conversation) -> None:
    cid = conversation.id
    for model in (Message, Member, Insight, Job, ConversationMetadata, Bookmark):
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


def members_of_many(
    *, session: Session, conversation_ids: Sequence[str]
) -> dict[str, list[Member]]:
    """Each conversation's members in list order, in one query for a page of them."""
    found: dict[str, list[Member]] = defaultdict(list)
    for start in range(0, len(conversation_ids), 500):  # bound the bound parameters
        chunk = conversation_ids[start : start + 500]
        for member in session.scalars(
            select(Member)
            .where(Member.conversation_id.in_(chunk))
            .order_by(Member.conversation_id, Member.position, Member.name)
        ):
            found[member.conversation_id].append(member)
    return {cid: found.get(cid, []) for cid in conversation_ids}


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
    members: dict[str, Member],
    messages: Sequence[MessageSpec],
    duration: float,
    billing_duration: float,
    language: str | None,
) -> None:
    """Add one job's members (from ``resolve_members``) and messages, and extend the
    conversation."""
    known = {m.id for m in list_members(session=session, conversation_id=conversation.id)}
    for member in members.values():
        if member.id not in known:
            session.add(member)
            known.add(member.id)
    for spec in messages:
        speaker = members.get(spec.label) if spec.label else None
        session.add(
            Message(
                id=spec.id,
                conversation_id=conversation.id,
                job_id=job_id,
                member_id=speaker.id if speaker else None,
                text=spec.text,
                start=spec.start,
                end=spec.end,
                words=list(spec.words),
            )
        )
    conversation.duration = max(conversation.duration, duration)
    conversation.billing_duration += billing_duration
    conversation.language = conversation.language or language
    session.flush()


def move_messages(
    *, session: Session, conversation_id: str, source: Member, target: Member
) -> None:
    """Give every message of ``source`` to ``target`` (a merge of two members)."""
    session.execute(
        update(Message)
        .where(Message.conversation_id == conversation_id, Message.member_id == source.id)
        .values(member_id=target.id)
    )


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


def job_speaker_count(*, session: Session, job_id: str) -> int:
    """How many members hold words in the messages one job stored (its speakers found)."""
    return (
        session.scalar(
            select(func.count(func.distinct(Message.member_id))).where(
                Message.job_id == job_id, Message.member_id.is_not(None)
            )
        )
        or 0
    )
