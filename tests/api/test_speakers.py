"""Speakers over HTTP: per-channel recognition and diarization."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

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


@pytest.fixture(scope="module")
def plain(api: Api, testdata: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """The stereo call submitted with no options (ids, and the job once ended): two tests
    read the one job."""
    submitted = api.submit_file(testdata / f"{STEREO}.wav")
    return submitted, api.wait(submitted["jobId"])


def test_mono_mix_without_per_channel(
    api: Api, plain: tuple[dict[str, str], dict[str, Any]]
) -> None:
    submitted, job = plain
    assert job["status"] == "completed"
    conversation = api.get(f"/v1/conversations/{submitted['conversationId']}").json()
    assert abs(conversation["billingDuration"] - 5.0) < 0.1
    assert conversation["members"] == []


def _stm_words(path: Path) -> list[tuple[str, float, float, str]]:
    """Reference (speaker, start, end, text) turns from an STM file."""
    turns = []
    for line in path.read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and not line.startswith(";;"):
            turns.append((parts[2], float(parts[3]), float(parts[4]), parts[5]))
    return turns


def test_diarization_finds_two_speakers_in_a_call(
    api: Api, testdata: Path, phone_call: dict[str, str]
) -> None:
    sample = testdata / "diarization/pyannote_sample/sample"
    cid = phone_call["conversationId"]
    members = api.get(f"/v1/conversations/{cid}/members").json()["members"]
    assert sorted(m["name"] for m in members) == ["Speaker 1", "Speaker 2"]
    conversation = api.get(f"/v1/conversations/{cid}").json()
    messages = api.get(f"/v1/conversations/{cid}/messages", params={"verbose": "true"}).json()[
        "messages"
    ]
    assert all(m["from"].get("name") in ("Speaker 1", "Speaker 2") for m in messages)
    # Map each reference turn to the member who said most of its words: the two reference
    # speakers must come out as two different members.
    reference = _stm_words(sample.with_suffix(".stm"))
    votes: dict[str, dict[str, int]] = {}
    for m in messages:
        for w in m["words"]:
            mid = _offset(w["startTime"], conversation["startTime"]) + w["duration"] / 2
            for speaker, start, end, _ in reference:
                if start <= mid <= end:
                    votes.setdefault(speaker, {}).setdefault(m["from"]["name"], 0)
                    votes[speaker][m["from"]["name"]] += 1
    assert len(votes) == 2
    winners = {speaker: max(counts, key=counts.get) for speaker, counts in votes.items()}
    assert len(set(winners.values())) == 2, votes
    analytics = api.get(f"/v1/conversations/{cid}/analytics").json()
    talk = {m["name"]: m["talkTime"]["seconds"] for m in analytics["members"]}
    total = next(x for x in analytics["metrics"] if x["type"] == "total_talk_time")["seconds"]
    assert all(t > 1 for t in talk.values()) and sum(talk.values()) >= total - 0.01
    assert total <= 30.0


def _members_with_words(api: Api, cid: str) -> set[str]:
    messages = api.get(f"/v1/conversations/{cid}/messages", params={"verbose": "true"}).json()[
        "messages"
    ]
    return {m["from"]["name"] for m in messages if m.get("words") and m["from"].get("name")}


def test_three_speakers_asked_and_heard_come_back_with_words(api: Api, testdata: Path) -> None:
    # Three clips of three different people; the user says there are three.
    clip = testdata / "diarization/picovoice_falcon/falcon_test.wav"
    submitted = api.submit_file(
        clip,
        {
            "enableSpeakerDiarization": "true",
            "diarizationSpeakerCount": "3",
        },
    )
    job = api.wait(submitted["jobId"])
    assert job["status"] == "completed"
    cid = submitted["conversationId"]
    holders = _members_with_words(api, cid)
    assert holders == {"Speaker 1", "Speaker 2", "Speaker 3"}
    assert job["speakersFound"] == 3
    members = api.get(f"/v1/conversations/{cid}/members").json()["members"]
    assert len(members) == 3


def test_speakers_found_tells_the_truth_with_fewer_voices(api: Api, testdata: Path) -> None:
    # One reader, but three speakers asked for: one voice is not split to fill the count.
    clip = testdata / "read/librispeech/1089-134686-0000.flac"
    submitted = api.submit_file(
        clip,
        {
            "enableSpeakerDiarization": "true",
            "diarizationSpeakerCount": "3",
        },
    )
    job = api.wait(submitted["jobId"])
    assert job["status"] == "completed"
    holders = _members_with_words(api, submitted["conversationId"])
    assert job["speakersFound"] == len(holders) == 1


def test_undiarized_jobs_do_not_claim_speakers(
    plain: tuple[dict[str, str], dict[str, Any]],
) -> None:
    _, job = plain
    assert job["status"] == "completed" and "speakersFound" not in job
