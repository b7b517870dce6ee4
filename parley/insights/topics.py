"""Topics: the noun phrases a conversation keeps coming back to.

Candidates are spaCy noun chunks reduced to their content words (lemmatised head, so
"crashes" and "crash" count together); a candidate's weight grows with the number of
messages and speakers that mention it and with YAKE's keyphrase score for the whole
transcript. Scores are scaled so the strongest topic is near 1 and a topic mentioned once
falls under the default 0.5 threshold. A shorter topic whose words are contained in a
longer one becomes its parent ("pricing" -> "pricing page").
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from parley.insights import sentiment
from parley.insights.context import Context
from parley.insights.schema import Item
from parley.insights.stable_ids import insight_id

if TYPE_CHECKING:
    from spacy.tokens import Span
    from yake import KeywordExtractor

__all__ = ["detect", "warm"]

_GENERIC = frozenset(
    "thing things way lot bit time today tomorrow yesterday everyone anyone someone something "
    "anything everything people question questions problem part kind sort stuff guy guys one "
    "moment second minute hour day week month year end start side point case number idea "
    "sense call meeting morning afternoon evening night line help thanks thank course "
    "yes yeah okay ok hi hello bye deal fine word words name place".split()
)
_SKIP_ENTS = frozenset(
    {"PERSON", "DATE", "TIME", "MONEY", "CARDINAL", "ORDINAL", "PERCENT", "QUANTITY", "GPE"}
)


@dataclass
class _Candidate:
    key: str
    surface: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    message_idx: set[int] = field(default_factory=set)
    speakers: set[str] = field(default_factory=set)
    words: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return max(self.surface.items(), key=lambda kv: (kv[1], -len(kv[0])))[0]


@functools.lru_cache(maxsize=1)
def _yake() -> KeywordExtractor:
    import yake

    return yake.KeywordExtractor(lan="en", n=3, top=40, dedupLim=0.9)


def warm() -> None:
    """Build the keyword extractor (its stop-word lists) ahead of the first job."""
    _yake()


def _reduce(chunk: Span) -> tuple[tuple[str, ...], str] | None:
    """(lemma key words, surface text) of a noun chunk's content, or None if nothing is left."""
    tokens = [
        t
        for t in chunk
        if not t.is_stop
        and not t.is_punct
        and t.pos_ in {"NOUN", "PROPN", "ADJ", "VERB"}
        and t.ent_type_ not in _SKIP_ENTS
        and t.is_alpha
        and len(t) > 1
    ]
    while (
        tokens
        and tokens[0].pos_ == "ADJ"
        and tokens[0].lower_
        in {
            "new",
            "old",
            "good",
            "great",
            "big",
            "small",
            "little",
            "last",
            "next",
            "other",
            "same",
            "final",
            "first",
            "main",
            "whole",
            "few",
            "many",
            "much",
            "quick",
            "short",
            "huge",
        }
    ):
        tokens = tokens[1:]
    if not tokens or tokens[-1].pos_ not in {"NOUN", "PROPN"}:
        return None
    if len(tokens) == 1 and tokens[0].lemma_.lower() in _GENERIC:
        return None
    key = (*tuple(t.lemma_.lower() for t in tokens[:-1]), tokens[-1].lemma_.lower())
    surface = (
        " ".join(t.lower_ for t in tokens[:-1])
        + (" " if len(tokens) > 1 else "")
        + (tokens[-1].lemma_.lower() if tokens[-1].pos_ == "NOUN" else tokens[-1].lower_)
    )
    return key, surface


def detect(ctx: Context) -> list[Item]:
    """Topics in Symbl's shape, strongest first (unfiltered)."""
    candidates: dict[str, _Candidate] = {}
    for idx, doc in enumerate(ctx.docs):
        member = ctx.messages[idx].member
        for chunk in doc.noun_chunks:
            reduced = _reduce(chunk)
            if reduced is None:
                continue
            words, surface = reduced
            keys = {" ".join(words)}
            if len(words) > 1:
                keys.add(words[-1])  # "crash fixes" also counts toward "fix"... and "crash"
            for key in keys:
                cand = candidates.setdefault(key, _Candidate(key, words=tuple(key.split())))
                cand.surface[surface if key == " ".join(words) else key] += 1
                cand.message_idx.add(idx)
                cand.speakers.add(member.id if member else "")
    if not candidates:
        return []
    # The parsed text: a huge message counts only as far as it was parsed (context.py).
    text = " ".join(doc.text for doc in ctx.docs)
    yake_scores = {kw.lower(): score for kw, score in _yake().extract_keywords(text)}
    yake_best: dict[str, float] = {}
    for phrase, score in yake_scores.items():
        for cand_key in candidates:
            if cand_key in phrase or phrase in cand_key:
                yake_best[cand_key] = min(score, yake_best.get(cand_key, 1.0))

    def weight(c: _Candidate) -> float:
        mentions = len(c.message_idx)
        base = math.log1p(mentions) * (1.0 + 0.35 * (len(c.words) - 1))
        base *= 1.0 + 0.25 * (len(c.speakers) - 1)
        if c.key in yake_best:
            base *= 1.0 + 0.5 / (1.0 + 10 * yake_best[c.key])
        return base

    ranked = sorted(candidates.values(), key=weight, reverse=True)
    ranked = [c for c in ranked if len(c.message_idx) >= 2 or len(ctx.messages) < 8]
    limit = max(3, min(12, len(ctx.messages) // 6))
    ranked = ranked[:limit]
    if not ranked:
        return []
    top = weight(ranked[0])
    out: list[Item] = []
    for cand in ranked:
        ids = [ctx.messages[i].id for i in sorted(cand.message_idx)]
        score = 0.35 + 0.64 * (weight(cand) / top)
        parents = [
            {"type": "topic", "text": other.text}
            for other in ranked
            if other is not cand and set(other.words) < set(cand.words)
        ]
        out.append(
            {
                "id": insight_id("topic", cand.key, ids),
                "text": cand.text,
                "type": "topic",
                "score": round(score, 4),
                "messageIds": ids,
                "sentiment": sentiment.aggregate(ctx.sentiments, ids),
                "parentRefs": parents,
            }
        )
    return out
