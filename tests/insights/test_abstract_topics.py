"""Abstract topics (spec R.5): curated themes matched by meaning, with the messages behind
them; small talk matches none; the same conversation gets the same answer every time."""

from __future__ import annotations

from parley.insights import abstract_topics
from parley.insights.abstract_topics import detect, themes

from .conftest import make_messages

PRICING_AND_HIRING = (
    ("Ann", "Hi everyone, thanks for joining."),
    ("Ann", "Let's start with pricing for the enterprise plan."),
    ("Bo", "The current price is forty dollars per seat per month, which customers call steep."),
    ("Ann", "Second, we need to hire two more backend engineers before the launch."),
    ("Bo", "I posted the job openings yesterday and we already have candidates to interview."),
    ("Ann", "Great, talk to you all soon."),
)
SMALL_TALK = (
    ("Ann", "I went hiking in the mountains last weekend."),
    ("Bo", "The weather was beautiful and we saw a few deer."),
    ("Ann", "My sister made a lasagna for dinner afterwards."),
    ("Bo", "Do you like Italian food?"),
    ("Ann", "Yes, especially pizza with mushrooms."),
)


def test_the_theme_list_is_curated_business_themes() -> None:
    listed = themes()
    assert 40 <= len(listed) <= 80
    names = [t.text for t in listed]
    assert len(set(names)) == len(names)
    assert {"Pricing", "Hiring", "Product release"} <= set(names)
    assert all(len(t.phrases) >= 3 and all(p.strip() for p in t.phrases) for t in listed)
    assert len(abstract_topics.themes_digest()) == 64


def test_pricing_and_hiring_and_the_messages_behind_them() -> None:
    messages = make_messages(*PRICING_AND_HIRING)
    found = {t["text"]: t for t in detect(messages)}
    assert {"Pricing", "Hiring"} <= set(found), found
    assert found["Pricing"]["messageIds"] == [messages[1].id, messages[2].id]
    assert found["Hiring"]["messageIds"] == [messages[3].id, messages[4].id]
    for topic in found.values():
        assert set(topic) == {"id", "text", "type", "score", "messageIds"}
        assert topic["type"] == "abstract_topic"
        assert 0 < topic["score"] <= 1
        assert topic["id"].isdigit() and len(topic["id"]) == 16
        # greetings and goodbyes mean no theme
        assert messages[0].id not in topic["messageIds"]
        assert messages[5].id not in topic["messageIds"]
    # The two themes the conversation comes back to lead.
    ranked = [t["text"] for t in detect(messages)]
    assert ranked[:2] == ["Pricing", "Hiring"]


def test_small_talk_has_no_abstract_topic() -> None:
    assert detect(make_messages(*SMALL_TALK)) == []
    assert detect([]) == []


def test_same_conversation_same_topics_scores_and_ids() -> None:
    messages = make_messages(*PRICING_AND_HIRING)
    first = detect(messages)
    assert detect(list(messages)) == first
    # With small talk around it nothing about the themes changes but nothing else either.
    padded = make_messages(*PRICING_AND_HIRING, *SMALL_TALK)
    assert [t["text"] for t in detect(padded)] == [t["text"] for t in first]


def test_a_theme_mentioned_again_scores_higher() -> None:
    once = make_messages(("Ann", "How much does the premium plan cost per month?"))
    twice = make_messages(
        ("Ann", "How much does the premium plan cost per month?"),
        ("Bo", "The price is twenty dollars per user, billed monthly."),
    )
    score = {t["text"]: t["score"] for t in detect(once)}["Pricing"]
    again = {t["text"]: t for t in detect(twice)}["Pricing"]
    assert again["score"] > score
    assert len(again["messageIds"]) == 2
