"""Conversation insights: questions, action items, follow-ups, topics, entities, trackers,
summary, phrases and sentiment, computed from a conversation's stored sentences.

The server imports only what is re-exported here. ``schema`` holds the records that go
in and out, ``compute`` runs the detectors (one module per kind); models load on first
use, once per process, or up front with :func:`warm`.
"""

from __future__ import annotations

from parley.insights.compute import compute_insights, summarize_windows, warm
from parley.insights.people import person_json
from parley.insights.schema import (
    CallScoreSpec,
    ChecklistQuestion,
    ConversationInsights,
    CriterionSpec,
    CustomEntity,
    EntitySpec,
    InsightOptions,
    Item,
    LlmSettings,
    Member,
    Message,
    SummaryWindow,
    TrackerSpec,
)

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
    "compute_insights",
    "person_json",
    "summarize_windows",
    "warm",
]
