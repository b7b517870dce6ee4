"""Mask personal data in message text (``GET .../messages?redact=true``).

Symbl's redaction replaced detected PII/PCI entities with ``****`` and accepted an
``exclude`` list of upper-case entity types to leave visible. Pattern-shaped PII (emails,
phones, cards, SSNs, IPs, URLs) comes from regular expressions; names, places and dates
come from the spaCy model. A fixed-width mask is used so the mask does not leak length.
"""

from __future__ import annotations

from collections.abc import Collection

from parley.insights.context import parse_one
from parley.insights.pii import find_pii

__all__ = ["MASK", "REDACTABLE_TYPES", "redact", "redaction_spans"]

MASK = "****"

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


def redaction_spans(
    text: str, *, exclude: Collection[str] = (), include: Collection[str] = ()
) -> list[tuple[int, int, str]]:
    """(start, end, TYPE) spans that ``redact`` would mask, earliest first."""
    excluded = {e.upper() for e in exclude}
    wanted = (REDACTABLE_TYPES | {i.upper() for i in include}) - excluded
    spans = [(m.start, m.end, m.kind) for m in find_pii(text) if m.kind in wanted]
    ner_wanted = {label for label, kind in _NER_TYPES.items() if kind in wanted}
    if ner_wanted and any(ch.isalpha() for ch in text):
        # All of it, in pieces: a name past the analysis limit must still be masked.
        doc = parse_one(text, whole=True)
        for ent in doc.ents:
            if ent.label_ not in ner_wanted:
                continue
            if ent.label_ == "PERSON" and not ent.text[:1].isupper():
                continue
            start, end = ent.start_char, ent.end_char
            if any(s < end and start < e for s, e, _ in spans):
                continue
            spans.append((start, end, _NER_TYPES[ent.label_]))
    spans.sort()
    return spans


def redact(text: str, *, exclude: Collection[str] = (), include: Collection[str] = ()) -> str:
    """``text`` with every detected PII span replaced by ``****``.

    ``exclude`` names types to keep visible (e.g. ``["PERSON_NAME"]``); ``include`` adds
    types that are not masked by default (``DATE``, ``ORGANIZATION``).
    """
    if not text:
        return text
    out: list[str] = []
    pos = 0
    for start, end, _ in redaction_spans(text, exclude=exclude, include=include):
        out.append(text[pos:start])
        out.append(MASK)
        pos = end
    out.append(text[pos:])
    return "".join(out)
