"""Insights are stable: reading never changes their ids."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

TEXT = {
    "messages": [
        {
            "payload": {"content": "Alice will send the pricing report to the team by Friday."},
            "from": {"name": "Alice", "userId": "alice@example.com"},
        },
        {
            "payload": {"content": "Can we move the launch review to Monday afternoon?"},
            "from": {"name": "Bob", "userId": "bob@example.com"},
        },
        {
            "payload": {"content": "Bob should follow up with the customer about the contract."},
            "from": {"name": "Alice", "userId": "alice@example.com"},
        },
    ]
}

KINDS = {
    "questions": "questions",
    "action-items": "actionItems",
    "follow-ups": "followUps",
    "topics": "topics",
}


def _ids(api: Api, cid: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path, key in KINDS.items():
        items: list[dict[str, Any]] = api.get(f"/v1/conversations/{cid}/{path}").json()[key]
        found[path] = [item["id"] for item in items]
    return found


def test_reading_a_summary_changes_no_insight_id(api: Api) -> None:
    submitted = api.request("POST", "/v1/process/text", json=TEXT).json()
    assert api.wait(submitted["jobId"])["status"] == "completed"
    cid = submitted["conversationId"]
    before = _ids(api, cid)
    assert before["questions"] and before["action-items"], before
    summary = api.get(f"/v1/conversations/{cid}/summary").json()["summary"]
    assert summary and summary[0]["text"]
    assert _ids(api, cid) == before
    # asked again, the kept summary comes back unchanged
    assert api.get(f"/v1/conversations/{cid}/summary").json()["summary"] == summary
