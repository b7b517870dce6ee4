"""The Streaming API on a real server, spoken to by a real WebSocket client, with real
recordings (symbl-streaming.md §12, the checklist; issue 19's bad input).

Audio is sent faster than real time (the server paces nothing: it decodes as fast as the
CPU allows). Nothing here sleeps to wait: each test reads frames until the one it waits
for arrives, or polls the REST API with ``tests.waiting.until``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import jwt
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from parley.storage import apps as apps_store
from tests.conftest import APP_ID, Api, running_server
from tests.waiting import until

#: Longest wait for one frame: decoding on a busy 2-core machine, models loading first.
FRAME_TIMEOUT = 180.0
SECOND = 32000  # bytes of 16 kHz LINEAR16


def _pcm(path: Path, rate: int = 16000) -> bytes:
    """A recording as 16-bit mono PCM at ``rate`` (what a client's microphone sends)."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        out = [
            f.to_ndarray().tobytes()
            for frame in container.decode(audio=0)
            for f in resampler.resample(frame)
        ]
        out += [f.to_ndarray().tobytes() for f in resampler.resample(None)]
    return b"".join(out)


@pytest.fixture(scope="module")
def jfk(testdata: Path) -> bytes:
    return _pcm(testdata / "read" / "jfk" / "jfk.flac")


def _start(**config: Any) -> str:
    request: dict[str, Any] = {
        "type": "start_request",
        "insightTypes": ["question", "action_item", "follow_up"],
        "config": {"speechRecognition": {"encoding": "LINEAR16", "sampleRateHertz": 16000}},
        "speaker": {"userId": "jane@example.com", "name": "Jane"},
    }
    request.update(config)
    return json.dumps(request)


STOP = json.dumps({"type": "stop_request"})


class Stream:
    """A client socket and every frame it has read."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[Any] = []

    def send_audio(self, audio: bytes, size: int = 8192) -> None:
        for i in range(0, len(audio), size):
            self.ws.send(audio[i : i + size])

    def read(self) -> Any:
        text = self.ws.recv(timeout=FRAME_TIMEOUT)
        frame = text if text == "__PONG__" else json.loads(text)
        self.frames.append(frame)
        return frame

    def until(self, wanted: Callable[[Any], bool]) -> Any:
        """Read frames until one is ``wanted``; that frame."""
        while True:
            frame = self.read()
            if wanted(frame):
                return frame

    def until_closed(self) -> tuple[int | None, str | None]:
        """Read every frame up to the server's close; its code and reason."""
        try:
            while True:
                self.read()
        except ConnectionClosed:
            pass
        return self.ws.close_code, self.ws.close_reason

    def control(self, kind: str) -> dict[str, Any]:
        return self.until(lambda f: f["type"] == "message" and f["message"]["type"] == kind)

    def of(self, kind: str) -> list[dict[str, Any]]:
        """The frames read so far of a type (``message`` frames by their inner type)."""
        return [
            f
            for f in self.frames
            if isinstance(f, dict)
            and (f["type"] == kind or (f["type"] == "message" and f["message"]["type"] == kind))
        ]

    def order(self) -> list[str]:
        return [
            f["message"]["type"] if f["type"] == "message" else f["type"]
            for f in self.frames
            if isinstance(f, dict)
        ]


def _is_error(frame: Any) -> bool:
    return (
        isinstance(frame, dict)
        and frame["type"] == "message"
        and frame["message"]["type"] == "error"
    )


def _url(api: Api, connection_id: str, path: str = "/v1/realtime/insights/", **query: str) -> str:
    base = api.base_url.replace("http://", "ws://") + path + connection_id
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture()
def open_stream(api: Api) -> Iterator[Callable[..., Stream]]:
    stack = contextlib.ExitStack()

    def open_(
        connection_id: str | None = None,
        *,
        path: str = "/v1/realtime/insights/",
        token: str | None = None,
        **kwargs: Any,
    ) -> Stream:
        kwargs.setdefault("additional_headers", {"X-API-KEY": token or api.token()})
        ws = connect(
            _url(api, connection_id or str(uuid.uuid4()), path),
            max_size=None,
            open_timeout=60,
            **kwargs,
        )
        return Stream(stack.enter_context(ws))

    with stack:
        yield open_


def _messages(api: Api, conversation_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/conversations/{conversation_id}/messages")
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def _conversation_id(stream: Stream) -> str:
    return str(stream.control("recognition_started")["message"]["data"]["conversationId"])


# -- a whole stream, two speakers on one connection --------------------------------------------


@pytest.fixture(scope="module")
def spoken(api: Api, jfk: bytes) -> Iterator[dict[str, Any]]:
    """JFK's line streamed by one speaker while a second socket on the same connection
    listens; both stopped. Read (never changed) by the checklist tests below."""
    key = str(uuid.uuid4())
    token = api.token()
    with (
        connect(_url(api, key, "/v1/subscribe/", access_token=token)) as listener_ws,
        connect(_url(api, key, access_token=token), max_size=None) as speaker_ws,
        connect(_url(api, key, "/v1/streaming/"), additional_headers={"X-API-KEY": token}) as ws,
    ):
        speaker, other, listener = Stream(speaker_ws), Stream(ws), Stream(listener_ws)
        speaker.ws.send(
            _start(
                trackers=[{"name": "Nation", "vocabulary": ["country"]}],
                config={
                    "confidenceThreshold": 0.5,
                    "speechRecognition": {"encoding": "LINEAR16", "sampleRateHertz": 16000},
                },
            )
        )
        conversation_id = _conversation_id(speaker)
        other.ws.send(_start(speaker={"userId": "john@example.com", "name": "John"}))
        assert _conversation_id(other) == conversation_id  # one conversation per connection
        # the first 2 s are speech without a pause: an interim caption comes before its final
        speaker.send_audio(jfk[: 2 * SECOND])
        interim = speaker.until(
            lambda f: f["type"] == "message" and f["message"]["type"] == "recognition_result"
        )
        speaker.send_audio(jfk[2 * SECOND : 4 * SECOND])
        speaker.until(lambda f: f["type"] == "message_response")
        live = _messages(api, conversation_id)  # readable while the stream goes on
        speaker.send_audio(jfk[4 * SECOND :] + bytes(SECOND))
        speaker.ws.send(STOP)
        speaker_close = speaker.until_closed()
        other.until(
            lambda f: (
                f["type"] == "message_response"
                and "country" in f["messages"][0]["payload"]["content"]
            )
        )
        other.ws.send(STOP)
        other_close = other.until_closed()
        last = speaker.of("message_response")[-1]["messages"][-1]["id"]
        listener.until(
            lambda f: f["type"] == "message_response" and f["messages"][-1]["id"] == last
        )
    yield {
        "speaker": speaker,
        "other": other,
        "listener": listener,
        "conversation_id": conversation_id,
        "interim": interim,
        "live": live,
        "speaker_close": speaker_close,
        "other_close": other_close,
    }


def test_control_messages_come_in_the_order_the_sdks_need(spoken: dict[str, Any]) -> None:
    order = spoken["speaker"].order()
    assert order[:3] == ["started_listening", "conversation_created", "recognition_started"]
    assert order[-2:] == ["conversation_completed", "recognition_stopped"]
    assert spoken["speaker_close"] == (1000, "The stream was stopped.")
    assert spoken["other_close"][0] == 1000
    for frame in spoken["speaker"].of("conversation_created") + spoken["speaker"].of(
        "recognition_started"
    ):
        assert frame["message"]["data"] == {"conversationId": spoken["conversation_id"]}
    (completed,) = spoken["speaker"].of("conversation_completed")
    assert completed["message"]["conversationId"] == spoken["conversation_id"]
    assert completed["message"]["data"] == {"conversationId": spoken["conversation_id"]}
    # every finalized result was sent before the conversation was completed
    last = max(i for i, kind in enumerate(order) if kind.endswith("_response"))
    assert last < order.index("conversation_completed")


def test_interim_captions_come_while_speech_goes_on(spoken: dict[str, Any]) -> None:
    interim = spoken["interim"]["message"]
    assert interim["isFinal"] is False
    assert interim["punctuated"]["transcript"]
    assert interim["user"]["name"] == "Jane"
    finals = [
        f["message"] for f in spoken["speaker"].of("recognition_result") if f["message"]["isFinal"]
    ]
    assert finals
    words = finals[0]["payload"]["raw"]["alternatives"][0]["words"]
    assert words and isinstance(words[0]["startTime"]["seconds"], str)
    assert isinstance(words[0]["endTime"]["nanos"], str)
    # interim captions are the speaker's own: the other socket hears only finalized results
    assert all(
        f["message"]["user"]["name"] == "John" for f in spoken["other"].of("recognition_result")
    )


def test_finals_become_messages_with_speaker_and_words(spoken: dict[str, Any]) -> None:
    responses = spoken["speaker"].of("message_response")
    messages = [m for r in responses for m in r["messages"]]
    text = " ".join(m["payload"]["content"] for m in messages).lower()
    assert "fellow americans" in text and "your country" in text
    user_id = spoken["speaker"].of("recognition_result")[0]["message"]["user"]["id"]
    first = messages[0]
    assert first["from"] == {"id": user_id, "name": "Jane", "userId": "jane@example.com"}
    assert isinstance(first["metadata"]["words"], str)  # a JSON string, as Symbl sent it
    assert json.loads(first["metadata"]["words"])[0]["startTime"].endswith("Z")
    assert first["duration"]["startTime"] <= first["duration"]["endTime"]
    numbers = [r["sequenceNumber"] for r in responses]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_finalized_results_go_to_every_socket_of_the_connection(spoken: dict[str, Any]) -> None:
    heard = [m["id"] for r in spoken["other"].of("message_response") for m in r["messages"]]
    said = [m["id"] for r in spoken["speaker"].of("message_response") for m in r["messages"]]
    assert set(said) <= set(heard)
    (completed,) = spoken["other"].of("conversation_completed")
    assert completed["message"]["conversationId"] == spoken["conversation_id"]


def test_a_subscriber_hears_the_connection(spoken: dict[str, Any]) -> None:
    listener = spoken["listener"]
    # subscribed before the connection started: told its conversation id when it did
    assert listener.frames[0] == {
        "type": "message",
        "message": {
            "type": "conversation_created",
            "data": {"conversationId": spoken["conversation_id"]},
        },
    }
    heard = [m["id"] for r in listener.of("message_response") for m in r["messages"]]
    said = [m["id"] for r in spoken["speaker"].of("message_response") for m in r["messages"]]
    assert heard == said
    assert listener.of("recognition_result")


def test_insights_topics_and_trackers_are_streamed(spoken: dict[str, Any]) -> None:
    insights = [i for r in spoken["speaker"].of("insight_response") for i in r["insights"]]
    assert insights, spoken["speaker"].order()
    for insight in insights:
        assert insight["text"] == insight["payload"]["content"]
        assert insight["type"] in ("question", "action_item", "follow_up")
        assert insight["confidence"] >= 0.5
    topics = [t for r in spoken["speaker"].of("topic_response") for t in r["topics"]]
    assert topics and all(isinstance(t["phrases"], str) for t in topics)
    trackers = [t for r in spoken["speaker"].of("tracker_response") for t in r["trackers"]]
    assert any(t["name"] == "Nation" and t["matches"][0]["value"] == "country" for t in trackers), (
        trackers
    )


def test_the_conversation_is_readable_while_live_and_after(
    api: Api, spoken: dict[str, Any]
) -> None:
    assert spoken["live"], "no message was readable while the stream went on"
    conversation_id = spoken["conversation_id"]
    stored = _messages(api, conversation_id)
    streamed = [m for r in spoken["speaker"].of("message_response") for m in r["messages"]]
    assert [m["id"] for m in stored] == [m["id"] for m in streamed]
    assert [m["text"] for m in stored] == [m["payload"]["content"] for m in streamed]
    members = api.get(f"/v1/conversations/{conversation_id}/members").json()["members"]
    assert {m["name"] for m in members} == {"Jane", "John"}
    jane = next(m for m in members if m["name"] == "Jane")
    assert jane["id"] == streamed[0]["from"]["id"]
    conversation = api.get(f"/v1/conversations/{conversation_id}").json()
    assert conversation["id"] == conversation_id
    action_items = api.get(f"/v1/conversations/{conversation_id}/action-items").json()
    streamed_items = [
        i["id"]
        for r in spoken["speaker"].of("insight_response")
        for i in r["insights"]
        if i["type"] == "action_item"
    ]
    assert {a["id"] for a in action_items["actionItems"]} >= set(streamed_items)


# -- the socket: paths, tokens, shapes -----------------------------------------------------------


def _started_and_stopped(stream: Stream, start: str | None = None) -> list[str]:
    stream.ws.send(start or _start())
    _conversation_id(stream)
    stream.ws.send(STOP)
    code, _ = stream.until_closed()
    assert code == 1000
    return stream.order()


@pytest.mark.parametrize("path", ["/v1/streaming/", "/v1/realtime/insights/"])
def test_both_paths_serve_the_api(open_stream: Callable[..., Stream], path: str) -> None:
    order = _started_and_stopped(open_stream(path=path))
    assert order == [
        "started_listening",
        "conversation_created",
        "recognition_started",
        "conversation_completed",
        "recognition_stopped",
    ]


@pytest.mark.parametrize("how", ["access_token", "accessToken", "x-api-key", "bearer"])
def test_the_token_comes_any_way_a_client_sends_it(
    api: Api, open_stream: Callable[..., Stream], how: str
) -> None:
    token = api.token()
    key = str(uuid.uuid4())
    if how in ("access_token", "accessToken"):
        ws = connect(_url(api, key, **{how: token}))
    else:
        header = (
            {"x-api-key": token} if how == "x-api-key" else {"Authorization": f"Bearer {token}"}
        )
        ws = connect(_url(api, key), additional_headers=header)
    with ws:
        _started_and_stopped(Stream(ws))


def test_a_token_offered_as_the_sub_protocol_is_accepted_and_echoed(api: Api) -> None:
    token = api.token()
    with connect(_url(api, str(uuid.uuid4())), subprotocols=[token]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == token  # the npm websocket client fails the handshake otherwise
        _started_and_stopped(Stream(ws))


@pytest.mark.parametrize(
    "start",
    [
        # the py-sdk's defaults: 44.1 kHz, null speaker and trackers
        {
            "type": "start_request",
            "insightTypes": ["question", "action_item"],
            "config": {
                "confidenceThreshold": 0.5,
                "languageCode": "en-US",
                "speechRecognition": {"encoding": "LINEAR16", "sampleRateHertz": 44100},
            },
            "speaker": None,
            "trackers": None,
        },
        # the go-sdk's: empty nested objects, the unknown insight type "topic"
        {
            "type": "start_request",
            "config": {"speechRecognition": {}, "trackers": {}},
            "insightTypes": ["topic", "question", "action_item", "follow_up"],
            "speaker": {"userId": "user@email.com", "name": "Jane Doe"},
            "noConnectionTimeout": True,
            "enableAllTrackers": True,
        },
        # a raw client: flat encoding and rate, a float rate, top-level title and id
        {
            "type": "start_request",
            "meetingTitle": "Standup",
            "id": "room-1",
            "sentiments": True,
            "config": {"encoding": "mulaw", "sampleRateHertz": 8000.0},
            "speaker": {"userId": "a@b.c", "name": "A", "peerId": "p-1"},
            "disconnectOnStopRequest": True,
            "disconnectOnStopRequestTimeout": 1800,
        },
    ],
    ids=["py-sdk", "go-sdk", "raw"],
)
def test_start_requests_in_every_observed_shape(
    open_stream: Callable[..., Stream], start: dict[str, Any]
) -> None:
    order = _started_and_stopped(open_stream(), json.dumps(start))
    assert "error" not in order


@pytest.mark.parametrize(
    "stop", ['{"type": "stop_request"}', "{'type': 'stop_request'}", '{"type":"stop_recognition"}']
)
def test_stop_requests_in_every_observed_form(
    open_stream: Callable[..., Stream], stop: str
) -> None:
    stream = open_stream()
    stream.ws.send(_start())
    _conversation_id(stream)
    stream.ws.send(stop)
    assert stream.until_closed()[0] == 1000
    assert stream.order()[-2:] == ["conversation_completed", "recognition_stopped"]


def test_ping_is_answered_with_pong(open_stream: Callable[..., Stream]) -> None:
    stream = open_stream()
    stream.ws.send("__PING__")
    assert stream.read() == "__PONG__"
    stream.ws.send(_start())
    stream.ws.send("__PING__")
    assert stream.until(lambda f: f == "__PONG__")


def test_the_conversation_is_served_from_its_first_frame(
    api: Api, open_stream: Callable[..., Stream]
) -> None:
    stream = open_stream()
    stream.ws.send(_start(config={"meetingTitle": "Standup"}))
    conversation_id = _conversation_id(stream)
    assert _messages(api, conversation_id) == []  # browser samples read it at once
    conversation = api.get(f"/v1/conversations/{conversation_id}").json()
    assert conversation["name"] == "Standup" and conversation["type"] == "meeting"
    members = api.get(f"/v1/conversations/{conversation_id}/members").json()["members"]
    assert [m["name"] for m in members] == ["Jane"]
    stream.ws.send(STOP)
    assert stream.until_closed()[0] == 1000


def test_a_stream_kept_open_after_stop_can_start_again(
    open_stream: Callable[..., Stream],
) -> None:
    stream = open_stream()
    stream.ws.send(_start(disconnectOnStopRequest=False, disconnectOnStopRequestTimeout=60))
    first = _conversation_id(stream)
    stream.ws.send(STOP)
    stream.control("recognition_stopped")
    stream.ws.send(_start(disconnectOnStopRequest=False, disconnectOnStopRequestTimeout=60))
    assert _conversation_id(stream) == first  # resumed in the same conversation
    stream.ws.send(
        json.dumps({"type": "modify_request", "speechRecognition": {"sampleRateHertz": 48000}})
    )
    modified = stream.control("session_modified")["message"]
    assert modified["speechRecognition"] == {"encoding": "LINEAR16", "sampleRateHertz": 48000}
    stream.ws.send(STOP)
    stream.control("recognition_stopped")


# -- bad input -------------------------------------------------------------------------------


def _refused(
    api: Api, token: str, key: str | None = None, path: str = "/v1/realtime/insights/"
) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as caught:
        connect(_url(api, key or str(uuid.uuid4()), path, access_token=token))
    return caught.value


def test_a_wrong_token_is_refused_at_the_upgrade(api: Api) -> None:
    refused = _refused(api, "not-a-token")
    assert refused.response.status_code == 401
    assert json.loads(refused.response.body or b"{}")["message"]


def test_an_expired_token_is_refused(api: Api) -> None:
    claims = jwt.decode(api.token(), options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 60
    claims["iat"] = claims["exp"] - 3600
    expired = api.services.tokens.sign(claims)
    assert _refused(api, expired).response.status_code == 401


def test_a_connection_of_another_app_is_refused(
    api: Api, open_stream: Callable[..., Stream]
) -> None:
    with api.services.storage.session() as session:
        other, secret = apps_store.create_app(session=session, name=f"other-{uuid.uuid4()}")
    answer = api.client.post(
        "/oauth2/token:generate",
        json={"type": "application", "appId": other.id, "appSecret": secret},
    )
    other_token = answer.json()["accessToken"]
    key = str(uuid.uuid4())
    mine = open_stream(key)
    mine.ws.send(_start())
    _conversation_id(mine)  # the connection is live for the test app
    refused = _refused(api, other_token, key)
    assert refused.response.status_code == 403
    assert "another app" in json.loads(refused.response.body or b"{}")["message"]
    assert _refused(api, other_token, key, "/v1/subscribe/").response.status_code == 403
    assert _refused(api, "not-a-token", key, "/v1/subscribe/").response.status_code == 401
    mine.ws.send(STOP)
    assert mine.until_closed()[0] == 1000
    assert other.id != APP_ID
    # both handshakes before either start: the second app's start is refused
    key = str(uuid.uuid4())
    first, second = open_stream(key), open_stream(key, token=other_token)
    first.ws.send(_start())
    _conversation_id(first)
    second.ws.send(_start())
    code, reason = second.until_closed()
    assert (code, reason) == (1008, "This connectionId is in use by another app.")
    assert _is_error(second.frames[0]) and second.frames[0]["message"]["code"] == 403


def test_malformed_json_gets_an_error_and_the_stream_goes_on(
    open_stream: Callable[..., Stream],
) -> None:
    stream = open_stream()
    for bad in (
        "{not json",
        "[1, 2]",
        '{"type": "dance"}',
        '{"type": "start_request", "speaker": 5}',
    ):
        stream.ws.send(bad)
        error = stream.read()
        assert _is_error(error), error
        assert error["message"]["message"] == error["message"]["details"]
        assert error["message"]["code"] == 400
    _started_and_stopped(stream)


def test_oversized_json_closes_the_stream_with_a_reason(
    open_stream: Callable[..., Stream],
) -> None:
    stream = open_stream()
    stream.ws.send(json.dumps({"type": "start_request", "customVocabulary": ["x" * 1000] * 300}))
    code, reason = stream.until_closed()
    assert code == 1009 and reason and "at most" in reason
    assert _is_error(stream.frames[0])


def test_audio_before_start_is_ignored_and_said_so(
    open_stream: Callable[..., Stream], jfk: bytes
) -> None:
    stream = open_stream()
    stream.send_audio(jfk[:SECOND])
    error = stream.read()
    assert _is_error(error) and "before start_request" in error["message"]["message"]
    order = _started_and_stopped(stream)
    assert order.count("error") == 1 and "recognition_result" not in order


@pytest.mark.parametrize(
    ("speech", "said"),
    [
        ({"encoding": "FLAC", "sampleRateHertz": 16000}, "Unsupported encoding"),
        ({"encoding": "LINEAR16", "sampleRateHertz": 96000}, "between 8000 and 48000"),
        ({"encoding": "MULAW", "sampleRateHertz": 16000}, "8000 Hz"),
        ({"encoding": "LINEAR16", "sampleRateHertz": "fast"}, "sampleRateHertz"),
    ],
)
def test_an_unsupported_encoding_or_rate_is_refused(
    open_stream: Callable[..., Stream], speech: dict[str, Any], said: str
) -> None:
    stream = open_stream()
    stream.ws.send(_start(config={"speechRecognition": speech}))
    error = stream.read()
    assert _is_error(error) and said in error["message"]["message"], error
    _started_and_stopped(stream)  # the client may correct it and start


def test_frames_past_the_bound_close_the_stream(
    open_stream: Callable[..., Stream], jfk: bytes
) -> None:
    stream = open_stream()
    stream.ws.send(_start())
    _conversation_id(stream)
    stream.ws.send(bytes(9000))  # over Symbl's 8,192 B, under the generous bound: taken
    stream.ws.send("__PING__")
    assert stream.until(lambda f: f == "__PONG__")
    assert "error" not in stream.order()
    stream.ws.send(bytes(70_000))
    code, reason = stream.until_closed()
    assert code == 1009 and reason and "65536" in reason


def test_a_client_gone_mid_word_keeps_what_was_heard(
    api: Api, open_stream: Callable[..., Stream], jfk: bytes
) -> None:
    stream = open_stream()
    stream.ws.send(_start())
    conversation_id = _conversation_id(stream)
    stream.send_audio(jfk[: int(1.6 * SECOND)])  # "And so, my fel-"
    stream.ws.close()  # no stop_request

    def heard() -> list[dict[str, Any]]:
        return _messages(api, conversation_id)

    messages = until(heard, timeout=FRAME_TIMEOUT, what="the words before the client left")
    assert "so" in messages[0]["text"].lower()


def test_a_conversation_deleted_mid_stream_ends_it_with_a_reason(
    api: Api, open_stream: Callable[..., Stream], jfk: bytes
) -> None:
    stream = open_stream()
    stream.ws.send(_start())
    conversation_id = _conversation_id(stream)
    stream.send_audio(jfk[: 3 * SECOND])
    stream.until(lambda f: f["type"] == "message_response")  # stored, and sent
    assert api.request("DELETE", f"/v1/conversations/{conversation_id}").status_code == 200
    # whatever is finalized next, or the stop, finds the conversation gone
    stream.send_audio(jfk[3 * SECOND : 6 * SECOND])
    stream.ws.send(STOP)
    code, reason = stream.until_closed()
    assert (code, reason) == (4404, "The conversation was deleted while the stream ran.")
    assert any(_is_error(f) and f["message"]["code"] == 404 for f in stream.frames)
    assert "conversation_completed" not in stream.order()


def test_an_engine_crash_ends_the_stream_and_keeps_the_finals(
    api: Api, open_stream: Callable[..., Stream], jfk: bytes
) -> None:
    stream = open_stream()
    stream.ws.send(_start())
    conversation_id = _conversation_id(stream)
    stream.send_audio(jfk[: 3 * SECOND])
    first = stream.until(lambda f: f["type"] == "message_response")
    pid = api.services.live.engine.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    code, reason = stream.until_closed()
    assert code == 1011 and reason
    assert any(_is_error(f) for f in stream.frames)
    kept = [m["id"] for m in _messages(api, conversation_id)]
    assert first["messages"][0]["id"] in kept
    # the next stream gets a fresh engine
    _started_and_stopped(open_stream())


# -- limits, on servers of their own -------------------------------------------------------------


def test_a_silent_client_is_closed_with_a_reason(tmp_path: Path) -> None:
    with (
        running_server(tmp_path, workers=0, stream_idle_seconds=0.5) as api,
        connect(_url(api, "silent", access_token=api.token())) as ws,
    ):
        stream = Stream(ws)
        code, reason = stream.until_closed()  # nothing sent: the server ends it
        assert code == 4408 and reason == "Nothing was received for 0.5 s."
        assert _is_error(stream.frames[0]) and stream.frames[0]["message"]["code"] == 408


def test_a_stream_without_speech_is_closed_with_a_reason(tmp_path: Path) -> None:
    with (
        running_server(tmp_path, workers=0, stream_silence_seconds=1.0) as api,
        connect(_url(api, "quiet", access_token=api.token())) as ws,
    ):
        stream = Stream(ws)
        ws.send(_start())
        _conversation_id(stream)
        stream.send_audio(bytes(3 * SECOND))  # three seconds of digital silence
        code, reason = stream.until_closed()
        assert code == 4408 and reason == "No speech was heard for 1 s."
        assert any(_is_error(f) and f["message"]["code"] == 408 for f in stream.frames)


def test_sockets_past_the_apps_limit_are_refused(tmp_path: Path) -> None:
    with running_server(tmp_path, workers=0, max_concurrent_streams=1) as api:
        token = api.token()
        with connect(_url(api, "first", access_token=token)) as first:
            Stream(first).ws.send("__PING__")
            assert first.recv(timeout=FRAME_TIMEOUT) == "__PONG__"  # admitted and served
            refused = _refused(api, token)
            assert refused.response.status_code == 429
            body = json.loads(refused.response.body or b"{}")
            assert body["statusCode"] == 429 and "concurrent streams" in body["message"]

        def admitted() -> bool:  # the first socket's slot is given back once it is gone
            try:
                with connect(_url(api, "again", access_token=token)):
                    return True
            except InvalidStatus:
                return False

        until(admitted, timeout=60, what="a socket admitted after the first closed")
