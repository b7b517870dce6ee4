"""Speakers over HTTP: per-channel recognition and diarization."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.conftest import Api
from tests.helpers import wer

STEREO = "stereo/faster_whisper_stereo/stereo_diarization"


def _offset(moment: str, origin: str) -> float:
    return (
        datetime.fromisoformat(moment.replace("Z", "+00:00"))
        - datetime.fromisoformat(origin.replace("Z", "+00:00"))
    ).total_seconds()


def test_per_channel_recognition_names_each_channel(api: Api, testdata: Path) -> None:
    channels = [
        {"channel": 1, "speaker": {"name": "Left Person", "email": "left@example.com"}},
        {"channel": 2, "speaker": {"name": "Right Person", "email": "right@example.com"}},
    ]
    import json

    submitted = api.submit_file(
        testdata / f"{STEREO}.wav",
        {
            "enableSeparateRecognitionPerChannel": "true",
            "channelMetadata": json.dumps(channels),
        },
    )
    assert api.wait(submitted["jobId"])["status"] == "completed"
    cid = submitted["conversationId"]
    conversation = api.get(f"/v1/conversations/{cid}").json()
    assert abs(conversation["billingDuration"] - 2 * 5.0) < 0.1
    members = api.get(f"/v1/conversations/{cid}/members").json()["members"]
    assert {(m["name"], m["email"]) for m in members} == {
        ("Left Person", "left@example.com"),
        ("Right Person", "right@example.com"),
    }
    messages = api.get(f"/v1/conversations/{cid}/messages").json()["messages"]
    by_speaker: dict[str, list[str]] = {}
    for m in messages:
        by_speaker.setdefault(m["from"]["name"], []).append(m["text"])
    for name, channel in (("Left Person", "ch0"), ("Right Person", "ch1")):
        reference = (testdata / f"{STEREO}.{channel}.txt").read_text()
        assert wer(reference, " ".join(by_speaker[name])) < 0.35, name
    starts = [_offset(m["startTime"], conversation["startTime"]) for m in messages]
    assert starts == sorted(starts), "messages from both channels interleave in time"


def test_mono_mix_without_per_channel(api: Api, testdata: Path) -> None:
    submitted = api.submit_file(testdata / f"{STEREO}.wav")
    assert api.wait(submitted["jobId"])["status"] == "completed"
    conversation = api.get(f"/v1/conversations/{submitted['conversationId']}").json()
    assert abs(conversation["billingDuration"] - 5.0) < 0.1
    assert conversation["members"] == []
