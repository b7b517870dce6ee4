"""Insights over HTTP: every endpoint's content and shape, options, trackers, recompute."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Api

CALL = [
    ("Dana", "dana@acme.com", "Hi Sam, thanks for joining. This is Dana from Acme Corporation."),
    ("Sam", "sam@globex.com", "Happy to be here. What is the price of Parley Pro per seat?"),
    (
        "Dana",
        "dana@acme.com",
        "It is forty dollars per seat per month, and we offer a discount for annual plans.",
    ),
    ("Sam", "sam@globex.com", "Do you support single sign-on"),
    ("Dana", "dana@acme.com", "Yes, we do. I will send you the contract by Friday."),
    ("Sam", "sam@globex.com", "Great. Can you also email me the security whitepaper?"),
    ("Dana", "dana@acme.com", "Sure. Let's schedule a follow-up call next Tuesday to review it."),
    (
        "Sam",
        "sam@globex.com",
        "Sounds good. You can reach me at 415-555-0134 if anything comes up.",
    ),
]


def _submit(api: Api, **options: Any) -> str:
    body = {
        "messages": [
            {"payload": {"content": text}, "from": {"name": n, "userId": e}} for n, e, text in CALL
        ],
        **options,
    }
    response = api.request("POST", "/v1/process/text", json=body)
    assert response.status_code == 201, response.text
    assert api.wait(response.json()["jobId"])["status"] == "completed"
    return response.json()["conversationId"]


@pytest.fixture(scope="module")
def call(api: Api) -> str:
    return _submit(
        api,
        detectEntities=True,
        detectPhrases=True,
        enableSummary=True,
        trackers=[{"name": "Pricing", "vocabulary": ["price", "discounts"]}],
        entities=[{"customType": "Product", "text": "Parley Pro"}],
    )


def _get(api: Api, cid: str, path: str) -> Any:
    response = api.get(f"/v1/conversations/{cid}/{path}")
    assert response.status_code == 200, response.text
    return response.json()


def _message_ids(api: Api, cid: str) -> dict[str, str]:
    return {m["id"]: m["text"] for m in _get(api, cid, "messages")["messages"]}


def test_questions(api: Api, call: str) -> None:
    texts = {m: t for m, t in _message_ids(api, call).items()}
    questions = _get(api, call, "questions")["questions"]
    asked = {q["text"] for q in questions}
    assert any("price of Parley Pro" in q for q in asked)
    assert any("single sign-on" in q for q in asked), "a question without a question mark"
    for q in questions:
        assert q["type"] == "question" and 0 <= q["score"] <= 1
        assert q["messageIds"] and all(m in texts for m in q["messageIds"])
        assert q["from"]["name"] == "Sam" and q["from"]["userId"] == "sam@globex.com"


def test_action_items_and_follow_ups(api: Api, call: str) -> None:
    items = _get(api, call, "action-items")["actionItems"]
    contract = next(i for i in items if "contract" in i["text"])
    assert contract["type"] == "action_item" and contract["definitive"] is True
    assert contract["from"]["name"] == "Dana"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", contract["dueBy"])
    assert any("whitepaper" in i["text"] for i in items), "a request is an action item"
    follow_ups = _get(api, call, "follow-ups")["followUps"]
    assert [f for f in follow_ups if "Tuesday" in f["text"] and f["type"] == "follow_up"]
    for item in items + follow_ups:
        assert {
            "id",
            "text",
            "score",
            "messageIds",
            "entities",
            "phrases",
            "from",
            "assignee",
        } <= set(item)
    combined = _get(api, call, "insights")["insights"]
    assert {i["type"] for i in combined} == {"question", "action_item", "follow_up"}


def test_topics_entities_trackers_summary(api: Api, call: str) -> None:
    ids = _message_ids(api, call)
    topics = _get(api, call, "topics")["topics"]
    assert topics and all(t["type"] == "topic" and set(t["messageIds"]) <= set(ids) for t in topics)
    assert all(t["parentRefs"] == [] and "sentiment" not in t for t in topics)
    with_extras = api.get(
        f"/v1/conversations/{call}/topics", params={"sentiment": "true", "parentRefs": "true"}
    ).json()["topics"]
    assert all("suggested" in t["sentiment"] for t in with_extras)

    entities = _get(api, call, "entities")["entities"]
    for entity in entities:
        assert entity["type"] and entity["text"] is not None and entity["messageRefs"]
    custom = [e for e in entities if e["type"] == "custom"]
    assert [e["customType"] for e in custom] == ["Product"]
    assert custom[0]["messageRefs"][0]["id"] in ids
    assert any(e["type"] == "organization" and "Acme" in e["text"] for e in entities)

    for path in ("trackers", "trackers-detected"):
        trackers = _get(api, call, path)
        (pricing,) = trackers
        assert pricing["name"] == "Pricing"
        values = {m["value"] for m in pricing["matches"]}
        assert values == {"price", "discounts"}, "inflected 'discount' matches 'discounts'"
        refs = [r for m in pricing["matches"] for r in m["messageRefs"]]
        assert all(r["id"] in ids for r in refs)

    summary = _get(api, call, "summary")["summary"]
    assert summary and all(s["text"] and s["messageRefs"] for s in summary)


def test_phrases_and_sentiment_on_messages(api: Api, call: str) -> None:
    messages = api.get(f"/v1/conversations/{call}/messages", params={"sentiment": "true"}).json()[
        "messages"
    ]
    assert any(p["type"] == "action_phrase" for m in messages for p in m["phrases"])
    assert messages[0]["sentiment"]["suggested"] == "positive"


def test_confidence_threshold_filters(api: Api) -> None:
    cid = _submit(api, confidenceThreshold=0.95)
    for path, key in (
        ("questions", "questions"),
        ("action-items", "actionItems"),
        ("follow-ups", "followUps"),
        ("topics", "topics"),
    ):
        assert all(i["score"] >= 0.95 for i in _get(api, cid, path)[key])
    loose = _submit(api, confidenceThreshold=0.5)
    assert len(_get(api, loose, "topics")["topics"]) >= len(_get(api, cid, "topics")["topics"])


def test_redaction(api: Api, call: str) -> None:
    redacted = api.get(f"/v1/conversations/{call}/messages", params={"redact": "true"}).json()[
        "messages"
    ]
    text = " ".join(m["text"] for m in redacted)
    assert "415-555-0134" not in text and "Dana" not in text and "****" in text
    kept = api.get(
        f"/v1/conversations/{call}/messages",
        params={"redact": "true", "exclude": '["PHONE_NUMBER"]'},
    ).json()["messages"]
    assert "415-555-0134" in " ".join(m["text"] for m in kept)


def test_empty_conversation_has_empty_insights(api: Api) -> None:
    response = api.request(
        "POST", "/v1/process/text", json={"messages": [{"payload": {"content": "Okay."}}]}
    )
    cid = response.json()["conversationId"]
    assert api.wait(response.json()["jobId"])["status"] == "completed"
    assert _get(api, cid, "questions") == {"questions": []}
    assert _get(api, cid, "action-items") == {"actionItems": []}
    assert _get(api, cid, "trackers") == []


# -- Management API ------------------------------------------------------------------------


def test_tracker_crud_and_errors(api: Api) -> None:
    created = api.request(
        "POST",
        "/v1/manage/tracker",
        json={"name": "Competitors", "vocabulary": ["Initech", "Hooli"]},
    )
    assert created.status_code == 200, created.text
    tracker = created.json()["tracker"]
    assert re.fullmatch(r"\d{16}", tracker["id"]) and tracker["vocabulary"] == ["Initech", "Hooli"]
    tid = tracker["id"]

    dup = api.request(
        "POST", "/v1/manage/tracker", json={"name": "Competitors", "vocabulary": ["x"]}
    )
    assert dup.status_code == 409 and "already exists" in dup.json()["message"]
    assert (
        api.request(
            "POST", "/v1/manage/tracker", json={"name": "competitors", "vocabulary": ["x"]}
        ).status_code
        == 200
    )
    for body, needle in (
        ({"vocabulary": ["a"]}, "name"),
        ({"name": "Bad", "vocabulary": ["what?"]}, "vocabulary"),
        ({"name": "Bad", "vocabulary": []}, "vocabulary"),
        ({"name": "Bad", "vocabulary": "price"}, "vocabulary"),
    ):
        bad = api.request("POST", "/v1/manage/tracker", json=body)
        assert bad.status_code == 400 and needle in bad.json()["message"], body
    big = api.request(
        "POST", "/v1/manage/tracker", json={"name": "Big", "vocabulary": ["word"] * 200_000}
    )
    assert big.status_code == 413

    assert api.get(f"/v1/manage/tracker/{tid}").json()["tracker"]["name"] == "Competitors"
    assert api.get(f"/v1/manage/trackers/{tid}").json()["tracker"]["id"] == tid
    by_name = api.get("/v1/manage/trackers", params={"name": "Competitors"}).json()["trackers"]
    assert [t["id"] for t in by_name] == [tid]

    updated = api.request(
        "PUT",
        f"/v1/manage/tracker/{tid}",
        json={"id": tid, "name": "Rivals", "vocabulary": ["Initech"]},
    )
    assert updated.json()["tracker"]["name"] == "Rivals"
    patched = api.request(
        "PATCH",
        f"/v1/manage/trackers/{tid}",
        json=[
            {"op": "add", "path": "/vocabulary", "value": ["Vandelay"]},
            {"op": "replace", "path": "/description", "value": "Competitor names"},
        ],
    )
    assert patched.json()["tracker"]["vocabulary"] == ["Initech", "Vandelay"]
    assert patched.json()["tracker"]["description"] == "Competitor names"

    deleted = api.request("DELETE", f"/v1/manage/tracker/{tid}")
    assert deleted.json() == {"id": tid, "type": "tracker", "deleted": True}
    assert api.get(f"/v1/manage/tracker/{tid}").status_code == 404


def test_bulk_and_new_style_creation(api: Api) -> None:
    bulk = api.request(
        "POST",
        "/v1/manage/trackers",
        json=[
            {"name": "Bulk A", "vocabulary": ["alpha"]},
            {"name": "Bulk B", "vocabulary": ["beta"]},
        ],
    )
    assert [t["name"] for t in bulk.json()["trackers"]] == ["Bulk A", "Bulk B"]
    single = api.request(
        "POST",
        "/v1/manage/trackers",
        json={
            "name": "New Style",
            "categories": ["sales"],
            "languages": ["en-US"],
            "vocabulary": ["renewal"],
        },
    )
    assert single.json()["tracker"]["categories"] == ["sales"]
    listed = {t["name"] for t in api.get("/v1/manage/trackers").json()["trackers"]}
    assert {"Bulk A", "Bulk B", "New Style"} <= listed


def test_stored_trackers_all_and_by_id_and_recompute(api: Api) -> None:
    stored = api.request(
        "POST",
        "/v1/manage/tracker",
        json={"name": "Security", "vocabulary": ["single sign-on", "security whitepaper"]},
    )
    tid = stored.json()["tracker"]["id"]
    cid = _submit(api)  # no trackers asked for
    assert _get(api, cid, "trackers") == []
    refreshed = api.request(
        "POST", f"/v1/conversations/{cid}/refresh", json={"enableAllTrackers": True}
    )
    assert refreshed.status_code == 200
    names = {t["name"] for t in _get(api, cid, "trackers")}
    assert "Security" in names
    by_id = _submit(api, trackers=[{"id": tid}])
    (security,) = _get(api, by_id, "trackers")
    assert security["id"] == tid
    assert {m["value"] for m in security["matches"]} == {"single sign-on", "security whitepaper"}
    bad = api.request("POST", f"/v1/conversations/{cid}/refresh", json={"url": "x"})
    assert bad.status_code == 400


def test_member_rename_reaches_insights(api: Api) -> None:
    cid = _submit(api)
    sam = next(m for m in _get(api, cid, "members")["members"] if m["name"] == "Sam")
    api.request(
        "PUT",
        f"/v1/conversations/{cid}/members/{sam['id']}",
        json={"id": sam["id"], "name": "Samuel", "email": "sam@globex.com"},
    )
    askers = {q["from"]["name"] for q in _get(api, cid, "questions")["questions"]}
    assert "Samuel" in askers and "Sam" not in askers
