"""Questions: interrogative sentences, with or without a question mark.

ASR punctuation is unreliable, so structure counts as much as '?': an auxiliary followed
by its subject ("do you know when it ships"), a wh-word followed by a verb ("what was the
root cause"), indirect forms ("I was wondering whether ...") and elliptic openers
("anything else"). Tag fillers ("..., you know?", "right?") are rhetorical and dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.insights.context import Context
from parley.insights.people import person_json
from parley.insights.schema import Item
from parley.insights.stable_ids import insight_id

if TYPE_CHECKING:
    from spacy.tokens import Doc

__all__ = ["detect", "question_score"]

AUXILIARIES = frozenset(
    [
        "do",
        "does",
        "did",
        "is",
        "are",
        "was",
        "were",
        "am",
        "can",
        "could",
        "would",
        "will",
        "should",
        "shall",
        "may",
        "might",
        "have",
        "has",
        "had",
        "must",
    ]
)
WH_WORDS = frozenset(["what", "when", "where", "who", "whom", "whose", "why", "which", "how"])
#: Discourse openers skipped before looking at the clause's first real word.
LEAD_WORDS = frozenset(
    [
        "okay",
        "ok",
        "so",
        "and",
        "but",
        "oh",
        "well",
        "alright",
        "also",
        "hey",
        "um",
        "uh",
        "yeah",
        "yes",
        "now",
        "then",
        "sorry",
        "hi",
        "hello",
        "great",
        "perfect",
        "sure",
        "actually",
        "just",
        "anyway",
        "right",
        "cool",
        "alright",
        "thanks",
        "quick",
        "question",
        "one",
        "thing",
        "guys",
        "folks",
        "everyone",
    ]
)
FILLER_TAGS = frozenset(
    ["you know", "right", "you see", "i mean", "like", "okay", "ok", "yeah", "huh", "eh", "no"]
)
INDIRECT = (
    "i was wondering", "i'm wondering", "i am wondering", "i wonder", "wondering if",
    "wondering whether", "do you know", "i'd like to know", "i would like to know",
    "i'd love to know", "can you tell me", "could you tell me", "i'm curious", "curious if",
    "curious whether", "any idea",
)  # fmt: skip
ELLIPTIC = (
    "anything else", "any questions", "any question", "any thoughts", "any updates",
    "any other", "what about", "how about", "any chance", "any feedback", "any objections",
    "any concerns", "questions?",
)  # fmt: skip
SUBJECT_WORDS = frozenset(
    [
        "there",
        "anyone",
        "anybody",
        "everyone",
        "everybody",
        "someone",
        "somebody",
        "anything",
        "everything",
        "something",
        "i",
        "you",
        "we",
        "they",
        "he",
        "she",
        "it",
        "this",
        "that",
        "these",
        "those",
    ]
)


def _clause_starts(doc: Doc) -> list[int]:
    """Token indices where a clause may start: the beginning and after , ; : - or '?'."""
    starts = [0]
    for tok in doc:
        if tok.text in {",", ";", ":", "-", "--", "—", "–", "?", "..."} and tok.i + 1 < len(doc):
            starts.append(tok.i + 1)
    return starts


def _skip_lead(doc: Doc, i: int, names: frozenset[str]) -> int:
    """Skip discourse openers and a vocative name ("Carlos do you ...", "Marcus, can ...")."""
    while i < len(doc):
        tok = doc[i]
        low = tok.lower_
        if low in LEAD_WORDS or tok.pos_ == "INTJ" or tok.is_punct:
            i += 1
            continue
        nxt = doc[i + 1] if i + 1 < len(doc) else None
        is_name = tok.pos_ == "PROPN" or low in names
        if (
            is_name
            and nxt is not None
            and (
                nxt.text == ","
                or (nxt.lower_ in AUXILIARIES and i + 2 < len(doc) and doc[i + 2].pos_ == "PRON")
            )
        ):
            i += 1
            continue
        break
    return i


_BE = frozenset(("is", "are", "was", "were", "am"))


def _interrogative_at(doc: Doc, i: int, *, allow_wh: bool = True) -> bool:
    """Does the clause starting at token i have question word order?

    ``allow_wh`` is off for clauses inside an unmarked sentence, where a wh-word is
    usually a relative pronoun ("fuel costs, which went up").
    """
    if i >= len(doc):
        return False
    first = doc[i]
    low = first.lower_
    if low in AUXILIARIES:
        j = i + 1
        while j < len(doc) and doc[j].lower_ in {"n't", "not"}:
            j += 1
        if j >= len(doc):
            return False
        subj = doc[j]
        if subj.lower_ in SUBJECT_WORDS or subj.pos_ in {"PRON", "PROPN", "DET", "NOUN"}:
            # "could be ..." and "will do" are verbs, not subjects.
            if subj.pos_ in {"AUX", "VERB"} and subj.lower_ not in SUBJECT_WORDS:
                return False
            if low in _BE:
                return True
            # "have a great day" is an imperative: a real question has a verb after the
            # subject ("has anyone reviewed", "do you know").
            return any(t.pos_ in {"VERB", "AUX"} for t in doc[j + 1 : j + 7])
        return False
    if low in WH_WORDS and allow_wh:
        j = i + 1
        skipped = 0
        while (
            j < len(doc)
            and skipped < 5
            and doc[j].pos_ in {"ADV", "ADJ", "NOUN", "PROPN", "DET", "ADP", "NUM"}
            and doc[j].lower_ not in SUBJECT_WORDS
        ):
            j += 1
            skipped += 1
        if j >= len(doc):
            return skipped == 0 and doc[-1].text == "?"
        nxt = doc[j]
        return nxt.pos_ in {"AUX", "VERB"} or nxt.tag_ in {"MD", "VBZ", "VBP", "VBD"}
    return False


def _strip_filler_tag(text: str) -> tuple[str, bool]:
    """Remove a trailing rhetorical tag; returns (rest, had_tag)."""
    core = text.strip().rstrip("?!. ").strip()
    low = core.lower()
    for tag in sorted(FILLER_TAGS, key=len, reverse=True):
        if low == tag:
            return "", True
        for sep in (", ", " "):
            if low.endswith(sep + tag):
                return core[: -len(sep + tag)].rstrip(" ,"), True
    return text, False


def question_score(doc: Doc, names: frozenset[str] = frozenset()) -> float:
    """Confidence 0..1 that the sentence asks something (0 for statements and fillers)."""
    text = doc.text.strip()
    if not text:
        return 0.0
    has_mark = "?" in text
    rest, had_tag = _strip_filler_tag(text)
    low = text.lower().lstrip("¿").strip()
    structural = any(
        _interrogative_at(doc, _skip_lead(doc, s, names), allow_wh=has_mark or n == 0)
        for n, s in enumerate(_clause_starts(doc))
    )
    if had_tag:
        if not rest:
            return 0.0
        # Only the words before the tag decide: "It's been crazy, you know?" is not asking.
        rest_low = rest.lower()
        tagless = [s for s in _clause_starts(doc) if doc[s].idx < len(rest)]
        structural = any(
            _interrogative_at(doc, _skip_lead(doc, s, names), allow_wh=False) for s in tagless
        )
        if not structural and not rest_low.startswith(INDIRECT):
            return 0.0
        has_mark = False
    body = low
    for lead in ("okay ", "ok ", "so ", "and ", "but ", "oh ", "well ", "also ", "alright "):
        body = body.removeprefix(lead)
    indirect = any(p in low for p in INDIRECT)
    elliptic = body.startswith(ELLIPTIC)
    if has_mark and structural:
        return 0.95
    if structural:
        return 0.8
    if indirect:
        return 0.8 if not has_mark else 0.9
    if elliptic:
        return 0.85 if has_mark else 0.7
    if has_mark:
        words = [t for t in doc if not t.is_punct]
        # "Really?" / "Sorry?" are reactions, not questions.
        return 0.7 if len(words) >= 3 else 0.0
    return 0.0


def detect(ctx: Context) -> list[Item]:
    """All questions in Symbl's shape (unfiltered; the caller applies the threshold)."""
    names = frozenset(
        part.lower() for member in ctx.members() for part in member.name.split() if part
    )
    found: list[Item] = []
    for message, doc in zip(ctx.messages, ctx.docs, strict=True):
        score = question_score(doc, names)
        if score <= 0.0:
            continue
        text = message.text.strip()
        found.append(
            {
                "id": insight_id("question", text, [message.id]),
                "text": text,
                "type": "question",
                "score": score,
                "messageIds": [message.id],
                "from": person_json(message.member, "from"),
            }
        )
    return found
