"""The Async API with real recordings: submit, wait, read; append; every input kind."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api
from tests.helpers import transcode, wer

LIBRI = "read/librispeech/1272-128104-0000"
ARCTIC = "read/cmu_arctic/cmu_arctic_us_aew_a0001"


def _reference(testdata: Path, stem: str) -> str:
    return (testdata / f"{stem}.txt").read_text().strip()


def _text(api: Api, conversation_id: str) -> str:
    messages = api.get(f"/v1/conversations/{conversation_id}/messages").json()["messages"]
    return " ".join(m["text"] for m in messages)


def _seconds(a: str, b: str) -> float:
    parse = partial(datetime.fromisoformat)
    return (parse(a.replace("Z", "+00:00")) - parse(b.replace("Z", "+00:00"))).total_seconds()


def test_submit_wav_and_read_messages(api: Api, testdata: Path) -> None:
    submitted = api.submit_file(
        testdata / f"{LIBRI}.wav", {"name": "Libri"}, content_type="audio/wav"
    )
    assert re.fullmatch(r"[1-9]\d{15}", submitted["conversationId"])
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", submitted["jobId"]
    )
    job = api.wait(submitted["jobId"])
    assert job["status"] == "completed" and job["progress"] == 100
    cid = submitted["conversationId"]
    assert wer(_reference(testdata, LIBRI), _text(api, cid)) < 0.2

    conversation = api.get(f"/v1/conversations/{cid}").json()
    assert conversation["name"] == "Libri" and conversation["type"] == "meeting"
    assert 5.5 < _seconds(conversation["endTime"], conversation["startTime"]) < 6.2

    messages = api.get(f"/v1/conversations/{cid}/messages", params={"verbose": "true"}).json()
    first = messages["messages"][0]
    assert first["timeOffset"] == 0 and first["duration"] > 0 and first["from"] == {}
    assert first["conversationId"] == cid and first["phrases"] == []
    words = [w for m in messages["messages"] for w in m["words"]]
    assert len(words) >= 10
    for w in words:
        position = _seconds(w["startTime"], conversation["startTime"])
        assert 0 <= position <= 6.0 and 0 <= w["score"] <= 1 and w["duration"] >= 0
    assert [w["startTime"] for w in words] == sorted(w["startTime"] for w in words)


def test_append_continues_the_conversation_in_order(api: Api, testdata: Path) -> None:
    first = api.submit_file(testdata / f"{ARCTIC}.wav")
    second = api.submit_file(testdata / f"{LIBRI}.wav", conversation_id=first["conversationId"])
    assert second["conversationId"] == first["conversationId"]
    assert second["jobId"] != first["jobId"]
    assert api.wait(first["jobId"])["status"] == "completed"
    assert api.wait(second["jobId"])["status"] == "completed"
    cid = first["conversationId"]
    conversation = api.get(f"/v1/conversations/{cid}").json()
    messages = api.get(f"/v1/conversations/{cid}/messages").json()["messages"]
    starts = [_seconds(m["startTime"], conversation["startTime"]) for m in messages]
    arctic_length = 3.88
    assert starts[0] < 1.0
    later = [s for s in starts if s >= arctic_length]
    assert later, "the appended file's messages continue after the first file"
    assert starts == sorted(starts)
    total = _seconds(conversation["endTime"], conversation["startTime"])
    assert abs(total - (3.88 + 5.86)) < 0.3
    assert (
        wer(
            _reference(testdata, LIBRI),
            " ".join(
                m["text"] for m, s in zip(messages, starts, strict=True) if s >= arctic_length - 0.1
            ),
        )
        < 0.25
    )


@pytest.mark.parametrize(
    ("codec", "suffix", "content_type", "endpoint"),
    [
        ("mp3", ".mp3", "audio/mpeg", "/v1/process/audio"),
        ("aac", ".mp4", "video/mp4", "/v1/process/video"),
    ],
)
def test_compressed_audio_and_video(
    api: Api,
    testdata: Path,
    tmp_path: Path,
    codec: str,
    suffix: str,
    content_type: str,
    endpoint: str,
) -> None:
    media = transcode(
        testdata / f"{LIBRI}.wav", tmp_path / f"clip{suffix}", codec, video=suffix == ".mp4"
    )
    response = api.request(
        "POST", endpoint, content=media.read_bytes(), headers={"Content-Type": content_type}
    )
    assert response.status_code == 201, response.text
    assert api.wait(response.json()["jobId"])["status"] == "completed"
    assert wer(_reference(testdata, LIBRI), _text(api, response.json()["conversationId"])) < 0.2


def test_no_content_type_is_sniffed(api: Api, testdata: Path) -> None:
    flac = testdata / "read/jfk/jfk.flac"  # stereo 44.1 kHz FLAC
    submitted = api.submit_file(flac, content_type="")
    assert api.wait(submitted["jobId"])["status"] == "completed"
    assert "country" in _text(api, submitted["conversationId"]).lower()


class _Files(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def file_server(testdata: Path) -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Files, directory=str(testdata)))
    # polled every 10 ms, not 0.5 s, for the shutdown below
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_submission_and_append(api: Api, testdata: Path, file_server: str) -> None:
    response = api.request(
        "POST",
        "/v1/process/audio/url",
        json={"url": f"{file_server}/{LIBRI}.wav", "name": "from url"},
    )
    assert response.status_code == 201, response.text
    cid = response.json()["conversationId"]
    assert api.wait(response.json()["jobId"])["status"] == "completed"
    assert wer(_reference(testdata, LIBRI), _text(api, cid)) < 0.2
    again = api.request(
        "PUT", f"/v1/process/audio/url/{cid}", json={"url": f"{file_server}/{ARCTIC}.wav"}
    )
    assert again.status_code == 201 and again.json()["conversationId"] == cid
    assert api.wait(again.json()["jobId"])["status"] == "completed"
    assert "rode" in _text(api, cid).lower() or "author" in _text(api, cid).lower()


def test_url_that_fails_gives_a_failed_job_with_reason(api: Api, file_server: str) -> None:
    for url, reason in (
        (f"{file_server}/missing.wav", "HTTP 404"),
        ("http://127.0.0.1:9/nothing.wav", "Fetching the media URL failed"),
    ):
        response = api.request("POST", "/v1/process/audio/url", json={"url": url})
        assert response.status_code == 201
        job = api.wait(response.json()["jobId"], timeout=60)
        assert job["status"] == "failed"
        assert reason in job["reason"]


def test_text_submission(api: Api) -> None:
    body = {
        "name": "Standup",
        "messages": [
            {
                "payload": {"content": "hi mike, natalia here. did you get the deck?"},
                "from": {"userId": "natalia@example.com", "name": "Natalia"},
                "duration": {
                    "startTime": "2020-07-21T16:02:19.010Z",
                    "endTime": "2020-07-21T16:02:25.000Z",
                },
            },
            {
                "payload": {"content": "Yes I got it, thanks."},
                "from": {"userId": "mike@example.com", "name": "Mike"},
            },
        ],
    }
    response = api.request("POST", "/v1/process/text", json=body)
    assert response.status_code == 201, response.text
    cid = response.json()["conversationId"]
    assert api.wait(response.json()["jobId"])["status"] == "completed"
    conversation = api.get(f"/v1/conversations/{cid}").json()
    assert conversation["startTime"] == "2020-07-21T16:02:19.010Z"
    messages = api.get(f"/v1/conversations/{cid}/messages").json()["messages"]
    assert [m["text"] for m in messages] == [
        "Hi mike, natalia here.",
        "Did you get the deck?",
        "Yes I got it, thanks.",
    ]
    assert [m["from"]["name"] for m in messages] == ["Natalia", "Natalia", "Mike"]
    assert messages[2]["startTime"] >= messages[1]["endTime"]
    members = api.get(f"/v1/conversations/{cid}/members").json()["members"]
    assert {(m["name"], m.get("email")) for m in members} == {
        ("Natalia", "natalia@example.com"),
        ("Mike", "mike@example.com"),
    }


def _big_text_body() -> bytes:
    """About 4 MB of JSON: 20,000 messages (the limit), the last of them empty, so the
    whole body is parsed and checked and then refused (no 900,000-character job runs)."""
    message = {
        "payload": {"content": "Let us go over the numbers once more."},
        "from": {
            "userId": "first.speaker.of.the.meeting@example.com",
            "name": "First Speaker Of The Meeting",
        },
        "duration": {
            "startTime": "2020-07-21T16:02:19.010Z",
            "endTime": "2020-07-21T16:02:25.000Z",
        },
    }
    messages = [message] * 19_999 + [{"payload": {"content": ""}}]
    return json.dumps({"name": "Big", "messages": messages}).encode()


def test_a_big_text_body_is_parsed_off_the_event_loop(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsed on the loop, this body held every other request (``/health`` too) for
    0.55–0.80 s; in the thread pool the loop keeps answering."""
    from parley.api.routes import bodies, process

    api.token()  # before the spies: only the text request's calls are recorded
    where: list[str] = []

    def spied(function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            try:
                asyncio.get_running_loop()
                where.append(f"{function.__name__} on the event loop")
            except RuntimeError:
                where.append(f"{function.__name__} in a thread")
            return function(*args)

        return call

    monkeypatch.setattr(bodies, "loads_bounded", spied(bodies.loads_bounded))
    monkeypatch.setattr(process, "_text_messages", spied(process._text_messages))
    body = _big_text_body()
    assert len(body) > 4_000_000
    response = api.request(
        "POST", "/v1/process/text", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert "messages[19999].payload.content" in response.json()["message"]
    assert where == ["loads_bounded in a thread", "_text_messages in a thread"]
