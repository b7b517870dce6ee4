"""Small helpers for tests: text normalisation for WER, media files made on the fly,
conversations stored without a job worker."""

from __future__ import annotations

import itertools
import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np

if TYPE_CHECKING:
    from tests.conftest import Api


def normalize(text: str) -> str:
    """Lowercase, drop punctuation: enough to compare transcripts of read speech."""
    text = text.lower().replace("-", " ")
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalize(reference), normalize(hypothesis)))


def transcode(source: Path, target: Path, codec: str, *, video: bool = False) -> Path:
    """Re-encode the audio of ``source`` into ``target`` (e.g. mp3, or mp4 with a video track)."""
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        audio_in = inp.streams.audio[0]
        rate = 16000 if codec != "aac" else 44100
        audio_out = out.add_stream(codec, rate=rate)
        audio_out.layout = "mono"
        resampler = av.AudioResampler(format=audio_out.format.name, layout="mono", rate=rate)
        video_out = None
        if video:
            video_out = out.add_stream("mpeg4", rate=5)
            video_out.width, video_out.height, video_out.pix_fmt = 64, 64, "yuv420p"
            duration = float(audio_in.duration * audio_in.time_base)
            for i in range(int(duration * 5)):
                frame = av.VideoFrame.from_ndarray(
                    np.full((64, 64, 3), (i * 7) % 255, dtype=np.uint8), format="rgb24"
                )
                for packet in video_out.encode(frame):
                    out.mux(packet)
        for frame in inp.decode(audio_in):
            frame.pts = None
            for resampled in resampler.resample(frame):
                for packet in audio_out.encode(resampled):
                    out.mux(packet)
        for packet in audio_out.encode(None):
            out.mux(packet)
        if video_out is not None:
            for packet in video_out.encode(None):
                out.mux(packet)
    return target


def silent_wav(path: Path, seconds: float) -> Path:
    """A PCM WAV of silence (0 seconds gives a header with no samples)."""
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * int(seconds * 16000))
    return path


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_MESSAGE_IDS = itertools.count(10**15)


def stored_conversation(api: Api, texts: list[str]) -> str:
    """A processed conversation of ``texts``, spoken by one member ``m-<its id>`` named
    Dana, written to the server's database directly: for a server without job workers
    (``workers=0``, no child loading the speech models), in tests of what follows."""
    from parley.storage import conversations as store
    from parley.storage import jobs as jobs_store
    from parley.storage.models import Job, Member
    from parley.storage.models import Message as MessageRow
    from tests.conftest import APP_ID

    with api.services.storage.session() as session:
        conversation = store.create_conversation(session=session, app_id=APP_ID, name=None)
        job = jobs_store.create_job(
            session=session,
            job_id=f"job-{conversation.id}",
            app_id=APP_ID,
            conversation_id=conversation.id,
            kind="text",
            source="text",
            options={},
        )
        session.flush()
        session.get(Job, job.id).status = "completed"  # type: ignore[union-attr]
        member = f"m-{conversation.id}"
        session.add(Member(id=member, conversation_id=conversation.id, name="Dana", position=1))
        for i, text in enumerate(texts):
            session.add(
                MessageRow(
                    id=str(next(_MESSAGE_IDS)),  # numeric: the search index's rowid
                    conversation_id=conversation.id,
                    job_id=job.id,
                    member_id=member,
                    text=text,
                    start=float(i),
                    end=i + 0.5,
                )
            )
        return str(conversation.id)


def app_client(api: Api, name: str) -> tuple[Api, str, str]:
    """A client of ``api``'s server for a fresh app of its own (its token already taken),
    with the app's id and secret: for tests whose entities, settings or revoked tokens
    must reach no other test. The caller closes ``client.client``."""
    from parley.storage import apps as apps_store
    from tests.conftest import Api

    with api.services.storage.session() as session:
        app, secret = apps_store.create_app(session=session, name=name)
        app_id = str(app.id)
    client = Api(api.base_url, api.services)
    client._token = client.client.post(
        "/oauth2/token:generate", json={"appId": app_id, "appSecret": secret}
    ).json()["accessToken"]
    return client, app_id, secret
