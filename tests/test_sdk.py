"""The official ``symbl`` Python SDK (2.0.6, from PyPI) against a local Parley.

Redirected exactly as the spec's section 7.1 shows: set symbl_rest's default
Configuration host before importing ``symbl``. The SDK swallows HTTP errors and
returns ``{'message': ...}`` dicts instead, so each result is checked for the
typed model it should be.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import APP_ID, APP_SECRET, Api


# symbl.Audio.process_file opens the upload and never closes it (symbl/utils/Helper.py)
@pytest.mark.filterwarnings("ignore:unclosed file <_io.BufferedReader:ResourceWarning")
def test_official_sdk_processes_a_file_and_reads_results(api: Api, testdata: Path) -> None:
    import symbl_rest

    config = symbl_rest.Configuration()
    config.host = api.base_url
    symbl_rest.Configuration.set_default(config)
    import symbl
    from symbl.Conversations import Conversation

    # The SDK sleeps 30 s before its first job poll; poll every second instead.
    Conversation._Conversation__INTERVAL_TIME_IN_SECONDS = 1
    credentials = {"app_id": APP_ID, "app_secret": APP_SECRET}

    conversation = symbl.Audio.process_file(
        file_path=str(testdata / "read/librispeech/1272-128104-0000.wav"),
        credentials=credentials,
        parameters={"name": "From the SDK", "detectPhrases": True, "customVocabulary": ["Quilter"]},
        wait=True,
    )
    assert conversation.get_job_status() == "completed"
    conversation_id = conversation.get_conversation_id()
    assert len(conversation_id) == 16

    messages = conversation.get_messages(parameters={"verbose": True, "sentiment": True})
    assert messages.messages, messages
    assert "quilter" in " ".join(m.text for m in messages.messages).lower()
    assert messages.messages[0].words[0].start_time is not None
    assert messages.messages[0].sentiment.suggested in ("positive", "neutral", "negative")

    info = conversation.get_conversation()
    assert info.id == conversation_id and info.name == "From the SDK"

    assert conversation.get_members().members == []
    assert isinstance(conversation.get_topics().topics, list)
    assert isinstance(conversation.get_questions().questions, list)
    assert isinstance(conversation.get_action_items().action_items, list)
    assert isinstance(conversation.get_follow_ups().follow_ups, list)
    assert isinstance(conversation.get_entities().entities, list)
    assert isinstance(conversation.get_trackers(), list)
    analytics = conversation.get_analytics()
    assert {m.type for m in analytics.metrics} == {
        "total_silence",
        "total_talk_time",
        "total_overlap",
    }

    text = symbl.Text.process(
        payload={
            "messages": [
                {
                    "payload": {"content": "Can you send me the contract by Friday?"},
                    "from": {"name": "Ann", "userId": "ann@example.com"},
                }
            ]
        },
        credentials=credentials,
        wait=True,
    )
    assert text.get_job_status() == "completed"
    assert [m.text for m in text.get_messages().messages] == [
        "Can you send me the contract by Friday?"
    ]


# websocket-client's close() returns early when the server closed first (``connected`` is
# already False) and so never closes its socket: collected here, under this filter.
@pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")
def test_official_sdk_streams_audio_and_reads_the_conversation(api: Api, testdata: Path) -> None:
    """``symbl.Streaming`` with its URL constant redirected (symbl-streaming.md §9.3): its
    ``x-api-key`` socket, its Python-repr stop, its callbacks and its REST follow-up."""
    import gc
    import threading

    import av
    import symbl_rest

    config = symbl_rest.Configuration()
    config.host = api.base_url
    symbl_rest.Configuration.set_default(config)
    import symbl
    import symbl.streaming_api.StreamingApi as streaming_module

    streaming_module.SYMBL_STREAMING_API_FORMAT = (
        api.base_url.replace("http://", "ws://") + "/v1/realtime/insights/{}?source=python_sdk"
    )
    with av.open(str(testdata / "read/jfk/jfk.flac")) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
        pcm = b"".join(
            f.to_ndarray().tobytes()
            for frame in container.decode(audio=0)
            for f in resampler.resample(frame)
        )
    frames: list[dict[str, object]] = []
    completed = threading.Event()

    def on_message(frame: dict[str, object]) -> None:
        frames.append(frame)
        inner = frame.get("message")
        if isinstance(inner, dict) and inner.get("type") == "conversation_completed":
            completed.set()

    connection = symbl.Streaming.start_connection(
        credentials={"app_id": APP_ID, "app_secret": APP_SECRET},
        speaker={"userId": "jfk@example.com", "name": "John"},
        insight_types=["question", "action_item"],
        config={"speechRecognition": {"sampleRateHertz": 16000}},
    )
    connection.subscribe({"message": on_message, "message_response": on_message})
    for i in range(0, 4 * 32000, 8192):  # "And so, my fellow Americans, ask not"
        connection.send_audio(pcm[i : i + 8192])
    connection.send_audio(bytes(32000))
    connection.stop()  # sends "{'type': 'stop_request'}", not JSON
    assert completed.wait(180), frames
    from symbl.utils.Threads import Thread

    for thread in Thread.getInstance().threads:  # run_forever ends at the server's close
        thread.join(60)
    connection.connection = None
    gc.collect()

    responses = [f for f in frames if f.get("type") == "message_response"]
    assert responses, frames
    conversation_id = connection.conversation.get_conversation_id()
    assert conversation_id and len(conversation_id) == 16
    messages = connection.conversation.get_messages()
    assert "americans" in " ".join(m.text for m in messages.messages).lower()
