"""Date resolution, and the optional LLM path against a real local HTTP server."""

from __future__ import annotations

import json
from datetime import date

import pytest

from parley.insights import InsightOptions, LlmSettings, compute_insights
from parley.insights.dates import due_by_iso, find_dates

from .conftest import MONDAY, FakeLlm, make_messages

TODAY = date(2024, 3, 11)  # Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("by Friday", date(2024, 3, 15)),
        ("next Friday", date(2024, 3, 22)),
        ("tomorrow morning", date(2024, 3, 12)),
        ("on March 22nd", date(2024, 3, 22)),
        ("by the end of the month", date(2024, 3, 31)),
        ("in two weeks", date(2024, 3, 25)),
        ("end of day", date(2024, 3, 11)),
        ("the 5th", date(2024, 4, 5)),
    ],
)
def test_resolves_spoken_dates(text: str, expected: date) -> None:
    (found,) = find_dates(text, TODAY)
    assert found.start == expected


def test_due_by_format() -> None:
    assert due_by_iso(date(2020, 6, 22), -420) == "2020-06-22T07:00:00.000Z"


MEETING = make_messages(
    ("Lucy", "Vikram, you need to figure out a plan for the hackathon by Friday."),
    ("Vikram", "Sure, and I'll call you tomorrow to go over it."),
)


def test_llm_action_items_and_summary(llm_server: str) -> None:
    FakeLlm.replies = [
        json.dumps(
            {
                "items": [
                    {
                        "message": 0,
                        "type": "action_item",
                        "text": "Vikram to plan the hackathon",
                        "assignee": "Vikram",
                        "due": "2024-03-15",
                        "definitive": True,
                    },
                    {
                        "message": 1,
                        "type": "follow_up",
                        "text": "Vikram calls Lucy",
                        "assignee": "Vikram",
                        "due": None,
                        "definitive": True,
                    },
                ]
            }
        ),
        "```json\n"
        + json.dumps({"summary": [{"text": "Vikram will plan the hackathon.", "messages": [0, 1]}]})
        + "\n```",
    ]
    opts = InsightOptions(
        enable_summary=True,
        reference_time=MONDAY,
        llm=LlmSettings(llm_server + "/v1", "tiny", api_key="k", timeout=5),
    )
    result = compute_insights(MEETING, opts)
    (item,) = result.action_items
    assert item["text"] == "Vikram to plan the hackathon"
    assert item["assignee"]["id"] == "m-vikram" and item["dueBy"] == "2024-03-15T00:00:00.000Z"
    assert [f["text"] for f in result.follow_ups] == ["Vikram calls Lucy"]
    assert result.summary[0]["text"] == "Vikram will plan the hackathon."
    assert [r["id"] for r in result.summary[0]["messageRefs"]] == [m.id for m in MEETING]
    assert FakeLlm.requests[0]["path"] == "/v1/chat/completions"
    assert FakeLlm.requests[0]["auth"] == "Bearer k"


def test_llm_garbage_falls_back_to_rules(llm_server: str) -> None:
    FakeLlm.replies = ["sorry, I cannot help", '{"items": [{"message": 99}]}']
    opts = InsightOptions(enable_summary=True, llm=LlmSettings(llm_server, "tiny", timeout=5))
    result = compute_insights(MEETING, opts)
    assert [a["text"] for a in result.action_items] == [MEETING[0].text]
    assert result.summary


def test_llm_unreachable_falls_back_to_rules() -> None:
    opts = InsightOptions(llm=LlmSettings("http://127.0.0.1:9", "tiny", timeout=0.5))
    result = compute_insights(MEETING, opts)
    assert [a["text"] for a in result.action_items] == [MEETING[0].text]
