"""A stream's records → the Streaming API's frames (symbl-streaming.md §6), as dicts
validated through the wire models (``parley_client.wire.streaming``)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from parley.insights import ConversationInsights
from parley.live.conversation import StoredSentence
from parley.pipeline.schema import Word
from parley.times import iso
from parley_client.wire.streaming import (
    InsightResponse,
    MessageResponse,
    RecognitionResult,
    StreamedInsight,
    StreamedMessage,
    StreamedTopic,
    StreamingError,
    TimeValue,
    TopicResponse,
    TrackerResponse,
    dump,
)

__all__ = [
    "control",
    "error",
    "insight_response",
    "message_response",
    "recognition_result",
    "topic_response",
    "tracker_response",
]

#: The insight kinds of a result, by the ``insightTypes`` name that asks for them.
_KINDS = {"question": "questions", "action_item": "action_items", "follow_up": "follow_ups"}


def control(kind: str, conversation_id: str | None = None) -> dict[str, Any]:
    """A control frame; the conversation id in ``data`` (and at top level for
    ``conversation_completed``, which js reads there and go in ``data``)."""
    message: dict[str, Any] = {"type": kind}
    if conversation_id is not None:
        if kind == "conversation_completed":
            message["conversationId"] = conversation_id
        message["data"] = {"conversationId": conversation_id}
    return {"type": "message", "message": message}


def error(code: int, text: str) -> dict[str, Any]:
    """Symbl's error frame (wrapped, as js-sdk rejects its pending promise with it)."""
    body = StreamingError(code=code, message=text, details=text, detail=text)
    return {"type": "message", "message": dump(body)}


def recognition_result(
    *,
    text: str,
    words: Sequence[Word],
    final: bool,
    user: dict[str, Any],
    start: float,
) -> dict[str, Any]:
    """A live caption: the current utterance's text (replaced by the next one)."""
    confidence = sum(w.probability for w in words) / len(words) if words else 0.0
    raw = {
        "alternatives": [
            {
                "transcript": text,
                "confidence": round(confidence, 4),
                "words": [
                    {
                        "word": w.text,
                        "startTime": TimeValue.of(w.start).model_dump(),
                        "endTime": TimeValue.of(w.end).model_dump(),
                    }
                    for w in words
                ],
            }
        ]
    }
    result = RecognitionResult(
        is_final=final, payload={"raw": raw}, punctuated={"transcript": text}, user=user
    )
    return {"type": "message", "message": dump(result), "timeOffset": int(start)}


def _at(origin: datetime, seconds: float) -> str:
    return iso(origin + timedelta(seconds=seconds))


def message_response(
    sequence: int,
    sentences: Iterable[StoredSentence],
    *,
    sender: dict[str, Any],
    origin: datetime,
    timezone_offset: int,
) -> dict[str, Any]:
    """Finalized sentences; ``metadata.words`` is a JSON string with absolute times."""
    messages = []
    for s in sentences:
        words = [
            {"word": w, "startTime": _at(origin, a), "endTime": _at(origin, b)}
            for w, a, b in s.words
        ]
        messages.append(
            StreamedMessage(
                id=s.id,
                from_=sender,
                payload={"content": s.text, "contentType": "text/plain"},
                metadata={
                    "disablePunctuation": True,
                    "timezoneOffset": timezone_offset,
                    "originalContent": s.text,
                    "words": json.dumps(words),
                    "originalMessageId": s.id,
                },
                duration={"startTime": _at(origin, s.start), "endTime": _at(origin, s.end)},
            )
        )
    return dump(MessageResponse(sequence_number=sequence, messages=messages))


def _insight(item: dict[str, Any]) -> StreamedInsight:
    score = float(item.get("score", 0.0))
    refs = item.get("messageIds") or []
    text = str(item.get("text", ""))
    assignee = item.get("assignee")
    extra = {"dueBy": item["dueBy"]} if item.get("dueBy") else {}
    return StreamedInsight(
        id=str(item["id"]),
        type=str(item["type"]),
        text=text,
        confidence=score,
        payload={"content": text, "contentType": "text/plain"},
        message_reference={"id": str(refs[0])} if refs else {},
        hints=[
            {"key": "confidenceScore", "value": str(score)},
            {"key": "informationScore", "value": str(score)},
        ],
        assignee=assignee if isinstance(assignee, dict) and assignee else None,
        tags=list(item.get("entities") or []),
        from_=item.get("from") or None,
        **extra,
    )


def insight_response(
    sequence: int,
    result: ConversationInsights,
    *,
    new_ids: Collection[str],
    wanted: Collection[str],
) -> dict[str, Any] | None:
    """The questions, action items and follow-ups of the new sentences, of the kinds the
    start request asked for (the threshold was applied when they were computed)."""
    items = [
        _insight(item)
        for kind in sorted(wanted)
        for item in getattr(result, _KINDS[kind])
        if set(item.get("messageIds") or ()) & set(new_ids)
    ]
    if not items:
        return None
    return dump(InsightResponse(sequence_number=sequence, insights=items))


def topic_response(
    sequence: int, result: ConversationInsights, *, sent: Collection[str]
) -> dict[str, Any] | None:
    """The topics not sent before (``sent``: ids), as they emerge."""
    topics = [
        StreamedTopic(
            id=str(t["id"]),
            phrases=str(t.get("text", "")),
            score=float(t.get("score", 0.0)),
            root_words=[{"text": w} for w in str(t.get("text", "")).split()[:1]],
            message_references=[
                {"id": str(i), "relation": "text instance"} for i in t.get("messageIds") or ()
            ],
        )
        for t in result.topics
        if str(t["id"]) not in sent
    ]
    if not topics:
        return None
    return dump(TopicResponse(sequence_number=sequence, topics=topics))


def tracker_response(
    sequence: int, result: ConversationInsights, *, new_ids: Collection[str]
) -> dict[str, Any] | None:
    """The tracker matches in the new sentences (the whole frame goes to js handlers)."""
    trackers = []
    for tracker in result.trackers:
        matches = []
        for match in tracker.get("matches") or ():
            refs = [r for r in match.get("messageRefs") or () if r.get("id") in new_ids]
            if refs:
                matches.append({**match, "messageRefs": refs})
        if matches:
            trackers.append({"name": tracker.get("name"), "matches": matches})
    if not trackers:
        return None
    return dump(TrackerResponse(sequence_number=sequence, trackers=trackers))
