"""The insight stage's data contract and its single entry point.

The server hands over the stored sentences of one conversation and the job's options and
gets back JSON-ready dicts in Symbl's item shapes. Everything here is plain data so the
stage can run in a worker process and its output can be stored as-is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "ConversationInsights",
    "CustomEntity",
    "InsightOptions",
    "LlmSettings",
    "Member",
    "Message",
    "TrackerSpec",
    "compute_insights",
]

log = logging.getLogger("parley.insights")


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
class LlmSettings:
    """An OpenAI-compatible chat endpoint; ``base_url`` may or may not end in ``/v1``."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 60.0


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
    """

    confidence_threshold: float = 0.5
    detect_entities: bool = False
    detect_phrases: bool = False
    enable_summary: bool = False
    custom_entities: tuple[CustomEntity, ...] = ()
    trackers: tuple[TrackerSpec, ...] = ()
    reference_time: datetime | None = None
    timezone_offset_minutes: int = 0
    llm: LlmSettings | None = None


@dataclass
class ConversationInsights:
    """Everything the stage found, already in Symbl's JSON item shapes."""

    questions: list[dict] = field(default_factory=list)
    action_items: list[dict] = field(default_factory=list)
    follow_ups: list[dict] = field(default_factory=list)
    topics: list[dict] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)
    trackers: list[dict] = field(default_factory=list)
    summary: list[dict] = field(default_factory=list)
    phrases: dict[str, list[dict]] = field(default_factory=dict)
    sentiments: dict[str, dict] = field(default_factory=dict)


def compute_insights(messages: Sequence[Message], options: InsightOptions) -> ConversationInsights:
    """Run every insight detector over one conversation.

    Detectors are imported here rather than at module import so the server can import the
    contract types without loading spaCy; the model itself loads once per process.
    """
    from parley.insights import (
        action_items,
        entities,
        phrases,
        questions,
        sentiment,
        summary,
        topics,
        trackers,
    )
    from parley.insights.context import Context

    started = time.perf_counter()
    result = ConversationInsights()
    messages = [m for m in messages if m.text and m.text.strip()]
    result.sentiments = sentiment.detect(messages)
    if not messages:
        return result
    ctx = Context.build(messages, options, result.sentiments)
    threshold = options.confidence_threshold

    result.questions = [q for q in questions.detect(ctx) if q["score"] >= threshold]
    items, follow_ups = action_items.detect(ctx)
    result.action_items = [a for a in items if a["score"] >= threshold]
    result.follow_ups = [f for f in follow_ups if f["score"] >= threshold]
    all_topics = topics.detect(ctx)
    ctx.cache["topics"] = all_topics
    result.topics = [t for t in all_topics if t["score"] >= threshold]
    result.entities = entities.detect(ctx, builtin=options.detect_entities)
    if options.trackers:
        insight_items = result.questions + result.action_items + result.follow_ups
        result.trackers = trackers.detect(ctx, options.trackers, insight_items)
    if options.detect_phrases:
        result.phrases = phrases.detect(ctx)
    if options.enable_summary:
        result.summary = summary.detect(ctx, result.action_items + result.follow_ups)
    log.debug("insights for %d messages in %.2fs", len(messages), time.perf_counter() - started)
    return result
