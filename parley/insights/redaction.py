"""Mask personal data in message text (``GET .../messages?redact=true``).

Symbl's redaction replaced detected PII/PCI entities with ``****`` and accepted an
``exclude`` list of upper-case entity types to leave visible. Pattern-shaped PII (emails,
phones, cards, SSNs, IPs, URLs) comes from regular expressions; names, places and dates
come from the spaCy model. A fixed-width mask is used so the mask does not leak length.
An app's settings (``/redaction/type``) choose between that mask (``obfuscation``, the
default) and the entity's type in brackets (``default``: ``[PERSON_NAME]``).

Detection is split from masking so it runs once per message text (issue 23): ``candidates``
lists every span of every type, in the order the masking rules consider them; it is
computed with the insights (from the same spaCy doc) and stored with the conversation, and
``mask`` applies a read's ``exclude``/``include`` to it in linear time.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Collection
from typing import TYPE_CHECKING

from parley.insights.context import parse_one
from parley.insights.pii import find_pii

if TYPE_CHECKING:
    from spacy.tokens import Doc

__all__ = [
    "MASK",
    "REDACTABLE_TYPES",
    "STYLES",
    "Candidate",
    "candidates",
    "decode",
    "digest",
    "encode",
    "mask",
    "redact",
    "redaction_spans",
    "stats",
]

#: ``[start, end, TYPE, source]``: ``source`` is ``"pii"`` (patterns, resolved among
#: themselves) or ``"ner"`` (the model: kept only where no earlier kept span overlaps).
Candidate = list[int | str]

#: How many times detection ran in this process (tests check it runs once per text).
stats = {"detections": 0}

MASK = "****"
#: Mask styles: ``obfuscation`` is ``MASK``; ``default`` is the entity type in brackets.
STYLES = ("obfuscation", "default")

#: spaCy labels -> Symbl's upper-case managed entity types.
_NER_TYPES = {
    "PERSON": "PERSON_NAME",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "DATE": "DATE",
    "ORG": "ORGANIZATION",
}
#: Types masked by default. DATE and ORGANIZATION are not personal data on their own, so
#: they are masked only when asked for via ``include``.
REDACTABLE_TYPES = frozenset(
    {
        "PERSON_NAME",
        "PHONE_NUMBER",
        "EMAIL_ADDRESS",
        "CREDIT_CARD_NUMBER",
        "US_SOCIAL_SECURITY_NUMBER",
        "IP_ADDRESS",
        "URL",
        "LOCATION",
    }
)


#: Length of a ``digest`` (hex characters).
DIGEST_CHARS = 24


def digest(text: str) -> str:
    """What a stored detection is valid for: the text it was computed from."""
    return hashlib.blake2b(
        text.encode("utf-8", "surrogatepass"), digest_size=DIGEST_CHARS // 2
    ).hexdigest()


def encode(found: list[Candidate]) -> str:
    """Candidates as one compact string (``start,end,TYPE,source;…``) to store: types and
    sources are upper-case words and ``pii``/``ner``, so no separator occurs in them."""
    return ";".join(f"{start},{end},{kind},{source}" for start, end, kind, source in found)


def decode(encoded: str) -> list[Candidate]:
    """``encode``'s inverse."""
    out: list[Candidate] = []
    for item in encoded.split(";") if encoded else ():
        start, end, kind, source = item.split(",")
        out.append([int(start), int(end), kind, source])
    return out


def candidates(text: str, doc: Doc | None = None) -> list[Candidate]:
    """Every span any read might mask, whatever its ``exclude``/``include``.

    ``doc`` is the text's spaCy doc if the caller has one covering all of it (the insight
    stage does); otherwise the text is parsed here, whole.
    """
    stats["detections"] += 1
    found: list[Candidate] = [[m.start, m.end, m.kind, "pii"] for m in find_pii(text)]
    if any(ch.isalpha() for ch in text):
        if doc is None or len(doc.text) != len(text):
            # All of it, in pieces: a name past the analysis limit must still be masked.
            doc = parse_one(text, whole=True)
        for ent in doc.ents:
            if ent.label_ not in _NER_TYPES:
                continue
            if ent.label_ == "PERSON" and not ent.text[:1].isupper():
                continue
            found.append([ent.start_char, ent.end_char, _NER_TYPES[ent.label_], "ner"])
    return found


def _spans(
    found: list[Candidate], exclude: Collection[str], include: Collection[str]
) -> list[tuple[int, int, str]]:
    """The spans to mask: wanted pattern matches, then wanted model entities that overlap
    no span kept before them. Kept spans never overlap, so the overlap test looks only at
    the kept span starting last before the entity ends (bisect: linear overall)."""
    excluded = {e.upper() for e in exclude}
    wanted = (REDACTABLE_TYPES | {i.upper() for i in include}) - excluded
    starts: list[int] = []
    ends: list[int] = []
    spans: list[tuple[int, int, str]] = []
    for start, end, kind, source in found:
        if kind not in wanted:
            continue
        s, e = int(start), int(end)
        i = bisect.bisect_left(starts, e)
        if source == "ner" and i and ends[i - 1] > s:
            continue
        starts.insert(i, s)
        ends.insert(i, e)
        spans.append((s, e, str(kind)))
    spans.sort()
    return spans


def redaction_spans(
    text: str, *, exclude: Collection[str] = (), include: Collection[str] = ()
) -> list[tuple[int, int, str]]:
    """(start, end, TYPE) spans that ``redact`` would mask, earliest first."""
    return _spans(candidates(text), exclude, include)


def mask(
    text: str,
    found: list[Candidate],
    *,
    exclude: Collection[str] = (),
    include: Collection[str] = (),
    style: str = "obfuscation",
) -> str:
    """``text`` with the wanted spans of a stored detection replaced by ``****``, or with
    ``style="default"`` by their type (``[PERSON_NAME]``)."""
    out: list[str] = []
    pos = 0
    for start, end, kind in _spans(found, exclude, include):
        out.append(text[pos:start])
        out.append(f"[{kind}]" if style == "default" else MASK)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str, *, exclude: Collection[str] = (), include: Collection[str] = ()) -> str:
    """``text`` with every detected PII span replaced by ``****``.

    ``exclude`` names types to keep visible (e.g. ``["PERSON_NAME"]``); ``include`` adds
    types that are not masked by default (``DATE``, ``ORGANIZATION``).
    """
    if not text:
        return text
    return mask(text, candidates(text), exclude=exclude, include=include)
