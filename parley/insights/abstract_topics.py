"""Abstract topics: the high-level themes of a conversation ("Pricing", "Hiring").

Symbl's Labs endpoint names themes that need not occur as words in the transcript. Parley
matches a curated list of business themes (``assets/abstract_topics.json``, each theme with a
few phrases that say what it means) against every message with the bundled sentence model
(``embeddings.py``, the one tracker paraphrases use):

* a message's similarity to a theme is the best cosine between one of its phrases and the
  message or one of its clauses;
* a message counts toward a theme when that similarity reaches ``MATCH`` and is within
  ``MARGIN`` of the message's best theme, so a message about hiring engineers is not also
  "Software development";
* a theme's score is the strength of its best message, ``(best - FLOOR) / (1 - FLOOR)``,
  times ``1 - 0.5 ** n`` for its ``n`` messages: a theme the conversation comes back to
  scores higher than one mentioned once, and no score passes the best match's strength;
* a theme without a counting message is left out.

Everything is a pure function of the texts, the theme list and the weights, so the same
conversation gets the same themes, scores and ids every time. Calibrated by hand on the
eight bench conversations (``bench/insights_data``) and small talk: on-topic sentences
score 0.55-0.80 against their theme, small talk at most 0.30 against any theme; at
``MATCH`` 0.45 stray words ("on-call" for a meeting, "plan" for strategy) still counted,
so the bar is 0.5. Other weights (the ``sentence_model`` setting) have their own scale.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parley.insights.embeddings import ASSETS, MessageIndex, get_encoder
from parley.insights.schema import Item, Message
from parley.insights.stable_ids import insight_id

__all__ = ["MATCH", "THEMES_FILE", "Theme", "detect", "themes", "themes_digest"]

THEMES_FILE = ASSETS / "abstract_topics.json"
#: Cosine similarity from which a message counts toward a theme.
MATCH = 0.5
#: A message counts only toward the themes within this much of its best one.
MARGIN = 0.1
#: The similarity that maps to strength 0 (unrelated sentences stay below it).
FLOOR = 0.3


@dataclass(frozen=True)
class Theme:
    """One curated theme: its name (the topic's ``text``) and what it means."""

    text: str
    phrases: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def _load() -> tuple[str, tuple[Theme, ...]]:
    raw = THEMES_FILE.read_bytes()
    data = json.loads(raw)
    themes = tuple(
        Theme(text=str(t["text"]), phrases=tuple(str(p) for p in t["phrases"]))
        for t in data["themes"]
    )
    return hashlib.sha256(raw).hexdigest(), themes


def themes() -> tuple[Theme, ...]:
    """The curated theme list."""
    return _load()[1]


def themes_digest() -> str:
    """sha256 of the theme list: stored results made with another list are stale."""
    return _load()[0]


@functools.lru_cache(maxsize=4)
def _phrase_vectors(sentence_model: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings of every theme phrase, the theme index of each row), once per model."""
    listed = themes()
    phrases = [p for theme in listed for p in theme.phrases]
    owner = np.asarray([i for i, theme in enumerate(listed) for _ in theme.phrases])
    return get_encoder(sentence_model).encode(phrases), owner


def detect(messages: Sequence[Message], sentence_model: Path | None = None) -> list[Item]:
    """The conversation's abstract topics in Symbl's shape, strongest first."""
    messages = [m for m in messages if m.text and m.text.strip()]
    if not messages:
        return []
    listed = themes()
    vectors, owner = _phrase_vectors(sentence_model)
    index = MessageIndex([m.text for m in messages], sentence_model)
    by_phrase = index.similarity(vectors)  # [phrases, messages]
    # Best phrase of each theme: [themes, messages].
    sims = np.stack([by_phrase[owner == i].max(axis=0) for i in range(len(listed))])
    best = sims.max(axis=0)
    counts = (sims >= MATCH) & (sims >= best - MARGIN)
    out: list[Item] = []
    for i, theme in enumerate(listed):
        rows = np.flatnonzero(counts[i])
        if not len(rows):
            continue
        strength = (float(sims[i, rows].max()) - FLOOR) / (1.0 - FLOOR)
        score = round(min(1.0, strength * (1.0 - 0.5 ** len(rows))), 3)
        message_ids = [messages[r].id for r in rows]
        out.append(
            {
                "id": insight_id("abstract_topic", theme.text, message_ids),
                "text": theme.text,
                "type": "abstract_topic",
                "score": score,
                "messageIds": message_ids,
            }
        )
    out.sort(key=lambda t: (-t["score"], t["text"]))
    return out
