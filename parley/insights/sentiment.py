"""Per-message sentiment with VADER (lexicon bundled, no download, microseconds a sentence).

VADER's compound score is already in -1..1, which is the range Symbl documents for
``polarity.score``; ``suggested`` uses Symbl's documented cut-offs (±0.3).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from parley.insights.schema import Item, Message

if TYPE_CHECKING:
    from vader import SentimentIntensityAnalyzer

__all__ = ["aggregate", "detect", "score_text", "sentiment_object"]


@functools.lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    import vader

    return vader.SentimentIntensityAnalyzer()


def sentiment_object(score: float) -> Item:
    """Symbl's sentiment object for a polarity score."""
    score = max(-1.0, min(1.0, round(score, 3)))
    if score < -0.3:
        suggested = "negative"
    elif score > 0.3:
        suggested = "positive"
    else:
        suggested = "neutral"
    return {"polarity": {"score": score}, "suggested": suggested}


def score_text(text: str) -> float:
    """VADER compound score of one sentence."""
    return float(_analyzer().polarity_scores(text)["compound"])


def detect(messages: Sequence[Message]) -> dict[str, Item]:
    """Message id -> sentiment object, for every message."""
    return {m.id: sentiment_object(score_text(m.text)) for m in messages}


def aggregate(sentiments: dict[str, Item], message_ids: Iterable[str]) -> Item:
    """Mean sentiment over the given messages (how topic sentiment is defined)."""
    scores = [sentiments[i]["polarity"]["score"] for i in message_ids if i in sentiments]
    return sentiment_object(sum(scores) / len(scores) if scores else 0.0)
