"""The recogniser in its child process, driven as a session drives it: frames in, events
out, every frame acknowledged, ``finished`` after the last final."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from parley.live.audio import AudioFormat
from parley.live.engine import Engine, Event, StreamSpec
from parley.pipeline.models import Models
from tests.conftest import MODEL_CACHE

WAIT = 180.0  # one event, at most: the child loads its models first


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    live = Engine(lambda: Models(cache_dir=MODEL_CACHE))
    yield live
    live.close()


def _audio(path: Path, codec: str, rate: int, seconds: float) -> bytes:
    """The first ``seconds`` of a recording, encoded by PyAV as a client would send it."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        pcm = np.concatenate(
            [
                f.to_ndarray().reshape(-1)
                for frame in container.decode(audio=0)
                for f in resampler.resample(frame)
            ]
        )[: int(rate * seconds)]
    pcm = np.concatenate([pcm, np.zeros(rate, dtype=np.int16)])  # a second of quiet after
    if codec == "pcm_s16le":
        return pcm.astype("<i2").tobytes()
    context = av.CodecContext.create(codec, "w")
    assert isinstance(context, av.AudioCodecContext)
    context.sample_rate, context.layout, context.format = rate, "mono", av.AudioFormat("s16")
    frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
    frame.sample_rate = rate
    return b"".join(bytes(p) for p in [*context.encode(frame), *context.encode(None)])


def _run(engine: Engine, fmt: AudioFormat, data: bytes, size: int) -> list[Event]:
    events: queue.Queue[Event] = queue.Queue()
    sid = str(uuid.uuid4())
    engine.open(sid, StreamSpec(format=fmt, language="en"), events.put)
    for i in range(0, len(data), size):
        engine.audio(sid, data[i : i + size])
    engine.finish(sid)
    seen: list[Event] = []
    while not seen or seen[-1].kind != "finished":
        seen.append(events.get(timeout=WAIT))
    return seen


def test_a_stream_becomes_finals_with_times_in_the_stream(engine: Engine, testdata: Path) -> None:
    data = _audio(testdata / "read/jfk/jfk.flac", "pcm_s16le", 44100, 3.0)
    events = _run(engine, AudioFormat("LINEAR16", 44100), data, 8192)
    assert sum(e.size for e in events if e.kind == "ack") == len(data)  # every frame processed
    finals = [e for e in events if e.kind == "final"]
    assert "fellow americans" in " ".join(f.text for f in finals).lower()
    words = [w for f in finals for w in f.words]
    assert all(0.0 <= w.start <= w.end <= 4.0 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert events[-1].kind == "finished"


def test_twilio_sized_mulaw_frames(engine: Engine, testdata: Path) -> None:
    data = _audio(testdata / "read/jfk/jfk.flac", "pcm_mulaw", 8000, 3.0)
    events = _run(engine, AudioFormat("MULAW", 8000), data, 160)  # 20 ms each
    text = " ".join(e.text for e in events if e.kind == "final").lower()
    assert "americans" in text


def test_a_frame_that_cannot_be_decoded_is_said_and_the_stream_goes_on(engine: Engine) -> None:
    garbage = bytes([0xFF, 0xFF, 0xFE]) * 100
    events = _run(engine, AudioFormat("OPUS", 48000), garbage, 300)
    kinds = [e.kind for e in events]
    assert kinds[-1] == "finished" and "final" not in kinds
    assert kinds.count("error") == 1, kinds  # said once, not per frame


def test_a_final_keeps_only_words_that_say_something() -> None:
    from parley.live.engine import spoken_words
    from parley.pipeline.schema import Word

    words = [
        Word(text=text, start=i, end=i + 0.5, probability=0.9)
        for i, text in enumerate(["country.", ".", "...", "4", "-", "I'm", "?"])
    ]
    assert [w.text for w in spoken_words(words)] == ["country.", "4", "I'm"]
