"""Key phrases per message (``detectPhrases``): Symbl's ``action_phrase`` items.

Symbl highlighted the part of a sentence that carries the point: the task in an action
item ("make this hackathon work for our customers first") or a figure ("$69.99 per month").
Here that is the verb phrase of every detected task plus money amounts with their unit.
"""

from __future__ import annotations

from collections.abc import Sequence

from parley.insights import action_items
from parley.insights.action_items import ActionCandidate
from parley.insights.context import Context
from parley.insights.schema import Item

__all__ = ["detect"]


def detect(ctx: Context, candidates: Sequence[ActionCandidate]) -> dict[str, list[Item]]:
    """Message id -> phrases; messages without a phrase are left out.

    ``candidates`` is the action analysis (``action_items.analyse``) already run for the
    action items, so the dependency walk is not done twice.
    """
    out: dict[str, list[Item]] = {}

    def add(message_id: str, text: str) -> None:
        text = text.strip(" ,.")
        if len(text.split()) < 2 and not any(ch.isdigit() for ch in text):
            return
        items = out.setdefault(message_id, [])
        if all(p["text"] != text for p in items):
            items.append({"type": "action_phrase", "text": text})

    for cand in candidates:
        if cand.score >= ctx.options.confidence_threshold:
            add(ctx.messages[cand.index].id, action_items.action_phrase(cand.verb))
    for message, doc in zip(ctx.messages, ctx.docs, strict=True):
        for ent in doc.ents:
            if ent.label_ not in {"MONEY", "PERCENT", "QUANTITY"}:
                continue
            end = ent.end
            # "$69.99 per month", "$45 a month"
            if (
                end + 1 < len(doc)
                and doc[end].lower_ in {"per", "a", "an", "each"}
                and doc[end + 1].pos_ == "NOUN"
            ):
                end += 2
            add(message.id, doc[ent.start : end].text)
    return out
