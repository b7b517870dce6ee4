"""Database tables. Times are stored as UTC datetimes; audio positions as seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UTCDateTime(),
    }


class App(Base):
    """An API client: an appId/appSecret pair and the claims of its current access token.

    The token itself is never stored: it is a JWT that verifies by signature, and the
    same token is re-encoded from these claims when the app asks again.
    """

    __tablename__ = "apps"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    secret_hash: Mapped[str] = mapped_column(String(128))
    token_jti: Mapped[str | None] = mapped_column(String(64))
    token_issued_at: Mapped[datetime | None]
    token_expires_at: Mapped[datetime | None]
    #: A lease: while in the future, one tracker write of this app is running.
    tracker_lock_until: Mapped[datetime | None]
    #: Bumped by every change to the app's custom entities, so a conversation whose
    #: entities were detected with an older list is known to need detecting again.
    entities_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """One conversation; appended audio extends ``duration``."""

    __tablename__ = "conversations"
    # the list and a group's conversations: one app's, in a time window, by start time
    __table_args__ = (Index("ix_conversations_app_start", "app_id", "start_time", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(32), default="meeting")
    start_time: Mapped[datetime] = mapped_column(default=utcnow)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    billing_duration: Mapped[float] = mapped_column(Float, default=0.0)
    language: Mapped[str | None] = mapped_column(String(16))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    #: The options of the latest job: what insights are recomputed with.
    insight_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationMetadata(Base):
    """One key of a conversation's ``metadata``, as a row: what group criteria and list
    filters match in SQL (a JSON column cannot be indexed on keys nobody knows in advance).

    Written only through ``storage.conversations.set_metadata`` (and the bulk import),
    beside the JSON column that the API answers from; the value is the string the criteria
    compare with. ``start_time`` is the conversation's, copied so that one index range
    gives a term's matches in a window already in list order (a conversation's start is
    fixed when it is created, before it can have metadata).
    """

    __tablename__ = "conversation_metadata"
    __table_args__ = (
        Index(
            "ix_conversation_metadata_match",
            "app_id",
            "key",
            "value",
            "start_time",
            "conversation_id",
        ),
    )

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    start_time: Mapped[datetime]


class Group(Base):
    """A conversation group: conversations whose metadata satisfies ``criteria`` (RSQL),
    evaluated when the group's conversations are asked for."""

    __tablename__ = "conversation_groups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    criteria: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Bookmark(Base):
    """A bookmark on a conversation (spec R.3): a labelled stretch of it.

    Its content is ``message_ids`` (sequential messages) when they were named, else the
    messages in the window ``begin_time_offset`` + ``duration`` (whole seconds from the
    conversation's start), found when read, so messages appended later are in it."""

    __tablename__ = "bookmarks"
    __table_args__ = (Index("ix_bookmarks_conversation", "conversation_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    #: ``{name?, userId?, email?}`` as given ("user" is a reserved word in SQL).
    user: Mapped[dict[str, Any]] = mapped_column("user_info", default=dict)
    begin_time_offset: Mapped[int] = mapped_column(Integer)
    duration: Mapped[int] = mapped_column(Integer)
    message_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobStatus(StrEnum):
    """The job lifecycle: scheduled → in_progress → completed | failed.

    Exactly Symbl's four values: the Python SDK turns them into an Enum and breaks on
    anything else.
    """

    #: Accepted and waiting for a worker (or for an earlier job of its conversation).
    SCHEDULED = "scheduled"
    #: A worker is running it.
    IN_PROGRESS = "in_progress"
    #: Results are stored and readable.
    COMPLETED = "completed"
    #: Ended without results; ``reason`` says why.
    FAILED = "failed"


#: Statuses that count against an app's concurrency limit.
ACTIVE = (JobStatus.SCHEDULED, JobStatus.IN_PROGRESS)


class Job(Base):
    """One submission. ``seq`` orders the jobs of a conversation (FIFO)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(32), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # audio | video | text
    source: Mapped[str] = mapped_column(String(16))  # file | url | text
    input_ref: Mapped[str | None] = mapped_column(Text)  # audio key or URL
    input_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # text messages
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str | None] = mapped_column(Text)
    #: How many times a worker has claimed it; bounded by ``job_max_attempts``.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The worker process holding it while in progress (see ``parley.jobs.owners``).
    worker_id: Mapped[str | None] = mapped_column(String(128))
    #: What a finished job wants the user to know, e.g. audio that was not transcribed.
    warnings: Mapped[list[Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Member(Base):
    """A participant. ``label`` ties a diarized or per-channel speaker to its job."""

    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    label: Mapped[str | None] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    """One sentence. ``start``/``end`` are seconds from the conversation's start."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_start", "conversation_id", "start"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[str] = mapped_column(String(36))
    member_id: Mapped[str | None] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    words: Mapped[list[Any]] = mapped_column(default=list)
    phrases: Mapped[list[Any]] = mapped_column(default=list)
    sentiment: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Insight(Base):
    """One kind of insight (questions, topics, …) for a conversation, as JSON."""

    __tablename__ = "insights"

    conversation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Tracker(Base):
    """A tracker stored through the Management API."""

    __tablename__ = "trackers"
    __table_args__ = (Index("ux_trackers_app_name", "app_id", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    vocabulary: Mapped[list[Any]] = mapped_column(default=list)
    exclude_vocabulary: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EntityDefinition(Base):
    """A custom entity stored through the Management API: ``values`` are looked for,
    exactly, in the app's conversations. ``sub_type`` is unique within a ``type``."""

    __tablename__ = "entity_definitions"
    __table_args__ = (
        Index("ux_entity_definitions_app_type_subtype", "app_id", "type", "sub_type", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), index=True)
    type: Mapped[str] = mapped_column(String(255))
    sub_type: Mapped[str] = mapped_column(String(255))
    category: Mapped[str] = mapped_column(String(16), default="Custom")
    values: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One webhook event waiting for, or done with, delivery (an outbox row).

    Kept in the database so a restart or a crashed worker loses no event: whichever process
    runs a dispatcher next picks up what is still pending.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    #: Standard Webhooks ``webhook-id``: one per status change, the same on every retry,
    #: replay or re-run after a crash, so a receiver can de-duplicate on it.
    event_id: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DisabledWebhookUrl(Base):
    """A webhook URL that answered 410 Gone: nothing more is sent to it until a replay."""

    __tablename__ = "webhook_disabled_urls"

    url_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    disabled_at: Mapped[datetime] = mapped_column(default=utcnow)


class RevokedToken(Base):
    """A token refused before its ``exp`` (``DELETE /oauth2/token:revoke``, or a refresh
    token once used). In the database, so every API process refuses it at once; a row is
    kept only until the token would have expired anyway."""

    __tablename__ = "revoked_tokens"

    #: The token's ``jti`` claim (a refresh token's is its access token's ``jti`` + ``.r``).
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppSettings(Base):
    """An app's user settings (``/v1/manage/settings``): only the keys that were set."""

    __tablename__ = "app_settings"

    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CallScoreCriterion(Base):
    """A custom call-score criterion (``/v1/manage/callscore/criteria``): checklist
    questions, each with a priority, judged against a conversation's transcript."""

    __tablename__ = "callscore_criteria"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    #: ``[{"question", "priority"}]``
    checklist: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CallScoreScorecard(Base):
    """A scorecard: the criteria (managed ``Symbl.*`` ids or custom ids) a call is scored on."""

    __tablename__ = "callscore_scorecards"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    criteria_list: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
