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
    "warm",
]


def warm() -> None:
    """Load spaCy, VADER and the sentence encoder now rather than on the first job."""
    from parley.insights.context import get_nlp
    from parley.insights.embeddings import get_encoder
    from parley.insights.sentiment import _analyzer

    get_nlp()
    _analyzer()
    get_encoder()
