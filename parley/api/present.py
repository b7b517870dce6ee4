"""Stored rows → Symbl's JSON shapes. Pure functions, no I/O."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from parley.storage.models import Conversation, Member, Message
from parley.times import iso
from parley.transcript import Line
from parley_client.wire.people import person_json

__all__ = [
    "at",
    "conversation_json",
    "iso",
    "member_json",
    "message_json",
    "person_json",
    "transcript_lines",
    "with_people",
]


def at(conversation: Conversation, seconds: float) -> str:
    """The wall-clock time of a position in the conversation's audio."""
    return iso(conversation.start_time + timedelta(seconds=seconds))


def member_json(member: Member) -> dict[str, Any]:
    """A member as the members list and a message's ``from`` show it."""
    return person_json(member, "member")


def conversation_json(conversation: Conversation, members: list[Member]) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "type": conversation.type,
        "name": conversation.name,
        "startTime": iso(conversation.start_time),
        "endTime": at(conversation, conversation.duration),
        "members": [member_json(m) for m in members],
        "metadata": conversation.meta or {},
        # Parley extension: seconds billed, duration × channels for per-channel recognition
        "billingDuration": round(conversation.billing_duration, 3),
    }


def message_json(
    message: Message,
    conversation: Conversation,
    members: dict[str, Member],
    *,
    origin: float,
    verbose: bool = False,
    sentiment: bool = False,
    text: str | None = None,
) -> dict[str, Any]:
    """One message; ``origin`` is the first message's start (``timeOffset`` 0)."""
    member = members.get(message.member_id or "")
    body: dict[str, Any] = {
        "id": message.id,
        "text": message.text if text is None else text,
        "from": member_json(member) if member else {},
        "startTime": at(conversation, message.start),
        "endTime": at(conversation, message.end),
        "timeOffset": round(message.start - origin, 2),
        "duration": round(message.end - message.start, 2),
        "conversationId": conversation.id,
        "phrases": message.phrases or [],
    }
    if sentiment:
        body["sentiment"] = message.sentiment or {
            "polarity": {"score": 0.0},
            "suggested": "neutral",
        }
    if verbose:
        body["words"] = [
            {
                "word": w["word"],
                "startTime": at(conversation, w["start"]),
                "endTime": at(conversation, w["end"]),
                "score": w.get("score", 1.0),
                "timeOffset": round(w["start"] - origin, 2),
                "duration": round(w["end"] - w["start"], 2),
            }
            for w in message.words or []
        ]
    return body


def with_people(items: list[dict[str, Any]], members: dict[str, Member]) -> list[dict[str, Any]]:
    """Insight items with ``from``/``assignee`` refreshed from the current members.

    Insights store member ids; renaming or merging a member shows up here
    without recomputing anything.
    """
    result = []
    for item in items:
        item = dict(item)
        for role in ("from", "assignee"):
            ref = item.get(role)
            if isinstance(ref, dict) and ref.get("id") in members:
                item[role] = person_json(members[ref["id"]], role)
        result.append(item)
    return result


def transcript_lines(messages: list[Message], members: dict[str, Member]) -> list[Line]:
    """Stored messages as lines of a formatted transcript, with speaker names."""
    return [
        Line(m.text, m.start, m.end, members[m.member_id].name if m.member_id in members else None)
        for m in messages
    ]
