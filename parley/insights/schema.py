"""The insight stage's data contract: what goes in and what comes out.

The server hands over the stored sentences of one conversation and the job's options and
gets back JSON-ready dicts in Symbl's item shapes. Everything here is plain data so the
stage can run in a worker process and its output can be stored as-is. Detectors import
these records; the orchestrator that runs them is ``compute.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

__all__ = [
    "CallScoreSpec",
    "ChecklistQuestion",
    "ConversationInsights",
    "CriterionSpec",
    "CustomEntity",
    "EntitySpec",
    "InsightOptions",
    "Item",
    "LlmSettings",
    "Member",
    "Message",
    "SummaryWindow",
    "TrackerSpec",
]

#: One insight (question, action item, topic, entity, ...) in Symbl's JSON shape.
Item: TypeAlias = dict[str, Any]


@dataclass(frozen=True)
class Member:
    """A conversation participant; ``email`` becomes ``userId`` in insight ``from`` objects."""

    id: str
    name: str
    email: str | None = None


@dataclass(frozen=True)
class Message:
    """One stored sentence of the conversation (times in seconds from its start)."""

    id: str
    text: str
    start: float
    end: float
    member: Member | None = None


#: One stretch of a conversation summarized on its own (a bookmark): its messages, and
#: the conversation's stored topics and action items that lie in it.
SummaryWindow: TypeAlias = tuple[Sequence[Message], Sequence[Item], Sequence[Item]]


@dataclass(frozen=True)
class TrackerSpec:
    """A tracker to detect: its vocabulary should already have passed ``validate_vocabulary``."""

    id: str
    name: str
    vocabulary: tuple[str, ...]


@dataclass(frozen=True)
class CustomEntity:
    """A user-defined entity (Symbl's ``entities`` option): ``text`` is what to look for."""

    custom_type: str
    text: str
    value: str | None = None


@dataclass(frozen=True)
class EntitySpec:
    """A custom entity stored through the Management API: its ``values`` are looked for
    exactly (``custom_entities``) when ``detectEntities`` is on."""

    id: str
    type: str
    sub_type: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class LlmSettings:
    """An OpenAI-compatible chat endpoint; ``base_url`` may or may not end in ``/v1``."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 60.0


@dataclass(frozen=True)
class ChecklistQuestion:
    """One question of a custom call-score criterion; ``priority`` weighs it (high 3,
    medium 2, low 1)."""

    question: str
    priority: str = "medium"


@dataclass(frozen=True)
class CriterionSpec:
    """A custom call-score criterion stored through the Management API."""

    id: str
    name: str
    checklist: tuple[ChecklistQuestion, ...]
    description: str | None = None


@dataclass(frozen=True)
class CallScoreSpec:
    """What a call is scored on (``features.featureList`` holds ``callScore``).

    ``managed`` are the managed criteria ids (``Symbl.*``) to score, in order (None: the
    defaults, without a scorecard), and ``custom`` the app's criteria (from a scorecard);
    ``conversation_type`` and ``sales_stage`` (lower-case) decide whether the sales
    process is among the defaults.
    """

    managed: tuple[str, ...] | None = None
    custom: tuple[CriterionSpec, ...] = ()
    conversation_type: str = "general"
    sales_stage: str = "general"
    prospect_name: str | None = None


@dataclass(frozen=True)
class InsightOptions:
    """Job options that change what the insight stage produces.

    Attributes:
        confidence_threshold: minimum ``score`` for action items, follow-ups, topics and
            questions (Symbl's ``confidenceThreshold``).
        reference_time: when the conversation started (UTC); relative dates such as
            "tomorrow" or "Friday" are resolved against it. Without it, dates are left
            unresolved (no ``dueBy``, no date ``value``).
        timezone_offset_minutes: minutes *east* of UTC of the speakers' local time
            (UTC-7 is -420); used to decide which day "tomorrow" is and to express
            ``dueBy`` as local midnight in UTC.
        llm: when set, action items and the summary are asked of this endpoint first;
            any failure falls back to the offline rules.
        sentence_model: other sentence-embedding weights for tracker paraphrases (a
            directory with ``model.onnx`` + ``tokenizer.json``); None = the bundled
            all-MiniLM-L6-v2.
        entity_specs: the app's stored custom entities, detected with the built-in ones
            (``detectEntities``).
        call_score: when set, the call is scored (``callscore``) on these criteria.
    """

    confidence_threshold: float = 0.5
    detect_entities: bool = False
    detect_phrases: bool = False
    enable_summary: bool = False
    custom_entities: tuple[CustomEntity, ...] = ()
    trackers: tuple[TrackerSpec, ...] = ()
    entity_specs: tuple[EntitySpec, ...] = ()
    reference_time: datetime | None = None
    timezone_offset_minutes: int = 0
    llm: LlmSettings | None = None
    sentence_model: Path | None = None
    call_score: CallScoreSpec | None = None


@dataclass
class ConversationInsights:
    """Everything the stage found, already in Symbl's JSON item shapes.

    Item ids are derived from each item's kind, content and message ids, so computing the
    same conversation again (after a rename, a tracker change, a re-run) keeps them.
    """

    questions: list[Item] = field(default_factory=list)
    action_items: list[Item] = field(default_factory=list)
    follow_ups: list[Item] = field(default_factory=list)
    topics: list[Item] = field(default_factory=list)
    entities: list[Item] = field(default_factory=list)
    trackers: list[Item] = field(default_factory=list)
    summary: list[Item] = field(default_factory=list)
    #: The call score (``callscore.score``) as one item, or none when not asked for.
    callscore: list[Item] = field(default_factory=list)
    phrases: dict[str, list[Item]] = field(default_factory=dict)
    sentiments: dict[str, Item] = field(default_factory=dict)
    #: Per message id, what ``?redact=true`` masks from (``redaction.candidates``), found
    #: from the same parse, so a read never parses again (issue 23).
    redaction: dict[str, list[list[int | str]]] = field(default_factory=dict)
