"""Insight ids survive recomputation: a client that stored one can still find it."""

from __future__ import annotations

import re
from dataclasses import replace

from parley.insights import ConversationInsights, Member, compute_insights
from parley.insights.stable_ids import insight_id, make_unique

from .test_insights import FULL, MEETING

NUMERIC = re.compile(r"^[1-9]\d{15}$")
KINDS = ("questions", "action_items", "follow_ups", "topics", "entities", "summary")


def ids(result: ConversationInsights) -> dict[str, list[str]]:
    return {kind: [item["id"] for item in getattr(result, kind)] for kind in KINDS}


def by_text(result: ConversationInsights, kind: str) -> dict[str, str]:
    return {item["text"]: item["id"] for item in getattr(result, kind)}


def test_every_kind_has_numeric_ids_unique_within_the_conversation() -> None:
    found = ids(compute_insights(MEETING, FULL))
    assert all(found[kind] for kind in KINDS), found  # the fixture produces every kind
    every = [i for kind in KINDS for i in found[kind]]
    assert all(NUMERIC.match(i) for i in every)
    assert len(set(every)) == len(every)


def test_computing_twice_gives_the_same_ids() -> None:
    first = compute_insights(MEETING, FULL)
    second = compute_insights(list(MEETING), FULL)
    assert ids(first) == ids(second)
    refs = {r["id"] for t in second.trackers for m in t["matches"] for r in m["insightRefs"]}
    assert refs and refs <= {i for kind in KINDS for i in ids(second)[kind]}


def test_renaming_a_member_keeps_every_id() -> None:
    before = compute_insights(MEETING, FULL)
    renamed = {"m-alice": Member("m-alice", "Alice Liddell", "alice@example.com")}
    messages = [
        replace(m, member=renamed.get(m.member.id, m.member)) if m.member else m for m in MEETING
    ]
    after = compute_insights(messages, FULL)
    assert ids(after) == ids(before)
    # The rename itself shows: the summary names the speaker.
    assert any("Alice Liddell" in s["text"] for s in after.summary)


def test_changing_one_message_changes_only_the_ids_of_its_insights() -> None:
    before = compute_insights(MEETING, FULL)
    index = next(i for i, m in enumerate(MEETING) if m.text.startswith("I'll send the deck"))
    edited = list(MEETING)
    edited[index] = replace(MEETING[index], text="I'll send the budget to Carol by Friday.")
    after = compute_insights(edited, FULL)

    old_actions, new_actions = by_text(before, "action_items"), by_text(after, "action_items")
    assert "I'll send the deck to Carol by Friday." in old_actions
    assert "I'll send the budget to Carol by Friday." in new_actions
    old_id = old_actions.pop("I'll send the deck to Carol by Friday.")
    new_id = new_actions.pop("I'll send the budget to Carol by Friday.")
    assert old_id != new_id
    assert old_actions == new_actions and old_actions  # the other action items kept theirs
    for kind in ("questions", "follow_ups"):
        assert by_text(after, kind) == by_text(before, kind)
    # Insights drawn from untouched messages keep their ids.
    edited_id = MEETING[index].id
    for kind in ("topics", "entities"):
        old = {i["id"] for i in getattr(before, kind) if edited_id not in _message_ids(i)}
        new = {i["id"] for i in getattr(after, kind)}
        assert old <= new, kind


def _message_ids(item: dict) -> set[str]:
    refs = item.get("messageIds") or [r["id"] for r in item.get("messageRefs", [])]
    return set(refs)


def test_ids_depend_on_kind_content_and_messages() -> None:
    base = insight_id("question", "Can you book the room?", ["1"])
    assert base == insight_id("question", "Can you book the room?", ["1"])
    assert NUMERIC.match(base)
    assert base != insight_id("action_item", "Can you book the room?", ["1"])
    assert base != insight_id("question", "Can you book the hall?", ["1"])
    assert base != insight_id("question", "Can you book the room?", ["2"])


def test_true_duplicates_get_distinct_repeatable_ids() -> None:
    def items() -> list[dict]:
        same = insight_id("action_item", "Send the deck", ["7"])
        return [{"id": same}, {"id": same}, {"id": insight_id("action_item", "Call", ["8"])}]

    first, second = make_unique(items()), make_unique(items())
    assert len({i["id"] for i in first}) == 3
    assert [i["id"] for i in first] == [i["id"] for i in second]
    assert first[0]["id"] == items()[0]["id"]  # the first keeps the plain id
