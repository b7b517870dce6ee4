"""Records → the Streaming API's frames: the shapes Symbl's clients read (spec §6)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from parley.insights import ConversationInsights
from parley.live import present
from parley.live.conversation import StoredSentence
from parley.pipeline.schema import Word

ORIGIN = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


def _item(kind: str, item_id: str, message_ids: list[str], score: float = 0.9) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": kind,
        "text": f"{kind} {item_id}",
        "score": score,
        "messageIds": message_ids,
        "from": {"id": "m1", "name": "Jane"},
    }


def test_control_frames_carry_the_conversation_id_where_each_sdk_reads_it() -> None:
    assert present.control("started_listening") == {
        "type": "message",
        "message": {"type": "started_listening"},
    }
    created = present.control("conversation_created", "123")["message"]
    assert created == {"type": "conversation_created", "data": {"conversationId": "123"}}
    completed = present.control("conversation_completed", "123")["message"]
    assert completed["conversationId"] == "123"  # js reads it here
    assert completed["data"] == {"conversationId": "123"}  # go reads it here


def test_an_error_frame_says_it_in_every_spelling() -> None:
    frame = present.error(400, "Bad start.")
    assert frame["type"] == "message"
    assert frame["message"] == {
        "type": "error",
        "code": 400,
        "message": "Bad start.",
        "details": "Bad start.",
        "detail": "Bad start.",
    }


def test_recognition_times_are_protobuf_strings() -> None:
    frame = present.recognition_result(
        text="Hello world.",
        words=[Word("Hello", 3.8, 4.2, 0.9), Word("world.", 4.2, 4.7, 0.7)],
        final=True,
        user={"id": "u", "name": "Jane"},
        start=3.8,
    )
    message = frame["message"]
    assert message["isFinal"] is True and message["punctuated"] == {"transcript": "Hello world."}
    word = message["payload"]["raw"]["alternatives"][0]["words"][0]
    assert word["startTime"] == {"seconds": "3", "nanos": "800000000"}
    assert frame["timeOffset"] == 3


def test_a_message_response_has_words_as_a_json_string_and_absolute_times() -> None:
    sentence = StoredSentence("42", "Hello world.", 1.5, 2.5, (("Hello", 1.5, 1.9),))
    frame = present.message_response(
        7, [sentence], sender={"id": "m1", "name": "Jane"}, origin=ORIGIN, timezone_offset=0
    )
    assert frame["type"] == "message_response" and frame["sequenceNumber"] == 7
    (message,) = frame["messages"]
    assert message["from"] == {"id": "m1", "name": "Jane"}
    assert message["payload"] == {"content": "Hello world.", "contentType": "text/plain"}
    assert message["duration"] == {
        "startTime": "2026-12-01T10:00:01.500Z",
        "endTime": "2026-12-01T10:00:02.500Z",
    }
    words = json.loads(message["metadata"]["words"])
    assert words == [
        {
            "word": "Hello",
            "startTime": "2026-12-01T10:00:01.500Z",
            "endTime": "2026-12-01T10:00:01.900Z",
        }
    ]


def test_insights_are_those_of_the_new_sentences_and_of_the_kinds_asked_for() -> None:
    result = ConversationInsights(
        questions=[_item("question", "q1", ["old"]), _item("question", "q2", ["new"])],
        action_items=[_item("action_item", "a1", ["new"])],
        follow_ups=[_item("follow_up", "f1", ["new"])],
    )
    frame = present.insight_response(1, result, new_ids={"new"}, wanted={"question", "follow_up"})
    assert frame is not None
    assert [i["id"] for i in frame["insights"]] == ["f1", "q2"]
    insight = frame["insights"][1]
    assert insight["text"] == insight["payload"]["content"] == "question q2"
    assert insight["messageReference"] == {"id": "new"}
    assert present.insight_response(1, result, new_ids={"new"}, wanted=set()) is None


def test_topics_are_sent_as_they_emerge_with_phrases_as_a_string() -> None:
    result = ConversationInsights(topics=[_item("topic", "t1", ["m"]), _item("topic", "t2", ["m"])])
    frame = present.topic_response(3, result, sent={"t1"})
    assert frame is not None
    (topic,) = frame["topics"]
    assert topic["id"] == "t2" and topic["phrases"] == "topic t2"
    assert topic["messageReferences"] == [{"id": "m", "relation": "text instance"}]
    assert present.topic_response(4, result, sent={"t1", "t2"}) is None


def test_tracker_matches_are_those_in_the_new_sentences() -> None:
    refs = [{"id": "old", "text": "a", "offset": 1}, {"id": "new", "text": "b", "offset": 2}]
    result = ConversationInsights(
        trackers=[
            {
                "id": "1",
                "name": "Budget",
                "matches": [
                    {
                        "type": "vocabulary",
                        "value": "budget",
                        "messageRefs": refs,
                        "insightRefs": [],
                    }
                ],
            },
            {
                "id": "2",
                "name": "Other",
                "matches": [
                    {"type": "vocabulary", "value": "x", "messageRefs": refs[:1], "insightRefs": []}
                ],
            },
        ]
    )
    frame = present.tracker_response(1, result, new_ids={"new"})
    assert frame is not None and frame["isFinal"] is True
    (tracker,) = frame["trackers"]
    assert tracker["name"] == "Budget"
    assert tracker["matches"][0]["messageRefs"] == [refs[1]]
