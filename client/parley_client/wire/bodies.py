"""The REST API's request bodies, as documented.

The routes check bodies by hand (their messages name the field the way Symbl's clients
expect, and job options come in many spellings, see ``parley.options``); these models
are what that checking accepts, with the same bounds (``LIMITS``), so the document and
the checks read one table. Job bodies also take every job option: the API layer adds the
option table's own schemas to ``UrlJob`` and ``TextJob``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from parley_client.wire.limits import LIMITS

__all__ = [
    "BookmarkBody",
    "EntityBody",
    "ExperienceRequest",
    "GroupBody",
    "MemberRename",
    "MemberUpdate",
    "MetadataUpdate",
    "PatchOperation",
    "RefreshRequest",
    "SettingsPatchOperation",
    "SpeakerEvents",
    "TextJob",
    "TextMessage",
    "TokenRefreshRequest",
    "TokenRequest",
    "TokenRevokeRequest",
    "TrackerBody",
    "TranscriptRequest",
    "UrlJob",
]

_NAME = LIMITS["name"]


class Body(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class TokenRequest(Body):
    type: Literal["application"] = "application"
    app_id: str = Field(alias="appId", min_length=1, max_length=1024)
    app_secret: str = Field(alias="appSecret", max_length=1024)


class TokenRefreshRequest(Body):
    """``POST /oauth2/token:refresh``: the credentials and the refresh token given with a token."""

    app_id: str = Field(alias="appId", min_length=1, max_length=1024)
    app_secret: str = Field(alias="appSecret", max_length=1024)
    refresh_token: str = Field(alias="refreshToken", min_length=1, max_length=4096)


class TokenRevokeRequest(Body):
    """``DELETE /oauth2/token:revoke``: the credentials of the presented token's app."""

    app_id: str = Field(alias="appId", min_length=1, max_length=1024)
    app_secret: str = Field(alias="appSecret", max_length=1024)


class UrlJob(Body):
    """A media URL to fetch, plus job options."""

    model_config = ConfigDict(extra="allow")
    url: str = Field(json_schema_extra={"format": "uri"}, max_length=4096)


class TextPayload(Body):
    content: str = Field(min_length=1, max_length=LIMITS["message_chars"])


class Author(Body):
    name: str | None = Field(None, max_length=_NAME)
    user_id: str | None = Field(None, alias="userId", max_length=_NAME)


class Span(Body):
    start_time: str | None = Field(
        None, alias="startTime", json_schema_extra={"format": "date-time"}
    )
    end_time: str | None = Field(None, alias="endTime", json_schema_extra={"format": "date-time"})


class TextMessage(Body):
    payload: TextPayload
    from_: Author | None = Field(None, alias="from")
    duration: Span | None = None


class TextJob(Body):
    """Messages to process as a conversation, plus job options."""

    model_config = ConfigDict(extra="allow")
    messages: list[TextMessage] = Field(min_length=1, max_length=LIMITS["messages"])


class MetadataUpdate(Body):
    metadata: dict[str, Any] = Field(
        json_schema_extra={
            "additionalProperties": {"type": "string", "maxLength": LIMITS["metadata_value"]},
            "propertyNames": {"maxLength": LIMITS["metadata_key"]},
            "maxProperties": LIMITS["metadata_keys"],
        }
    )


class MemberUpdate(Body):
    id: str
    name: str = Field(min_length=1, max_length=_NAME)
    email: str | None = Field(None, max_length=_NAME)


class MemberRename(Body):
    name: str = Field(min_length=1, max_length=_NAME)


class SpeakerUser(Body):
    id: str | None = None
    name: str | None = None
    email: str | None = None


class Offset(Body):
    seconds: float = 0
    nanos: float = 0


class SpeakerEvent(Body):
    type: Literal["started_speaking", "stopped_speaking"]
    user: SpeakerUser
    offset: Offset


class SpeakerEvents(Body):
    speaker_events: list[SpeakerEvent] = Field(alias="speakerEvents", min_length=1)


class PhraseOptions(Body):
    highlight_only_insight_key_phrases: bool | None = Field(
        None, alias="highlightOnlyInsightKeyPhrases"
    )
    highlight_all_key_phrases: bool | None = Field(None, alias="highlightAllKeyPhrases")


class TranscriptRequest(Body):
    content_type: Literal["text/markdown", "text/srt", "text/vtt"] = Field(alias="contentType")
    create_paragraphs: bool | None = Field(None, alias="createParagraphs")
    show_speaker_separation: bool | None = Field(None, alias="showSpeakerSeparation")
    phrases: PhraseOptions | None = None


class TrackerBody(Body):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    categories: list[str] | None = None
    languages: list[str] | None = None
    vocabulary: list[str] = Field(min_length=1)
    exclude_vocabulary: list[str] | None = Field(None, alias="excludeVocabulary")


class GroupBody(Body):
    """A conversation group to create, or (with its ``id``) to replace."""

    id: str | None = Field(None, description="On PUT, the group's id again (as go-sdk sends it)")
    name: str = Field(min_length=1, max_length=LIMITS["group_name"], pattern=r'^[\w "-]+$')
    description: str | None = Field(None, max_length=LIMITS["group_description"])
    criteria: str = Field(
        min_length=1,
        max_length=LIMITS["filter_chars"],
        description="conversation.metadata.key==value, at most two joined by `and` or `;`",
    )


class BookmarkUserBody(Body):
    name: str | None = Field(None, max_length=_NAME)
    user_id: str | None = Field(None, alias="userId", max_length=_NAME)
    email: str | None = Field(None, max_length=_NAME)


class MessageRefBody(Body):
    id: str = Field(min_length=1)


class BookmarkBody(Body):
    """A bookmark: ``beginTimeOffset`` (+ ``duration``, default the app's
    ``/intelligence/bookmarks/duration``) or ``messageRefs`` (sequential messages) choose
    its content. On PUT, a field left out is cleared."""

    label: str = Field(min_length=1, max_length=_NAME)
    description: str = Field(min_length=1, max_length=LIMITS["string"])
    user: BookmarkUserBody
    begin_time_offset: int | None = Field(
        None,
        alias="beginTimeOffset",
        ge=0,
        le=LIMITS["bookmark_offset"],
        description="Whole seconds from the conversation's start",
    )
    duration: int | None = Field(None, ge=1, le=LIMITS["bookmark_seconds"])
    message_refs: list[MessageRefBody] | None = Field(
        None, alias="messageRefs", max_length=LIMITS["bookmark_refs"]
    )


class EntityBody(Body):
    """A custom entity (Management API). An ``id`` in a PUT body is ignored: the path names
    the entity. ``category`` is ``Custom``; ``Managed`` is reserved for built-in entities."""

    type: str = Field(min_length=1, max_length=_NAME)
    sub_type: str = Field(alias="subType", min_length=1, max_length=_NAME)
    category: Literal["Custom"]
    values: list[Annotated[str, Field(min_length=1, max_length=LIMITS["entity_value_chars"])]] = (
        Field(
            min_length=1,
            max_length=LIMITS["entity_values"],
            json_schema_extra={"uniqueItems": True},
        )
    )


class PatchOperation(Body):
    op: Literal["add", "replace", "remove"]
    path: Literal[
        "/name", "/description", "/categories", "/languages", "/vocabulary", "/excludeVocabulary"
    ]
    value: Any = None


class SettingsPatchOperation(Body):
    """One RFC 6902 operation of ``PATCH /v1/manage/settings``."""

    op: Literal["add", "replace", "remove"]
    path: Literal[
        "/intelligence",
        "/intelligence/bookmarks",
        "/intelligence/bookmarks/duration",
        "/redaction",
        "/redaction/default",
        "/redaction/type",
    ]
    value: Any = None


class RefreshRequest(Body):
    """Insight options to change before recomputing (the submission's names)."""

    model_config = ConfigDict(extra="allow")


class Color(Body):
    background: str | None = None
    topics_filter: str | None = Field(None, alias="topicsFilter")
    insights_filter: str | None = Field(None, alias="insightsFilter")


class Font(Body):
    family: str = Field(max_length=100)


class ExperienceRequest(Body):
    name: Literal["verbose-text-summary", "video-summary", "audio-summary"]
    summary_url_expires_in: int | None = Field(None, alias="summaryURLExpiresIn", ge=0)
    read_only: bool | None = Field(None, alias="readOnly")
    logo: str | None = Field(None, max_length=2048)
    favicon: str | None = Field(None, max_length=2048)
    video_url: str | None = Field(None, alias="videoUrl", max_length=2048)
    color: Color | None = None
    font: Font | None = None


class ChecklistQuestionBody(Body):
    question: str = Field(min_length=1, max_length=LIMITS["string"])
    priority: Literal["high", "medium", "low"] = "medium"


class CriterionBody(Body):
    """A custom call-score criterion (POST and PUT; PATCH takes any of these fields)."""

    name: str = Field(min_length=1, max_length=_NAME)
    description: str | None = Field(default=None, max_length=LIMITS["string"])
    tags: list[Annotated[str, Field(min_length=1, max_length=_NAME)]] = Field(
        default_factory=list, max_length=LIMITS["tags"]
    )
    checklist: list[ChecklistQuestionBody] = Field(min_length=1, max_length=LIMITS["checklist"])


class ScorecardBody(Body):
    """A scorecard (POST and PUT; PATCH takes any of these fields): managed ``Symbl.*``
    ids and the app's criteria ids; an unknown id is a 400 naming it."""

    name: str = Field(min_length=1, max_length=_NAME)
    tags: list[Annotated[str, Field(min_length=1, max_length=_NAME)]] = Field(
        default_factory=list, max_length=LIMITS["tags"]
    )
    criteria_list: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        alias="criteriaList", min_length=1, max_length=LIMITS["scorecard_criteria"]
    )


class CriterionPatch(Body):
    """``PATCH …/criteria/{id}``: the fields to change; the rest are kept."""

    name: str | None = Field(default=None, min_length=1, max_length=_NAME)
    description: str | None = Field(default=None, max_length=LIMITS["string"])
    tags: list[Annotated[str, Field(min_length=1, max_length=_NAME)]] | None = Field(
        default=None, max_length=LIMITS["tags"]
    )
    checklist: list[ChecklistQuestionBody] | None = Field(
        default=None, min_length=1, max_length=LIMITS["checklist"]
    )


class ScorecardPatch(Body):
    """``PATCH …/scorecards/{id}``: the fields to change; the rest are kept."""

    name: str | None = Field(default=None, min_length=1, max_length=_NAME)
    tags: list[Annotated[str, Field(min_length=1, max_length=_NAME)]] | None = Field(
        default=None, max_length=LIMITS["tags"]
    )
    criteria_list: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, alias="criteriaList", min_length=1, max_length=LIMITS["scorecard_criteria"]
    )


class ExperienceUrlBody(Body):
    """``PUT …/experiences/url``: the media URL the Insights page plays."""

    url: str = Field(min_length=1, max_length=2048, json_schema_extra={"format": "uri"})
