"""The REST API's answers, as Symbl shapes them (field order is the order on the wire).

A field with a default is optional on the wire: it is sent only when the route set it
(routes answer with ``response_model_exclude_unset``). ``Number`` keeps an integer an
integer (``0`` stays ``0``, ``1.0`` stays ``1.0``), so re-serializing changes no byte.
Insight items are stored as the insight stage wrote them; their models allow more keys
than they name (``extra="allow"``) so a newer detector's field is served, not dropped.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

__all__ = [
    "AbstractTopic",
    "AbstractTopicList",
    "ActionItem",
    "ActionItemList",
    "Analytics",
    "Bookmark",
    "BookmarkList",
    "BookmarkReference",
    "BookmarkSummary",
    "BookmarkSummaryItem",
    "BookmarkSummaryList",
    "BookmarkUser",
    "BookmarksSummaryList",
    "CallScore",
    "CallScoreCriterion",
    "CallScoreCriterionResult",
    "CallScoreEvidence",
    "CallScoreFeedback",
    "ChecklistItem",
    "ComprehensiveActionItem",
    "ComprehensiveActionItemList",
    "Conversation",
    "ConversationList",
    "ConversationUpdated",
    "CustomEntitiesDeleted",
    "CustomEntity",
    "CustomEntityEnvelope",
    "CustomEntityList",
    "Deleted",
    "DeliveryEnvelope",
    "DeliveryList",
    "Entity",
    "EntityList",
    "Error",
    "Experience",
    "ExperienceUrl",
    "FeedbackText",
    "FollowUp",
    "FollowUpList",
    "Group",
    "GroupEnvelope",
    "GroupList",
    "Info",
    "InsightList",
    "IntentList",
    "Job",
    "JobList",
    "JobStatusAnswer",
    "MediaFile",
    "MediaList",
    "Member",
    "MemberList",
    "Message",
    "MessageList",
    "Question",
    "QuestionList",
    "Refreshed",
    "Scorecard",
    "SettingsEnvelope",
    "Submitted",
    "SummaryList",
    "TokenResponse",
    "Topic",
    "TopicList",
    "Tracker",
    "TrackerEnvelope",
    "TrackerList",
    "TrackerMatch",
    "Transcript",
    "UserSettings",
    "WebhookDelivery",
    "Word",
]

#: A JSON number kept as given: an int is not turned into a float on the way out.
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]
#: An ISO 8601 time as Symbl writes it (``2024-03-05T10:00:00.000Z``).
Time = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class Wire(BaseModel):
    """Every wire model: Symbl's names as aliases, Python's accepted too."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class Open(Wire):
    """A stored shape that may carry keys beyond the named ones."""

    model_config = ConfigDict(extra="allow")


# -- errors and small answers ------------------------------------------------------


class Error(Wire):
    """Every error: ``{"message"}``; 429 for concurrency adds ``statusCode``."""

    status_code: int | None = Field(None, alias="statusCode")
    message: str


class Info(Wire):
    """A sentence about what was done (delete, member update, speaker events)."""

    message: str


class TokenResponse(Wire):
    access_token: str = Field(alias="accessToken")
    expires_in: int = Field(alias="expiresIn")
    #: For ``POST /oauth2/token:refresh``; spelt as Symbl's swagger ``Token`` model spells it.
    refersh_token: str | None = Field(None, alias="refershToken")


# -- user settings (/v1/manage/settings) -------------------------------------------


class BookmarkSettings(Wire):
    #: A bookmark's default length, in seconds.
    duration: int | None = None


class IntelligenceSettings(Wire):
    bookmarks: BookmarkSettings | None = None


class RedactionSettings(Wire):
    #: Whether messages are redacted when a read does not say (``?redact=``).
    default: bool | None = None
    #: ``default``: an entity becomes ``[PERSON_NAME]``; ``obfuscation``: ``****``.
    type: Literal["default", "obfuscation"] | None = None


class UserSettings(Wire):
    """Only the settings that were set."""

    intelligence: IntelligenceSettings | None = None
    redaction: RedactionSettings | None = None


class SettingsEnvelope(Wire):
    settings: UserSettings


class Submitted(Wire):
    """A job was accepted: poll ``GET /v1/job/{jobId}``."""

    conversation_id: str = Field(alias="conversationId")
    job_id: str = Field(alias="jobId")


class Job(Wire):
    """A job's status; the list (``GET /v1/jobs``) adds name, type and times."""

    id: str
    status: Literal["scheduled", "in_progress", "completed", "failed"]
    conversation_id: str | None = Field(alias="conversationId")
    progress: Number
    reason: str | None = None
    warnings: list[str] | None = Field(
        None,
        description="Parley extension: what a completed job's user should know, such as "
        "speech that could not be transcribed.",
    )
    speakers_found: int | None = Field(
        None,
        alias="speakersFound",
        description="Parley extension: the voices told apart by diarization.",
    )
    name: str | None = None
    type: str | None = None
    created_at: Time | None = Field(None, alias="createdAt")
    updated_at: Time | None = Field(None, alias="updatedAt")


class JobList(Wire):
    jobs: list[Job]


# -- people, conversations, messages -----------------------------------------------


class Member(Wire):
    """A participant as the members list and a message's ``from`` show it; ``{}`` in a
    message whose speaker is unknown."""

    id: str | None = None
    name: str | None = None
    email: str | None = None


class Speaker(Wire):
    """An insight's ``from``: ``userId`` (the e-mail) is null when unknown; ``{}`` when
    nobody is known."""

    id: str | None = None
    name: str | None = None
    user_id: str | None = Field(None, alias="userId")


class Assignee(Wire):
    """Who is to do an action item: a member, or only a name heard in the sentence."""

    id: str | None = None
    name: str | None = None
    email: str | None = None


class MemberList(Wire):
    members: list[Member]


class Polarity(Wire):
    score: Number


class Sentiment(Wire):
    polarity: Polarity
    suggested: Literal["positive", "neutral", "negative"]


class Phrase(Open):
    type: str
    text: str


class Word(Wire):
    word: str
    start_time: Time = Field(alias="startTime")
    end_time: Time = Field(alias="endTime")
    score: Number
    time_offset: Number = Field(alias="timeOffset")
    duration: Number


class Message(Wire):
    id: str
    text: str
    from_: Member = Field(alias="from")
    start_time: Time = Field(alias="startTime")
    end_time: Time = Field(alias="endTime")
    time_offset: Number = Field(alias="timeOffset")
    duration: Number
    conversation_id: str = Field(alias="conversationId")
    phrases: list[Phrase]
    sentiment: Sentiment | None = None
    words: list[Word] | None = None


class MessageList(Wire):
    messages: list[Message]


class Conversation(Wire):
    id: str
    type: str
    name: str | None
    start_time: Time = Field(alias="startTime")
    end_time: Time = Field(alias="endTime")
    members: list[Member]
    metadata: dict[str, str]
    billing_duration: Number = Field(
        alias="billingDuration",
        description="Parley extension: seconds billed, duration × channels for "
        "per-channel recognition.",
    )
    matches: list[Message] | None = Field(
        None, description="Parley extension (with ?query=): the sentences that matched."
    )


class ConversationList(Wire):
    conversations: list[Conversation]


class ConversationUpdated(Wire):
    id: str
    metadata: dict[str, str]


class TranscriptBody(Wire):
    """The formatted text and its type."""

    payload: str
    content_type: str = Field(alias="contentType")


class Transcript(Wire):
    transcript: TranscriptBody


# -- insights ----------------------------------------------------------------------


class InsightEntity(Open):
    """A tag in an insight's text: a person (``value`` names the assignee), a date, ..."""

    type: str
    text: str
    offset: int | None = None
    value: Any = None
    start: str | None = None
    end: str | None = None


class MessageRef(Open):
    id: str
    text: str | None = None
    offset: int | None = None
    start_time: Time | None = Field(None, alias="startTime")
    end_time: Time | None = Field(None, alias="endTime")


class Question(Open):
    id: str
    text: str
    type: Literal["question"]
    score: Number
    message_ids: list[str] = Field(alias="messageIds")
    from_: Speaker = Field(alias="from")


class QuestionList(Wire):
    questions: list[Question]


class ActionItem(Open):
    id: str
    text: str
    type: Literal["action_item"]
    score: Number
    message_ids: list[str] = Field(alias="messageIds")
    entities: list[InsightEntity]
    phrases: list[Phrase]
    from_: Speaker = Field(alias="from")
    definitive: bool
    assignee: Assignee
    due_by: Time | None = Field(None, alias="dueBy")


class FollowUp(ActionItem):
    type: Literal["follow_up"]  # type: ignore[assignment]


class ActionItemList(Wire):
    action_items: list[ActionItem] = Field(alias="actionItems")


class FollowUpList(Wire):
    follow_ups: list[FollowUp] = Field(alias="followUps")


class ComprehensiveActionItem(Open):
    """An action item with ``messageRefs`` (``[{"id"}]``) instead of ``messageIds``."""

    id: str
    text: str
    type: Literal["action_item"]
    score: Number
    entities: list[InsightEntity]
    phrases: list[Phrase]
    from_: Speaker = Field(alias="from")
    definitive: bool
    assignee: Assignee
    due_by: Time | None = Field(None, alias="dueBy")
    message_refs: list[MessageRef] = Field(alias="messageRefs")


class ComprehensiveActionItemList(Wire):
    action_items: list[ComprehensiveActionItem] = Field(alias="actionItems")


class InsightList(Wire):
    """Action items, then questions, then follow-ups."""

    insights: list[Annotated[ActionItem | Question | FollowUp, Field(discriminator="type")]]


class IntentList(Wire):
    intents: list[dict[str, Any]]


class ParentRef(Open):
    type: str
    text: str


class Topic(Open):
    id: str
    text: str
    type: Literal["topic"]
    score: Number
    message_ids: list[str] = Field(alias="messageIds")
    sentiment: Sentiment | None = None
    parent_refs: list[ParentRef] = Field(alias="parentRefs")


class TopicList(Wire):
    topics: list[Topic]


class AbstractTopic(Open):
    """A high-level theme (Symbl Labs): ``score`` 0-1, the messages that mean it."""

    id: str
    text: str
    type: Literal["abstract_topic"]
    score: Number
    message_ids: list[str] = Field(alias="messageIds")


class AbstractTopicList(Wire):
    abstract_topics: list[AbstractTopic] = Field(alias="abstractTopics")


class EntityMatch(Open):
    detected_value: str = Field(alias="detectedValue")
    message_refs: list[MessageRef] = Field(alias="messageRefs")


class Entity(Open):
    id: str
    type: str
    sub_type: str | None = Field(None, alias="subType")
    category: str | None = None
    value: Any = None
    text: str | None = None
    message_refs: list[MessageRef] = Field(alias="messageRefs")
    matches: list[EntityMatch] | None = None
    custom_type: str | None = Field(None, alias="customType")


class EntityList(Wire):
    entities: list[Entity]


class InsightRef(Open):
    text: str
    offset: int
    type: str
    id: str


class VocabularyMatch(Open):
    type: str
    value: str
    message_refs: list[MessageRef] = Field(alias="messageRefs")
    insight_refs: list[InsightRef] = Field(alias="insightRefs")


class TrackerMatch(Open):
    """A tracker detected in the conversation, with where each phrase was heard."""

    id: str
    name: str
    matches: list[VocabularyMatch]


class BookmarkReference(Wire):
    id: str


class SummaryItem(Open):
    id: str
    text: str
    message_refs: list[MessageRef] = Field(alias="messageRefs")
    #: The bookmark whose messages hold all of this item's (go-sdk ``Summary``).
    bookmark_reference: BookmarkReference | None = Field(None, alias="bookmarkReference")


class SummaryList(Wire):
    summary: list[SummaryItem]


class Refreshed(Wire):
    """Parley extension: the insight kinds recomputed."""

    conversation_id: str = Field(alias="conversationId")
    refreshed: list[str]


# -- analytics ---------------------------------------------------------------------


class Metric(Wire):
    type: Literal["total_silence", "total_talk_time", "total_overlap"]
    percent: Number
    seconds: Number


class Share(Wire):
    percentage: Number
    seconds: Number


class Pace(Wire):
    wpm: int


class OverlappingMember(Wire):
    id: str | None = None
    name: str | None = None
    user_id: str | None = Field(None, alias="userId")
    percent: Number
    seconds: Number


class Overlap(Wire):
    overlap_duration: Number = Field(alias="overlapDuration")
    overlapping_members: list[OverlappingMember] = Field(alias="overlappingMembers")


class MemberAnalytics(Wire):
    id: str | None = None
    name: str | None = None
    user_id: str | None = Field(None, alias="userId")
    pace: Pace
    talk_time: Share = Field(alias="talkTime")
    listen_time: Share = Field(alias="listenTime")
    overlap: Overlap


class Analytics(Wire):
    metrics: list[Metric]
    members: list[MemberAnalytics]


# -- management, media, experiences, webhooks --------------------------------------


class Tracker(Wire):
    id: str
    name: str
    description: str
    categories: list[str]
    languages: list[str]
    vocabulary: list[str]
    exclude_vocabulary: list[str] = Field(alias="excludeVocabulary")
    created_on: Time = Field(alias="createdOn")
    updated_on: Time = Field(alias="updatedOn")


class TrackerEnvelope(Wire):
    tracker: Tracker


class TrackerList(Wire):
    trackers: list[Tracker]


class Deleted(Wire):
    id: str
    type: Literal["tracker", "group", "entity", "criteria", "scorecard"]
    deleted: bool


class CustomEntity(Wire):
    """A custom entity stored through the Management API (``category`` is ``Custom``)."""

    id: str
    type: str
    sub_type: str = Field(alias="subType")
    category: str
    values: list[str]


class CustomEntityEnvelope(Wire):
    entity: CustomEntity


class CustomEntityList(Wire):
    entities: list[CustomEntity]


class CustomEntitiesDeleted(Wire):
    """``DELETE /v1/manage/entities?subType=``: the ids of the entities removed."""

    sub_type: str = Field(alias="subType")
    ids: list[str]
    deleted: bool


class Group(Wire):
    """A conversation group: the conversations whose metadata satisfies ``criteria``."""

    id: str
    name: str
    description: str
    criteria: str = Field(
        description="RSQL over conversation metadata: conversation.metadata.key==value, "
        'at most two joined by "and"'
    )


class GroupEnvelope(Wire):
    group: Group


class GroupList(Wire):
    groups: list[Group]


class BookmarkUser(Wire):
    name: str | None = None
    user_id: str | None = Field(None, alias="userId")
    email: str | None = None


class Bookmark(Wire):
    """A labelled stretch of a conversation: its window in whole seconds from the start,
    and the ids of its messages."""

    id: str
    label: str
    description: str
    user: BookmarkUser
    begin_time_offset: int = Field(alias="beginTimeOffset")
    duration: int
    message_refs: list[MessageRef] = Field(alias="messageRefs")


class BookmarkList(Wire):
    bookmarks: list[Bookmark]


class BookmarkSummaryItem(Open):
    id: str
    text: str
    message_refs: list[MessageRef] = Field(alias="messageRefs")
    start_time: Time | None = Field(None, alias="startTime")
    end_time: Time | None = Field(None, alias="endTime")


class BookmarkSummaryList(Wire):
    summary: list[BookmarkSummaryItem]


class BookmarkSummary(Wire):
    bookmark_id: str = Field(alias="bookmarkId")
    summary: list[BookmarkSummaryItem]


class BookmarksSummaryList(Wire):
    bookmarks_summary: list[BookmarkSummary] = Field(alias="bookmarksSummary")


class MediaFile(Wire):
    """One stored file on the conversation's timeline (appended files follow each other)."""

    job_id: str = Field(alias="jobId")
    url: str
    offset: Number
    duration: Number
    content_type: str = Field(alias="contentType")
    size: int


class MediaList(Wire):
    media: list[MediaFile]


class Experience(Wire):
    """A shareable page: ``url`` opens it without signing in."""

    name: str
    url: str


class WebhookDelivery(Wire):
    id: str
    event_id: str | None = Field(alias="eventId")
    job_id: str = Field(alias="jobId")
    conversation_id: str | None = Field(alias="conversationId")
    status: str | None
    url: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_error: str | None = Field(alias="lastError")
    next_attempt_at: Time | None = Field(alias="nextAttemptAt")
    created_on: Time = Field(alias="createdOn")
    updated_on: Time = Field(alias="updatedOn")


class DeliveryList(Wire):
    deliveries: list[WebhookDelivery]


class DeliveryEnvelope(Wire):
    delivery: WebhookDelivery


# -- call score (spec R.4) ---------------------------------------------------------------


class ChecklistItem(Wire):
    question: str
    priority: Literal["high", "medium", "low"]


class CallScoreCriterion(Wire):
    """A call-score criterion: a custom one (its checklist) or a managed ``Symbl.*`` one."""

    id: str
    name: str
    description: str | None = None
    tags: list[str]
    checklist: list[ChecklistItem]


class Scorecard(Wire):
    """The criteria a call is scored on: managed ``Symbl.*`` ids and custom criteria ids."""

    id: str
    name: str
    tags: list[str]
    criteria_list: list[str] = Field(alias="criteriaList")


class FeedbackText(Wire):
    summary: str


class CallScoreFeedback(Wire):
    positive: FeedbackText
    negative: FeedbackText


class CallScoreEvidence(Wire):
    """Messages that earned (``positive``) or cost (``negative``) a criterion points."""

    effect: Literal["positive", "negative"]
    reason: str
    message_ids: list[str] = Field(alias="messageIds")


class CallScoreCriterionResult(Wire):
    id: str = Field(description="The criteria id (Symbl.* for a managed criteria); Parley's")
    name: str
    score: Number = Field(description="0 to 100")
    summary: str
    feedback: CallScoreFeedback
    evidence: list[CallScoreEvidence] = Field(
        description="Parley's: the messages each point came from"
    )


class CallScore(Wire):
    """``GET …/callscore``: the call score is the average of its criteria's scores."""

    score: Number = Field(description="0 to 100")
    summary: str
    word_count: int = Field(alias="wordCount", description="Parley's: the words scored")
    criteria: list[CallScoreCriterionResult]


class JobStatusAnswer(Wire):
    """``…/callscore/status``, ``…/lm-insights/status``."""

    job_id: str = Field(alias="jobId")
    status: Literal["scheduled", "in_progress", "completed", "failed"]


class ExperienceUrl(Wire):
    """``{"url"}`` of a Call Summary page, or of the media URL an Insights page plays."""

    url: str
