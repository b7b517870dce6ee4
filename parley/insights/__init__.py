"""Conversation insights: questions, action items, follow-ups, topics, entities, trackers,
summary, phrases and sentiment, computed from a conversation's stored sentences.

The server imports only what is re-exported here; detectors load spaCy lazily, once.
"""

from __future__ import annotations

from parley.insights.base import (
    ConversationInsights,
    CustomEntity,
    InsightOptions,
    LlmSettings,
    Member,
    Message,
    TrackerSpec,
    compute_insights,
)

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
