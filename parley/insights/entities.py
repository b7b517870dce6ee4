"""Entities: spaCy NER + PII patterns (when ``detectEntities``) and custom entities (always).

Output is a superset of Symbl's two generations: the legacy fields the Python SDK requires
(``type``, ``value``, ``text``, ``messageRefs[{id,text,offset}]``, all non-null, plus
``customType`` for custom ones) and the newer ``subType``/``category``/``matches``.
Built-in entities are grouped by (type, text), so "Friday" said five times is one entity
with five message references.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from parley.insights import dates
from parley.insights.context import Context
from parley.insights.pii import find_pii
from parley.insights.schema import CustomEntity, Item, Message
from parley.insights.stable_ids import insight_id, make_unique

__all__ = ["MAX_CUSTOM_CHARS", "custom_matches", "detect", "match_ref", "message_ref"]

log = logging.getLogger("parley.insights")

#: Longest custom-entity text that is looked for (as for tracker phrases): matching costs
#: the text's length at every place its first word occurs, so it has to be bounded.
MAX_CUSTOM_CHARS = 100

#: spaCy label -> (legacy type, upper-case subType).
_NER = {
    "PERSON": ("person", "PERSON_NAME"),
    "ORG": ("organization", "ORGANIZATION"),
    "GPE": ("location", "LOCATION"),
    "LOC": ("location", "LOCATION"),
    "FAC": ("location", "LOCATION"),
    "DATE": ("date", "DATE"),
    "TIME": ("date", "DATE"),
    "MONEY": ("money", "MONEY"),
}
_PII = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone_number",
    "CREDIT_CARD_NUMBER": "credit_card_number",
    "US_SOCIAL_SECURITY_NUMBER": "ssn",
    "URL": "url",
    "IP_ADDRESS": "ip_address",
}
_CALENDAR_WORDS = re.compile(
    r"(?=[0-9a-z])\b(?:today|tonight|tomorrow|yesterday|monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|january|february|march|april|may|june|july|august|september|october|november|"
    r"december|quarter|q[1-4]|week|month|year|weekend|morning|afternoon|evening|night|spring|"
    r"summer|autumn|fall|winter|\d{4})\b",
    re.IGNORECASE,
)
#: Spans spaCy calls DATE that are durations or frequencies, not days.
_DURATION = re.compile(
    r"^(?:about |around |almost |over |nearly |the )?(?:a|an|one|two|three|four|five|six|"
    r"several|few|couple of|\d+)(?: couple of| few)? (?:days?|weeks?|months?|years?|hours?|"
    r"minutes?)(?: old)?$|^(?:daily|weekly|monthly|annual|annually|yearly|each \w+|every day)$",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset(
    [
        "okay",
        "ok",
        "yeah",
        "yes",
        "hi",
        "hello",
        "thanks",
        "thank",
        "sure",
        "great",
        "perfect",
        "right",
        "um",
        "uh",
        "hey",
        "bye",
    ]
)


def _iso(reference: datetime | None, seconds: float) -> str | None:
    if reference is None:
        return None
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=UTC)
    when: datetime = reference.astimezone(UTC) + timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def message_ref(message: Message, offset: int) -> Item:
    """A legacy ``messageRefs`` entry: the message and where in it the entity is."""
    return {"id": message.id, "text": message.text, "offset": offset}


def match_ref(message: Message, offset: int, reference: datetime | None) -> Item:
    """A newer ``matches[].messageRefs`` entry: the legacy one with the message's times
    (when the conversation's start is known)."""
    ref = message_ref(message, offset)
    start, end = _iso(reference, message.start), _iso(reference, message.end)
    if start is not None:
        ref["startTime"] = start
        ref["endTime"] = end
    return ref


class _Grouper:
    """Collects mentions into one entity per (type, subType, normalised value)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.items: dict[tuple[str, str, str], Item] = {}

    def add(
        self,
        message: Message,
        *,
        etype: str,
        sub_type: str,
        text: str,
        offset: int,
        value: str | None = None,
        category: str = "Managed",
        custom_type: str | None = None,
        extra: Item | None = None,
        detected: str | None = None,
    ) -> None:
        value = value if value is not None else text
        detected = detected or text
        key = (etype, custom_type or sub_type, value.lower())
        entity = self.items.get(key)
        if entity is None:
            entity = {
                "id": "",  # derived from the final mentions in result()
                "type": etype,
                "subType": sub_type,
                "category": category,
                "value": value,
                "text": text,
                "messageRefs": [],
                "matches": [],
            }
            if custom_type is not None:
                entity["customType"] = custom_type
            if extra:
                entity.update(extra)
            self.items[key] = entity
        refs = entity["messageRefs"]
        if not any(r["id"] == message.id and r["offset"] == offset for r in refs):
            refs.append(message_ref(message, offset))
        match = next((m for m in entity["matches"] if m["detectedValue"] == detected), None)
        if match is None:
            match = {"detectedValue": detected, "messageRefs": []}
            entity["matches"].append(match)
        match["messageRefs"].append(match_ref(message, offset, self.ctx.options.reference_time))

    def result(self) -> list[Item]:
        """The entities, each with an id from its type, value and the messages naming it."""
        out = list(self.items.values())
        for (etype, sub_type, value), entity in self.items.items():
            refs = dict.fromkeys(r["id"] for r in entity["messageRefs"])
            entity["id"] = insight_id(f"entity:{etype}:{sub_type}", value, refs)
        return list(make_unique(out))


def _custom_pattern(text: str) -> re.Pattern[str]:
    """Case-insensitive whole-word match that tolerates a plural -s/-es and flexible spaces."""
    words = [re.escape(w) for w in text.split()]
    body = r"[\s-]+".join(words)
    return re.compile(rf"(?<![\w]){body}(?:e?s)?(?![\w])", re.IGNORECASE)


def custom_matches(
    messages: Iterable[Message], custom: Iterable[CustomEntity]
) -> list[tuple[CustomEntity, Message, int, str]]:
    """(entity, message, offset, matched text) for every custom-entity mention."""
    out: list[tuple[CustomEntity, Message, int, str]] = []
    specs = []
    for c in custom:
        if len(c.text) > MAX_CUSTOM_CHARS:
            log.warning(
                "custom entity %r is longer than %d characters; not looked for",
                c.text[:40],
                MAX_CUSTOM_CHARS,
            )
        elif c.text.strip():
            specs.append((c, _custom_pattern(c.text)))
    for message in messages:
        for spec, pattern in specs:
            for m in pattern.finditer(message.text):
                out.append((spec, message, m.start(), m.group()))
    return out


def _builtin(ctx: Context, grouper: _Grouper) -> None:
    today = ctx.today
    member_names = {
        part
        for m in ctx.members()
        for part in m.name.split()
        if part[:1].isupper() and len(part) > 1
    }
    member_names -= {"Speaker"}
    for message, doc in zip(ctx.messages, ctx.docs, strict=True):
        taken: list[tuple[int, int]] = []
        for pii in find_pii(message.text):
            grouper.add(
                message, etype=_PII[pii.kind], sub_type=pii.kind, text=pii.text, offset=pii.start
            )
            taken.append((pii.start, pii.end))
        for ent in doc.ents:
            start, end = ent.start_char, ent.end_char
            if any(s < end and start < e for s, e in taken):
                continue
            label = ent.label_
            text = ent.text.strip(" ,.'")
            if label in {"GPE", "ORG", "NORP", "PRODUCT"} and text in member_names:
                label = "PERSON"  # the small model often calls a participant's name a place
            if label not in _NER or not text:
                continue
            etype, sub_type = _NER[label]
            value: str | None = None
            extra: Item | None = None
            if etype == "date":
                resolved = dates.resolve(text, today) if today is not None else None
                if resolved is None and (
                    label == "TIME" or _DURATION.match(text) or not _CALENDAR_WORDS.search(text)
                ):
                    continue
                if resolved is not None:
                    value = resolved.start.isoformat()
                    if resolved.is_range and resolved.end is not None:
                        etype, sub_type = "daterange", "DATE_RANGE"
                        extra = {
                            "start": resolved.start.isoformat(),
                            "end": resolved.end.isoformat(),
                        }
            elif etype == "person":
                if not text[:1].isupper() or text.lower() in _NOT_NAMES or len(text) < 2:
                    continue
                if _CALENDAR_WORDS.fullmatch(text):
                    continue
                text = re.sub(r"'s$", "", text)
            elif etype in {"organization", "location"} and not text[:1].isupper():
                continue
            grouper.add(
                message,
                etype=etype,
                sub_type=sub_type,
                text=text,
                # Bounded search: the span is where the text is (a whole-message search per
                # entity made a long message quadratic).
                offset=_offset(message.text, text, start, end),
                value=value,
                extra=extra,
            )
            taken.append((start, end))
        # Participants' names the model missed ("thanks Tom", "Ben can you ...").
        for tok in doc:
            if tok.text in member_names and not any(s <= tok.idx < e for s, e in taken):
                grouper.add(
                    message, etype="person", sub_type="PERSON_NAME", text=tok.text, offset=tok.idx
                )
                taken.append((tok.idx, tok.idx + len(tok.text)))


def _offset(message_text: str, text: str, start: int, end: int) -> int:
    found = message_text.find(text, start, end)
    return found if found >= 0 else start


def detect(ctx: Context, *, builtin: bool) -> list[Item]:
    """Custom entities always; built-in ones only when ``builtin`` (``detectEntities``)."""
    grouper = _Grouper(ctx)
    for spec, message, offset, text in custom_matches(ctx.messages, ctx.options.custom_entities):
        grouper.add(
            message,
            etype="custom",
            sub_type=spec.custom_type,
            text=spec.text,
            offset=offset,
            value=spec.value or spec.text,
            category="Custom",
            custom_type=spec.custom_type,
            detected=text,
        )
    if builtin:
        _builtin(ctx, grouper)
    return grouper.result()
