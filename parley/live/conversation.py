"""A live stream's conversation: an ordinary conversation, written as the stream goes.

It is created at the first ``start_request`` of a connection (a 16-digit id the
Conversation API serves at once), each speaker is a member from the start, and every
final sentence is stored when it is final, by the function the batch pipeline stores a
transcript with (``storage.conversations.store_transcript``). Insights are recomputed by
``parley.conversations`` (gather, compute, apply: the same three steps and detectors as
after a job), over the conversation so far. A stream that ends without a stop keeps what
was stored; nothing waits for the end to write.

Every function here does blocking work (the database, the insight process): callers run
them in a thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from parley import conversations
from parley.conversations import InsightModels
from parley.errors import NotFound
from parley.insights import ConversationInsights
from parley.options import JobOptions
from parley.pipeline.schema import Sentence
from parley.storage import Storage
from parley.storage import conversations as store
from parley.storage.models import Conversation
from parley_client.wire.streaming import StartRequest

__all__ = [
    "DELETED",
    "LiveMember",
    "StoredSentence",
    "exists",
    "job_options",
    "join",
    "start",
    "store_sentences",
    "update_insights",
]

#: Why a stream ends when its conversation is deleted under it.
DELETED = "The conversation was deleted while the stream ran."


@dataclass(frozen=True)
class LiveMember:
    """A speaker of the stream: its member id is the ``user.id``/``from.id`` on the wire."""

    id: str
    name: str
    user_id: str | None


@dataclass(frozen=True)
class StoredSentence:
    """A final sentence as stored: id and times in the conversation."""

    id: str
    text: str
    start: float
    end: float
    words: tuple[tuple[str, float, float], ...]


def job_options(request: StartRequest) -> JobOptions:
    """The insight options a start request asks for, as a job's options (one vocabulary
    for both paths: what ``gather`` reads to recompute the conversation's insights)."""
    config = request.config
    trackers = tuple(
        {"name": t.name, "vocabulary": [v for v in t.vocabulary if v.strip()]}
        for t in request.trackers or ()
    )
    return JobOptions(
        name=request.title,
        custom_vocabulary=tuple(request.custom_vocabulary or ()),
        confidence_threshold=(
            config.confidence_threshold if config.confidence_threshold is not None else 0.5
        ),
        detect_entities=bool(config.detect_entities),
        language_code=config.language_code or "en-US",
        trackers=trackers,
        enable_all_trackers=bool(
            request.enable_all_trackers or (config.trackers and config.trackers.enable_all_trackers)
        ),
        timezone_offset=config.timezone_offset or 0,
        sentiment=bool(config.sentiment or request.sentiments),
    )


def start(storage: Storage, *, app_id: str, options: JobOptions) -> tuple[str, datetime]:
    """A new conversation for a connection: its id and start time."""
    with storage.session() as session:
        conversation = store.create_conversation(
            session=session, app_id=app_id, name=options.name, type="meeting"
        )
        conversation.insight_options = options.to_json()
        conversation.language = options.language
        session.flush()
        return conversation.id, conversation.start_time


def join(
    storage: Storage,
    *,
    conversation_id: str,
    stream_id: str,
    label: str,
    name: str,
    email: str | None,
) -> LiveMember:
    """The speaker's member (a known e-mail is the same member again), stored now so the
    conversation lists it while live. NotFound when the conversation is gone."""
    spec = store.MemberSpec(label=label, name=name, email=email)
    member_id, member_name = _store(
        storage, conversation_id=conversation_id, stream_id=stream_id, member=spec, messages=[]
    )
    return LiveMember(id=member_id, name=member_name, user_id=email or None)


def _store(
    storage: Storage,
    *,
    conversation_id: str,
    stream_id: str,
    member: store.MemberSpec,
    messages: list[store.MessageSpec],
    heard: float = 0.0,
) -> tuple[str, str]:
    """Store one speaker's messages (none: the speaker joins) with the conversation locked;
    the speaker's member id and name. NotFound when the conversation is gone."""
    with storage.session() as session:
        conversation = session.get(Conversation, conversation_id, with_for_update=True)
        if conversation is None:
            raise NotFound(DELETED)
        existing = store.list_members(session=session, conversation_id=conversation_id)
        members = store.resolve_members(existing, [member], conversation_id=conversation_id)
        store.store_transcript(
            session=session,
            conversation=conversation,
            job_id=stream_id,
            members=members,
            messages=messages,
            duration=max((m.end for m in messages), default=0.0),
            billing_duration=heard,
            language=None,
        )
        stored = members[member.label]
        return stored.id, stored.name


def store_sentences(
    storage: Storage,
    *,
    conversation_id: str,
    stream_id: str,
    member: LiveMember,
    label: str,
    sentences: Sequence[Sentence],
    offset: float,
    heard: float,
) -> list[StoredSentence]:
    """Store one final's sentences (times shifted by the stream's ``offset`` in the
    conversation); ``heard`` is the audio the final covers, billed. NotFound when the
    conversation is gone (deleted while live)."""
    specs = [conversations.message_spec(s, offset=offset, label=label) for s in sentences]
    spec = store.MemberSpec(label=label, name=member.name, email=member.user_id)
    _store(
        storage,
        conversation_id=conversation_id,
        stream_id=stream_id,
        member=spec,
        messages=specs,
        heard=heard,
    )
    return [
        StoredSentence(
            id=m.id,
            text=m.text,
            start=m.start,
            end=m.end,
            words=tuple((w["word"], w["start"], w["end"]) for w in m.words),
        )
        for m in specs
    ]


def update_insights(
    storage: Storage, *, conversation_id: str, insight: InsightModels
) -> ConversationInsights:
    """Recompute and store the conversation's insights over every sentence so far, by the
    same gather/compute/apply as after a job; the result, for the stream to present.
    NotFound when the conversation is gone."""
    with storage.session() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound(DELETED)
        data = conversations.gather(session=session, conversation=conversation, insight=insight)
    result = conversations.compute(data, insight.pool)
    with storage.session() as session:
        # locked while the insights are written: a delete waits, or comes first and is seen
        if session.get(Conversation, conversation_id, with_for_update=True) is None:
            raise NotFound(DELETED)
        conversations.apply(
            session=session,
            conversation_id=conversation_id,
            result=result,
            entities_version=data.entities_version,
        )
    return result


def exists(storage: Storage, conversation_id: str) -> bool:
    """Whether the conversation is still there (a stop checks before it completes)."""
    with storage.session() as session:
        return session.get(Conversation, conversation_id) is not None
