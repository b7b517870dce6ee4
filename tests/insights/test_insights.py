"""Behaviour of compute_insights: shapes, thresholds, empty input, questions and tasks."""

from __future__ import annotations

import re
from dataclasses import replace

from parley.insights import (
    CustomEntity,
    InsightOptions,
    Member,
    Message,
    TrackerSpec,
    compute_insights,
)

from .conftest import MONDAY, make_messages

NUMERIC = re.compile(r"^[1-9]\d{15}$")

MEETING = make_messages(
    ("Alice", "Okay, let's get started with the launch plan."),
    ("Bob", "Do you know when the new pricing page ships"),
    ("Alice", "It should ship on March 22nd if design is done."),
    ("Bob", "It's been a long week, you know?"),
    ("Alice", "Right?"),
    ("Alice", "I'll send the deck to Carol by Friday."),
    ("Alice", "Bob, can you book the room for the offsite?"),
    ("Bob", "Sure, I'll book it tomorrow."),
    ("Alice", "Let's schedule a call next week to review the pricing page."),
    ("Bob", "I'll get back to you once legal has signed off."),
    ("Alice", "My email is alice@example.com and my phone is 415-555-0132."),
    ("Bob", "The pricing page looks great and customers love the new pricing."),
)
FULL = InsightOptions(
    detect_entities=True,
    detect_phrases=True,
    enable_summary=True,
    reference_time=MONDAY,
    custom_entities=(CustomEntity("Product", "pricing page"),),
    trackers=(TrackerSpec("77", "Pricing", ("price", "cost")),),
)


def _texts(items: list[dict]) -> list[str]:
    return [i["text"] for i in items]


def test_empty_conversation_gives_empty_lists() -> None:
    result = compute_insights([], InsightOptions())
    assert result.questions == result.action_items == result.follow_ups == []
    assert result.topics == result.entities == result.trackers == result.summary == []
    assert result.phrases == {} and result.sentiments == {}


def test_blank_messages_are_ignored() -> None:
    msgs = [Message("1", "   ", 0, 1), Message("2", "", 1, 2)]
    result = compute_insights(msgs, InsightOptions(enable_summary=True, detect_entities=True))
    assert result.questions == [] and result.summary == [] and result.sentiments == {}


def test_questions_with_and_without_mark_but_not_fillers() -> None:
    result = compute_insights(MEETING, InsightOptions())
    texts = _texts(result.questions)
    assert "Do you know when the new pricing page ships" in texts
    assert "Bob, can you book the room for the offsite?" in texts
    assert "It's been a long week, you know?" not in texts
    assert "Right?" not in texts
    for q in result.questions:
        assert NUMERIC.match(q["id"]) and q["type"] == "question"
        assert 0.5 <= q["score"] <= 1.0
        assert len(q["messageIds"]) == 1
        assert set(q["from"]) == {"id", "name", "userId"}


def test_action_items_commitments_requests_and_due_dates() -> None:
    result = compute_insights(MEETING, InsightOptions(reference_time=MONDAY))
    by_text = {a["text"]: a for a in result.action_items}
    deck = by_text["I'll send the deck to Carol by Friday."]
    assert deck["assignee"]["name"] == "Alice" and deck["assignee"]["id"] == "m-alice"
    assert deck["definitive"] is True
    assert deck["dueBy"] == "2024-03-15T00:00:00.000Z"
    assert any(e["type"] == "date" and e["value"] == "2024-03-15" for e in deck["entities"])
    room = by_text["Bob, can you book the room for the offsite?"]
    assert room["assignee"]["name"] == "Bob"
    assert room["definitive"] is False
    assert room["phrases"][0]["text"].startswith("book the room")
    for item in result.action_items:
        assert item["type"] == "action_item"
        for key in (
            "id",
            "text",
            "score",
            "messageIds",
            "entities",
            "phrases",
            "from",
            "definitive",
            "assignee",
        ):
            assert item[key] is not None, key
    assert "Okay, let's get started with the launch plan." not in by_text


def test_follow_ups_are_separate_from_action_items() -> None:
    result = compute_insights(MEETING, InsightOptions(reference_time=MONDAY))
    follow = _texts(result.follow_ups)
    assert "Let's schedule a call next week to review the pricing page." in follow
    assert "I'll get back to you once legal has signed off." in follow
    assert not set(follow) & set(_texts(result.action_items))
    assert all(f["type"] == "follow_up" for f in result.follow_ups)


def test_time_zone_moves_due_by_to_local_midnight() -> None:
    opts = InsightOptions(reference_time=MONDAY, timezone_offset_minutes=-420)
    result = compute_insights(MEETING, opts)
    deck = next(a for a in result.action_items if "deck" in a["text"])
    assert deck["dueBy"] == "2024-03-15T07:00:00.000Z"


def test_confidence_threshold_filters_every_scored_kind() -> None:
    low = compute_insights(MEETING, InsightOptions(confidence_threshold=0.0))
    high = compute_insights(MEETING, InsightOptions(confidence_threshold=0.99))
    assert len(low.questions) > len(high.questions)
    assert len(low.action_items) > len(high.action_items)
    for kind in ("questions", "action_items", "follow_ups", "topics"):
        assert all(i["score"] >= 0.99 for i in getattr(high, kind)), kind


def test_hedged_offers_score_below_default_threshold() -> None:
    msgs = make_messages(("A", "I can take a look at it."), ("B", "Thanks."))
    assert compute_insights(msgs, InsightOptions()).action_items == []
    low = compute_insights(msgs, InsightOptions(confidence_threshold=0.3)).action_items
    assert [a["definitive"] for a in low] == [False]


def test_unknown_speaker_gives_empty_from() -> None:
    msgs = [Message("1", "What time is the demo?", 0, 1, None)]
    (question,) = compute_insights(msgs, InsightOptions()).questions
    assert question["from"] == {}


def test_topics_shape_and_hierarchy() -> None:
    result = compute_insights(MEETING, InsightOptions(confidence_threshold=0.0))
    assert result.topics
    texts = _texts(result.topics)
    assert any("pricing" in t for t in texts)
    ids = {m.id for m in MEETING}
    for topic in result.topics:
        assert topic["type"] == "topic" and NUMERIC.match(topic["id"])
        assert set(topic["messageIds"]) <= ids and topic["messageIds"]
        assert topic["sentiment"]["suggested"] in {"positive", "neutral", "negative"}
        assert isinstance(topic["parentRefs"], list)
        for parent in topic["parentRefs"]:
            assert parent["type"] == "topic" and parent["text"] in texts


def test_entities_only_when_asked_but_custom_always() -> None:
    opts = replace(FULL, detect_entities=False)
    result = compute_insights(MEETING, opts)
    assert {e["type"] for e in result.entities} == {"custom"}
    full = compute_insights(MEETING, FULL)
    types = {e["type"] for e in full.entities}
    assert {"custom", "email", "phone_number", "date"} <= types
    for entity in full.entities:
        for key in ("type", "value", "text", "messageRefs", "subType", "category", "matches"):
            assert entity[key] is not None, key
        for ref in entity["messageRefs"]:
            message = next(m for m in MEETING if m.id == ref["id"])
            assert ref["text"] == message.text and ref["offset"] >= 0
    custom = next(e for e in full.entities if e["type"] == "custom")
    assert custom["customType"] == "Product" and custom["category"] == "Custom"
    assert len(custom["messageRefs"]) == 3
    email = next(e for e in full.entities if e["type"] == "email")
    ref = email["messageRefs"][0]
    assert ref["text"][ref["offset"] :].startswith("alice@example.com")
    assert email["matches"][0]["messageRefs"][0]["startTime"].endswith("Z")


def test_phrases_and_summary_follow_their_flags() -> None:
    off = compute_insights(MEETING, InsightOptions())
    assert off.phrases == {} and off.summary == []
    on = compute_insights(MEETING, FULL)
    assert on.phrases
    for message_id, phrases in on.phrases.items():
        assert message_id in {m.id for m in MEETING}
        assert all(p["type"] == "action_phrase" and p["text"] for p in phrases)
    assert on.summary
    for item in on.summary:
        assert NUMERIC.match(item["id"]) and item["text"]
        assert all(set(ref) == {"id"} for ref in item["messageRefs"])


def test_sentiment_always_present_with_symbl_mapping() -> None:
    result = compute_insights(MEETING, InsightOptions())
    assert set(result.sentiments) == {m.id for m in MEETING}
    for s in result.sentiments.values():
        score = s["polarity"]["score"]
        assert -1.0 <= score <= 1.0
        expected = "negative" if score < -0.3 else "positive" if score > 0.3 else "neutral"
        assert s["suggested"] == expected
    assert result.sentiments[MEETING[-1].id]["suggested"] == "positive"


def test_renamed_member_keeps_id_in_from_and_assignee() -> None:
    member = Member("uuid-1", "Speaker 1")
    msgs = [Message("1", "I'll send the contract tomorrow.", 0, 2, member)]
    (item,) = compute_insights(msgs, InsightOptions()).action_items
    assert item["from"] == {"id": "uuid-1", "name": "Speaker 1", "userId": None}
    assert item["assignee"] == {"id": "uuid-1", "name": "Speaker 1"}
