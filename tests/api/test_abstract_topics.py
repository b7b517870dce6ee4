"""``GET /v1/conversations/{id}/abstract-topics`` (spec R.5): Symbl's shape, the themes of
a processed conversation and the messages behind them, none for small talk, a named 404,
and the result kept until the conversation's text changes."""

from __future__ import annotations

from typing import Any

from parley.conversations import ABSTRACT_TOPICS_KIND
from parley.storage import conversations as store
from parley.storage.models import Message as MessageRow
from parley_client import wire
from tests.conftest import Api
from tests.helpers import stored_conversation

PRICING_AND_HIRING = [
    "Hi everyone, thanks for joining.",
    "Let's start with pricing for the enterprise plan.",
    "The current price is forty dollars per seat per month, which customers call steep.",
    "Second, we need to hire two more backend engineers before the launch.",
    "I posted the job openings yesterday and we already have candidates to interview.",
    "Great, talk to you all soon.",
]
SMALL_TALK = [
    "I went hiking in the mountains last weekend.",
    "The weather was beautiful and we saw a few deer.",
    "My sister made a lasagna for dinner afterwards.",
]


def _topics(api: Api, cid: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/conversations/{cid}/abstract-topics")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"abstractTopics"}
    wire.AbstractTopicList.model_validate(body)
    topics: list[dict[str, Any]] = body["abstractTopics"]
    return topics


def test_a_processed_conversation_about_pricing_and_hiring(api: Api) -> None:
    messages = [{"payload": {"content": t}, "from": {"name": "Ann"}} for t in PRICING_AND_HIRING]
    submitted = api.request("POST", "/v1/process/text", json={"messages": messages}).json()
    assert api.wait(submitted["jobId"])["status"] == "completed"
    cid = submitted["conversationId"]
    stored = api.get(f"/v1/conversations/{cid}/messages").json()["messages"]
    by_text = {m["text"]: m["id"] for m in stored}

    found = {t["text"]: t for t in _topics(api, cid)}
    assert {"Pricing", "Hiring"} <= set(found), found
    assert found["Pricing"]["messageIds"] == [by_text[t] for t in PRICING_AND_HIRING[1:3]]
    assert found["Hiring"]["messageIds"] == [by_text[t] for t in PRICING_AND_HIRING[3:5]]
    for topic in found.values():
        assert set(topic) == {"id", "text", "type", "score", "messageIds"}
        assert topic["type"] == "abstract_topic"
        assert 0 < topic["score"] <= 1
        assert set(topic["messageIds"]) <= set(by_text.values())
    # The same answer again, ids and scores included.
    assert {t["text"]: t for t in _topics(api, cid)} == found


def test_small_talk_has_none(api: Api) -> None:
    assert _topics(api, stored_conversation(api, SMALL_TALK)) == []


def test_an_unknown_conversation_is_a_named_404(api: Api) -> None:
    response = api.get("/v1/conversations/1234567890123457/abstract-topics")
    assert response.status_code == 404
    assert "conversation" in response.json()["message"]
    # Symbl's text, as every other read of a conversation answers it.
    assert response.json() == api.get("/v1/conversations/1234567890123457/topics").json()


def test_kept_until_the_text_changes(api: Api) -> None:
    cid = stored_conversation(api, PRICING_AND_HIRING[:3])
    first = _topics(api, cid)
    assert [t["text"] for t in first] == ["Pricing"]
    with api.services.storage.session() as session:
        row = store.get_insights(session=session, conversation_id=cid, kind=ABSTRACT_TOPICS_KIND)
        assert row[1] == first
        # A marker only a stored answer can return: the next read serves the row.
        marked = [{**first[0], "text": "Kept"}]
        store.set_insights(
            session=session, conversation_id=cid, insights={ABSTRACT_TOPICS_KIND: [row[0], marked]}
        )
    assert _topics(api, cid) == marked

    with api.services.storage.session() as session:
        job_id, member_id = session.query(MessageRow.job_id, MessageRow.member_id).filter_by(
            conversation_id=cid
        ).first() or (None, None)
        session.add(
            MessageRow(
                id="7999999999999999",
                conversation_id=cid,
                job_id=job_id,
                member_id=member_id,
                text=PRICING_AND_HIRING[3],
                start=10.0,
                end=11.0,
            )
        )
    again = {t["text"]: t for t in _topics(api, cid)}
    assert set(again) == {"Pricing", "Hiring"}
    assert again["Hiring"]["messageIds"] == ["7999999999999999"]
    assert again["Pricing"] == first[0]  # same messages: same id and score
