"""The live recogniser: a child process that holds the models and decodes every stream.

The API process only relays frames: ``Engine`` sends each stream's raw audio to the child
over a pipe (from a writer thread, so a full pipe never blocks the event loop) and a
reader thread hands the child's events to each stream's sink. The child decodes the
frames (``parley.live.audio``), runs Silero VAD over them and end-points utterances:

* an utterance starts at speech (with 0.3 s of audio before it, so onsets are kept) and
  ends after ``QUIET_SECONDS`` of quiet, or is cut at ``MAX_UTTERANCE_SECONDS``;
* while speech goes on, an interim hypothesis (the utterance so far, decoded) at most once
  per ``INTERIM_SECONDS`` of audio, and only when no input is waiting: a client sending
  faster than real time gets its finals as fast as the CPU allows, not a backlog of
  interims;
* when the utterance ends, its final: decoded with timed words by the batch pipeline's own
  settings (``transcribe_clip``).

Every audio message is acknowledged once processed, so a stream can bound the audio it
has in flight (memory stays flat however fast a client sends). A child that dies (a
native crash, out of memory, killed) ends every stream it held with a ``crashed`` event;
the next stream starts a fresh child.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parley.live.audio import AudioFormat, StreamDecoder
from parley.pipeline.models import Models
from parley.pipeline.schema import SAMPLE_RATE, Word

__all__ = [
    "INTERIM_SECONDS",
    "MAX_UTTERANCE_SECONDS",
    "QUIET_SECONDS",
    "Engine",
    "Event",
    "StreamSpec",
]

log = logging.getLogger(__name__)

#: Quiet that ends an utterance.
QUIET_SECONDS = 0.5
#: An utterance longer than this is cut (and finalized) where it stands.
MAX_UTTERANCE_SECONDS = 15.0
#: Audio between two interim hypotheses of one utterance, at least.
INTERIM_SECONDS = 1.0
_PREROLL_SECONDS = 0.3
_THRESHOLD = 0.5  # Silero speech probability that starts speech
_LOW = 0.35  # below this a frame is quiet (faster-whisper's neg_threshold)
_MIN_SPEECH_SECONDS = 0.2  # an utterance with less speech than this is a click, not words
_NO_SPEECH = 0.6
_TAIL_SECONDS = 0.25  # audio kept after the last speech frame of an utterance


@dataclass(frozen=True)
class StreamSpec:
    """What the recogniser needs to know about one stream."""

    format: AudioFormat
    language: str | None = "en"
    vocabulary: tuple[str, ...] = ()
    #: Audio without speech after which the stream is said ``silent`` (once); None: never.
    silence_seconds: float | None = None


@dataclass(frozen=True)
class Event:
    """What the child says about a stream.

    ``kind``: ``interim`` (text), ``final`` (text, words, start, end), ``ack`` (size of
    the audio processed), ``finished`` (every final is out), ``error`` (text; the stream
    goes on), ``silent`` (no speech for ``StreamSpec.silence_seconds`` of audio) or
    ``crashed`` (the engine died; the stream is over).
    """

    kind: str
    text: str = ""
    words: tuple[Word, ...] = ()
    start: float = 0.0
    end: float = 0.0
    size: int = 0


Sink = Callable[[Event], None]


# -- the child ------------------------------------------------------------------------------


@dataclass
class _Stream:
    """One stream's state in the child."""

    spec: StreamSpec
    decoder: StreamDecoder
    vad: Any
    pending: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    seen: int = 0  # samples end-pointed so far (the stream's clock)
    preroll: collections.deque[np.ndarray] = field(default_factory=collections.deque)
    utterance: list[np.ndarray] = field(default_factory=list)
    start: int = 0  # sample where the utterance starts
    speech_frames: int = 0
    quiet: int = 0
    interim_at: int = 0  # utterance length (samples) at the last interim
    spoken: int = 0  # utterance length (samples) at its last frame of speech
    said_bad_frame: bool = False
    unspoken: int = 0  # samples since the last frame of speech
    said_silent: bool = False

    @property
    def length(self) -> int:
        return sum(len(a) for a in self.utterance)


class _Recogniser:
    """The child's loop: commands in, events out (see module doc)."""

    def __init__(self, conn: multiprocessing.connection.Connection, models: Models) -> None:
        self.conn = conn
        self.runtime = models.whisper
        self.streams: dict[str, _Stream] = {}
        from parley.pipeline.speech import VadStream

        self._vad_class = VadStream
        self.frame = 512
        self.quiet_frames = round(QUIET_SECONDS * SAMPLE_RATE / self.frame)
        self.preroll_frames = round(_PREROLL_SECONDS * SAMPLE_RATE / self.frame)

    def send(self, *message: Any) -> None:
        self.conn.send(message)

    def run(self) -> None:
        while True:
            try:
                command = self.conn.recv()
            except (EOFError, OSError):
                return
            kind, sid = command[0], command[1]
            if kind == "quit":  # the server stops: exit normally (finalizers run)
                return
            if kind == "open":
                self.streams[sid] = _Stream(
                    spec=command[2], decoder=StreamDecoder(command[2].format), vad=None
                )
                self.streams[sid].vad = self._vad_class(self.runtime.vad)
            elif kind == "audio":
                stream = self.streams.get(sid)
                if stream is not None:
                    self._audio(sid, stream, command[2])
                self.send("ack", sid, len(command[2]))
            elif kind == "modify":
                stream = self.streams.get(sid)
                if stream is not None:
                    stream.decoder = StreamDecoder(command[2])
            elif kind == "finish":
                stream = self.streams.pop(sid, None)
                if stream is not None:
                    self._finish(sid, stream)
                self.send("finished", sid)
            elif kind == "abort":
                self.streams.pop(sid, None)

    def _audio(self, sid: str, stream: _Stream, data: bytes) -> None:
        from parley.errors import BadRequest

        try:
            samples = stream.decoder.decode(data)
        except BadRequest as exc:  # said once per stream: a broken encoder would flood
            if not stream.said_bad_frame:
                stream.said_bad_frame = True
                self.send("error", sid, exc.message)
            return
        self._frames(sid, stream, samples)
        wanted = stream.length - stream.interim_at >= INTERIM_SECONDS * SAMPLE_RATE
        if stream.utterance and wanted and not self.conn.poll():
            stream.interim_at = stream.length
            _, text, no_speech = self._decode(stream, final=False)
            if text and no_speech < _NO_SPEECH:
                self.send("interim", sid, text, stream.start / SAMPLE_RATE)

    def _frames(self, sid: str, stream: _Stream, samples: np.ndarray) -> None:
        block = np.concatenate([stream.pending, samples])
        whole = len(block) - len(block) % self.frame
        stream.pending = block[whole:].copy()
        if not whole:
            return
        frames = block[:whole].reshape(-1, self.frame)
        probs = stream.vad.feed(block[:whole])
        for frame, p in zip(frames, probs, strict=True):
            self._frame(sid, stream, frame.copy(), float(p))

    def _frame(self, sid: str, stream: _Stream, frame: np.ndarray, p: float) -> None:
        stream.unspoken = 0 if p >= _THRESHOLD else stream.unspoken + self.frame
        limit = stream.spec.silence_seconds
        if limit is not None and not stream.said_silent and stream.unspoken >= limit * SAMPLE_RATE:
            stream.said_silent = True
            self.send("silent", sid)
        if not stream.utterance:
            if p >= _THRESHOLD:
                stream.utterance = [*stream.preroll, frame]
                stream.start = stream.seen - self.frame * len(stream.preroll)
                stream.preroll.clear()
                stream.speech_frames, stream.quiet, stream.interim_at = 1, 0, 0
                stream.spoken = stream.length
            else:
                stream.preroll.append(frame)
                if len(stream.preroll) > self.preroll_frames:
                    stream.preroll.popleft()
            stream.seen += self.frame
            return
        stream.utterance.append(frame)
        stream.seen += self.frame
        if p < _LOW:
            stream.quiet += 1
        else:
            stream.quiet = 0
            stream.speech_frames += 1
            stream.spoken = stream.length
        if stream.quiet >= self.quiet_frames:
            self._final(sid, stream)
        elif stream.length >= MAX_UTTERANCE_SECONDS * SAMPLE_RATE:
            self._final(sid, stream)
            stream.utterance = []  # speech goes on: the next frame above the threshold
            # starts the next utterance (no preroll: it is already in this one)

    def _decode(self, stream: _Stream, *, final: bool) -> tuple[list[Word], str, float]:
        """The utterance so far, up to its last speech and a little after: trailing quiet
        is where Whisper invents a closing "Thank you." """
        from parley.pipeline.speech import transcribe_clip

        keep = stream.spoken + int(_TAIL_SECONDS * SAMPLE_RATE)
        return transcribe_clip(
            np.concatenate(stream.utterance)[:keep],
            runtime=self.runtime,
            language=stream.spec.language,
            vocabulary=stream.spec.vocabulary,
            final=final,
        )

    def _final(self, sid: str, stream: _Stream) -> None:
        speech = stream.speech_frames * self.frame / SAMPLE_RATE
        if speech >= _MIN_SPEECH_SECONDS:
            words, text, no_speech = self._decode(stream, final=True)
            offset = stream.start / SAMPLE_RATE
            shifted = tuple(
                Word(
                    text=w.text,
                    start=round(w.start + offset, 3),
                    end=round(w.end + offset, 3),
                    probability=w.probability,
                )
                for w in spoken_words(words)
            )
            text = " ".join(w.text for w in shifted)  # the caption says what the words say
            if shifted and not (no_speech >= _NO_SPEECH and _mean_probability(shifted) < 0.5):
                end = offset + min(stream.length, stream.spoken) / SAMPLE_RATE
                self.send("final", sid, text, shifted, offset, round(end, 3))
        stream.utterance = []
        stream.speech_frames = stream.quiet = stream.interim_at = stream.spoken = 0

    def _finish(self, sid: str, stream: _Stream) -> None:
        """The end of the stream: the resampler's tail, the last frame padded, and the
        utterance under way finalized (a client gone mid-word keeps its words)."""
        try:
            tail = stream.decoder.flush()
        except Exception:  # a decoder that cannot flush has nothing more to give
            tail = np.zeros(0, dtype=np.float32)
        self._frames(sid, stream, np.concatenate([tail, np.zeros(self.frame, dtype=np.float32)]))
        if stream.utterance:
            self._final(sid, stream)


def spoken_words(words: list[Word]) -> list[Word]:
    """The words that say something: Whisper pads an utterance's silent tail with lone
    "."s, which would each become a sentence of their own."""
    return [w for w in words if any(ch.isalnum() for ch in w.text)]


def _mean_probability(words: tuple[Word, ...]) -> float:
    return sum(w.probability for w in words) / len(words)


def _child(
    conn: multiprocessing.connection.Connection, models: Models, logging_: tuple[str, str]
) -> None:
    from parley import logs

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.setup(*logging_)
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        sentinel = parent.sentinel

        def watch() -> None:  # the server gone: leave no orphan holding the models
            multiprocessing.connection.wait([sentinel])
            os._exit(3)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    models.warm(speakers=False)
    conn.send(("ready", ""))
    _Recogniser(conn, models).run()


# -- the API side ---------------------------------------------------------------------------


class _Child:
    """One running child, its pipe and its two threads."""

    def __init__(
        self, models: Models, logging_: tuple[str, str], on_exit: Callable[[], None]
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=_child, args=(child_conn, models, logging_), name="parley-live", daemon=True
        )
        self.process.start()
        child_conn.close()
        self.sinks: dict[str, Sink] = {}
        self.lock = threading.Lock()
        self.outbox: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self.alive = True
        self._on_exit = on_exit
        self.reader = threading.Thread(target=self._read, name="live-engine-read", daemon=True)
        self.writer = threading.Thread(target=self._write, name="live-engine-write", daemon=True)
        self.reader.start()
        self.writer.start()

    def _write(self) -> None:
        while (message := self.outbox.get()) is not None:
            try:
                self.conn.send(message)
            except (OSError, ValueError):
                return

    def _read(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                break
            kind, sid = message[0], message[1]
            if kind == "ready":
                continue
            sink = self.sinks.get(sid)
            if sink is None:
                continue
            if kind == "final":
                event = Event(
                    "final", text=message[2], words=message[3], start=message[4], end=message[5]
                )
            elif kind == "interim":
                event = Event("interim", text=message[2], start=message[3])
            elif kind == "ack":
                event = Event("ack", size=message[2])
            elif kind == "error":
                event = Event("error", text=message[2])
            else:
                event = Event(kind)
                if kind == "finished":
                    with self.lock:
                        self.sinks.pop(sid, None)
            sink(event)
        self._died()

    def _died(self) -> None:
        with self.lock:
            self.alive = False
            sinks, self.sinks = list(self.sinks.values()), {}
        self.outbox.put(None)
        self._on_exit()
        if sinks:
            log.error("the live engine process ended; %d stream(s) lost it", len(sinks))
        for sink in sinks:
            sink(Event("crashed", text="The live recognition engine stopped unexpectedly."))

    def close(self) -> None:
        self.outbox.put(("quit", ""))
        self.outbox.put(None)
        self.process.join(5)  # a child busy with a backlog is not waited for
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(10)
        if self.process.is_alive():  # SIGTERM ignored (stuck in native code)
            self.process.kill()
            self.process.join(10)
        self.conn.close()
        self.reader.join(10)
        self.writer.join(10)
        with contextlib.suppress(ValueError):
            self.process.close()


class Engine:
    """The live recogniser, owned by ``parley.services`` (see module doc)."""

    def __init__(
        self,
        models: Callable[[], Models],
        *,
        log_format: str = "text",
        log_level: str = "INFO",
    ) -> None:
        #: Builds the models' settings when the first stream starts the child (a server
        #: that never streams never builds them).
        self.models = models
        self._logging = (log_format, log_level)
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The child's process id (None before the first stream)."""
        child = self._child
        return child.process.pid if child is not None and child.alive else None

    def open(self, sid: str, spec: StreamSpec, sink: Sink) -> None:
        """Start a stream; ``sink`` is called (from a thread) with each of its events."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the live engine is closed")
            child = self._child
            if child is None or not child.alive:
                child = self._child = _Child(self.models(), self._logging, lambda: None)
            with child.lock:
                if not child.alive:
                    sink(Event("crashed", text="The live recognition engine is not running."))
                    return
                child.sinks[sid] = sink
            child.outbox.put(("open", sid, spec))

    def _send(self, *message: Any) -> None:
        child = self._child
        if child is not None and child.alive:
            child.outbox.put(message)

    def audio(self, sid: str, data: bytes) -> None:
        self._send("audio", sid, data)

    def modify(self, sid: str, fmt: AudioFormat) -> None:
        self._send("modify", sid, fmt)

    def finish(self, sid: str) -> None:
        """Finalize what was heard; a ``finished`` event follows the last final."""
        self._send("finish", sid)

    def abort(self, sid: str) -> None:
        """Forget the stream at once (no more events)."""
        child = self._child
        if child is not None:
            with child.lock:
                child.sinks.pop(sid, None)
        self._send("abort", sid)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
        if child is not None:
            child.close()
