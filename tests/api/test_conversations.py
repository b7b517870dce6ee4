"""The Conversation API: reading, listing, updating, deleting, transcripts, members."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api

MEETING = [
    ("Ann", "ann@example.com", "Good morning everyone. Can you send me the report by Friday?"),
    ("Bob", "bob@example.com", "Sure, I will send it tomorrow. Let's schedule a call next week."),
    ("Ann", "ann@example.com", "Great. What is the budget for the project?"),
]


def _text_conversation(api: Api, name: str = "Weekly sync", **options: Any) -> str:
    body = {
        "name": name,
        "messages": [
            {"payload": {"content": text}, "from": {"name": who, "userId": email}}
            for who, email, text in MEETING
        ],
        **options,
    }
    response = api.request("POST", "/v1/process/text", json=body)
    assert response.status_code == 201, response.text
    assert api.wait(response.json()["jobId"])["status"] == "completed"
    return response.json()["conversationId"]


@pytest.fixture(scope="module")
def conversation_id(api: Api) -> str:
    return _text_conversation(api)


def test_get_and_list(api: Api, conversation_id: str) -> None:
    conversation = api.get(f"/v1/conversations/{conversation_id}").json()
    assert conversation["id"] == conversation_id and conversation["name"] == "Weekly sync"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", conversation["startTime"])
    assert {m["name"] for m in conversation["members"]} == {"Ann", "Bob"}
    listed = api.get("/v1/conversations", params={"limit": 500}).json()["conversations"]
    assert conversation_id in [c["id"] for c in listed]
    assert api.get("/v1/conversations", params={"limit": 0}).json() == {"conversations": []}
    assert api.get("/v1/conversations", params={"limit": "x"}).status_code == 400


def test_metadata_update_and_filter(api: Api) -> None:
    cid = _text_conversation(api, name="Filtered")
    response = api.request(
        "PUT",
        f"/v1/conversations/{cid}",
        json={"metadata": {"agentId": "johndoe", "team": "sales"}},
    )
    assert response.status_code == 200
    assert response.json() == {"id": cid, "metadata": {"agentId": "johndoe", "team": "sales"}}
    found = api.get(
        "/v1/conversations",
        params={
            "filter": "conversation.metadata.agentId==johndoe",
            "limit": 100,
        },
    ).json()["conversations"]
    assert [c["id"] for c in found] == [cid]
    assert found[0]["metadata"]["team"] == "sales"
    bad = api.request("PUT", f"/v1/conversations/{cid}", json={"metadata": {"k": 5}})
    assert bad.status_code == 400 and "metadata.k" in bad.json()["message"]


def test_insight_endpoints_have_symbl_shapes(api: Api, conversation_id: str) -> None:
    base = f"/v1/conversations/{conversation_id}"
    for path, key in (
        ("questions", "questions"),
        ("action-items", "actionItems"),
        ("follow-ups", "followUps"),
        ("topics", "topics"),
        ("entities", "entities"),
        ("insights", "insights"),
        ("intents", "intents"),
        ("comprehensive/action-items", "actionItems"),
    ):
        response = api.get(f"{base}/{path}")
        assert response.status_code == 200, path
        assert isinstance(response.json()[key], list), path
    for path in ("trackers", "trackers-detected"):
        response = api.get(f"{base}/{path}")
        assert response.status_code == 200 and isinstance(response.json(), list)
    summary = api.get(f"{base}/summary")
    assert summary.status_code == 200 and isinstance(summary.json()["summary"], list)


def test_messages_with_sentiment(api: Api, conversation_id: str) -> None:
    messages = api.get(
        f"/v1/conversations/{conversation_id}/messages", params={"sentiment": "true"}
    ).json()["messages"]
    assert len(messages) == 6
    for message in messages:
        assert message["sentiment"]["suggested"] in ("positive", "neutral", "negative")
        assert -1 <= message["sentiment"]["polarity"]["score"] <= 1
    assert (
        "sentiment"
        not in api.get(f"/v1/conversations/{conversation_id}/messages").json()["messages"][0]
    )


@pytest.mark.parametrize("content_type", ["text/markdown", "text/srt", "text/vtt"])
def test_formatted_transcripts(api: Api, conversation_id: str, content_type: str) -> None:
    response = api.request(
        "POST",
        f"/v1/conversations/{conversation_id}/transcript",
        json={"contentType": content_type, "showSpeakerSeparation": True},
    )
    assert response.status_code == 200
    transcript = response.json()["transcript"]
    assert transcript["contentType"] == content_type
    payload = transcript["payload"]
    assert isinstance(payload, str)
    assert "Ann: " in payload or "<v Ann>" in payload
    if content_type == "text/markdown":
        assert payload.count("<br/><br/>") == 3  # one paragraph per speaker turn
    elif content_type == "text/srt":
        assert re.search(r"^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n", payload)
        assert payload.count(" --> ") == 6
    else:
        assert payload.startswith("WEBVTT\n\n") and payload.count(" --> ") == 6
    bad = api.request(
        "POST", f"/v1/conversations/{conversation_id}/transcript", json={"contentType": "text/html"}
    )
    assert bad.status_code == 400 and "contentType" in bad.json()["message"]


def test_member_rename_and_merge(api: Api) -> None:
    cid = _text_conversation(api, name="Members")
    base = f"/v1/conversations/{cid}"
    members = {m["name"]: m for m in api.get(f"{base}/members").json()["members"]}
    bob = members["Bob"]
    renamed = api.request(
        "PUT",
        f"{base}/members/{bob['id']}",
        json={"id": bob["id"], "name": "Robert", "email": "bob@example.com"},
    )
    assert renamed.status_code == 200 and "updated successfully" in renamed.json()["message"]
    names = [m["from"]["name"] for m in api.get(f"{base}/messages").json()["messages"]]
    assert "Robert" in names and "Bob" not in names
    # Giving Robert Ann's email merges him into Ann
    merged = api.request(
        "PUT",
        f"{base}/members/{bob['id']}",
        json={"id": bob["id"], "name": "Ann", "email": "ann@example.com"},
    )
    assert merged.status_code == 200
    assert [m["name"] for m in api.get(f"{base}/members").json()["members"]] == ["Ann"]
    assert {m["from"]["name"] for m in api.get(f"{base}/messages").json()["messages"]} == {"Ann"}
    missing = api.request("PUT", f"{base}/members/nope", json={"id": "nope", "name": "X"})
    assert missing.status_code == 404


def test_speaker_events_reassign_messages(api: Api) -> None:
    cid = _text_conversation(api, name="Speakers")
    base = f"/v1/conversations/{cid}"
    messages = api.get(f"{base}/messages").json()["messages"]
    cut = messages[3]["timeOffset"]  # Bob's reply starts here in the estimated timeline
    derek = {
        "id": "4194eb50-357d-4712-a02d-94215ead1064",
        "name": "Derek",
        "email": "derek@example.com",
    }
    events = [
        {"type": "started_speaking", "user": derek, "offset": {"seconds": 0, "nanos": 0}},
        {
            "type": "stopped_speaking",
            "user": derek,
            "offset": {"seconds": int(cut), "nanos": int((cut % 1) * 1e9)},
        },
    ]
    response = api.request("PUT", f"{base}/speakers", json={"speakerEvents": events})
    assert response.status_code == 200 and "successfully" in response.json()["message"]
    after = api.get(f"{base}/messages").json()["messages"]
    assert [m["from"].get("name") for m in after[:2]] == ["Derek", "Derek"]
    assert after[-1]["from"]["name"] == "Ann"
    assert any(m["id"] == derek["id"] for m in api.get(f"{base}/members").json()["members"])
    bad = api.request("PUT", f"{base}/speakers", json={"speakerEvents": [{"type": "x"}]})
    assert bad.status_code == 400


def test_delete_removes_everything(api: Api, testdata: Path) -> None:
    submitted = api.submit_file(testdata / "read/cmu_arctic/cmu_arctic_us_aew_a0003.wav")
    assert api.wait(submitted["jobId"])["status"] == "completed"
    cid = submitted["conversationId"]
    audio_dir = api.services.storage.audio.root / cid
    assert any(audio_dir.iterdir())
    response = api.request("DELETE", f"/v1/conversations/{cid}")
    assert response.json() == {"message": "successfully deleted the conversation"}
    assert not audio_dir.exists()
    for path in ("", "/messages", "/topics"):
        assert api.get(f"/v1/conversations/{cid}{path}").status_code == 404
    again = api.request("DELETE", f"/v1/conversations/{cid}")
    assert again.status_code == 404
    assert again.json()["message"] == "The conversationId is either invalid or does not exist."
    assert api.get(f"/v1/job/{submitted['jobId']}").status_code == 404


def test_analytics_add_up(api: Api, testdata: Path) -> None:
    submitted = api.submit_file(testdata / "read/librispeech/2412-153948-0000.flac")
    assert api.wait(submitted["jobId"])["status"] == "completed"
    cid = submitted["conversationId"]
    body = api.get(f"/v1/conversations/{cid}/analytics").json()
    metrics = {m["type"]: m for m in body["metrics"]}
    talk, silence = metrics["total_talk_time"], metrics["total_silence"]
    assert abs(talk["percent"] + silence["percent"] - 100) < 0.01
    assert abs(talk["seconds"] + silence["seconds"] - 11.66) < 0.2
    assert 5 < talk["seconds"] < 11.66
    (speaker,) = body["members"]
    assert speaker["talkTime"]["seconds"] == talk["seconds"]
    assert 80 < speaker["pace"]["wpm"] < 300


def test_other_apps_cannot_see_a_conversation(api: Api, conversation_id: str) -> None:
    from parley.storage.apps import create_app

    with api.services.storage.session() as session:
        other, secret = create_app(session=session, name="other")
    token = api.client.post(
        "/oauth2/token:generate", json={"appId": other.id, "appSecret": secret}
    ).json()["accessToken"]
    response = api.client.get(f"/v1/conversations/{conversation_id}", headers={"x-api-key": token})
    assert response.status_code == 404
