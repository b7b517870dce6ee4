"""One stream's state machine, and the connections streams share.

A ``Session`` is one WebSocket's stream: idle → (``start_request``) listening → audio →
(``stop_request``) stopping → stopped, or closed. It knows nothing of HTTP: the route
hands it text and binary frames and gives it a ``Transport`` to answer on.

A ``Connection`` is one ``connectionId``: the conversation, the sockets on it (one speaker
each, symbl-streaming.md §4) and the per-type sequence numbers. Finalized results (message,
insight, topic and tracker responses) go to every socket of the connection; interim
captions only to the speaker's own.

Ordering (§6.10): ``started_listening``, ``conversation_created``, ``recognition_started``
after a start; on stop every final, its ``message_response`` and the insights it caused
are sent, then ``conversation_completed``, then ``recognition_stopped``, then close 1000
(unless ``disconnectOnStopRequest`` is false: the socket stays, a new start resumes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from parley import ids
from parley.conversations import InsightModels
from parley.errors import BadRequest, NotFound, ParleyError
from parley.live import conversation, present
from parley.live.audio import check_format
from parley.live.engine import Engine, Event, StreamSpec
from parley.options import JobOptions
from parley.pipeline.sentences import split_sentences
from parley.storage import Storage
from parley_client.wire import LIMITS
from parley_client.wire.streaming import (
    PING,
    PONG,
    ModifyRequest,
    StartRequest,
    StopRequest,
    parse_client_text,
)

__all__ = [
    "CLOSE_DELETED",
    "CLOSE_ENGINE",
    "CLOSE_IDLE",
    "CLOSE_NORMAL",
    "CLOSE_POLICY",
    "CLOSE_TOO_BIG",
    "Connection",
    "Live",
    "OtherApp",
    "Session",
    "TooManyStreams",
    "Transport",
    "Watcher",
]

log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 1009
CLOSE_POLICY = 1008
CLOSE_ENGINE = 1011
#: The conversation was deleted under the stream (an application code: a client must not
#: reconnect to it, and js-sdk reconnects only on 1005/3006).
CLOSE_DELETED = 4404
#: Nothing came from the client for ``Live.idle_seconds``.
CLOSE_IDLE = 4408

#: Raw audio a stream may have sent to the engine and not yet had processed; past it the
#: server stops reading the socket until the engine catches up (TCP pushes back).
MAX_IN_FLIGHT = 1 << 20


class OtherApp(ParleyError):
    """The connection id is live for another app."""

    status = 403


class TooManyStreams(ParleyError):
    """The app has as many sockets open as it may (Symbl's concurrency answer)."""

    status = 429


class Transport(Protocol):
    """How a session answers: the route's WebSocket, translated."""

    async def send_json(self, frame: dict[str, Any]) -> None: ...

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


@dataclass
class Connection:
    """One ``connectionId``: its conversation and the sessions on it."""

    key: str
    app_id: str
    conversation_id: str
    origin: datetime
    options: JobOptions
    wanted: frozenset[str]
    clock: float = field(default_factory=time.monotonic)
    sessions: set[Session] = field(default_factory=set)
    #: The Subscribe API's listeners of this connection id (shared with ``Live``).
    watchers: set[Watcher] = field(default_factory=set)
    sequences: Counter[str] = field(default_factory=Counter)
    sent_topics: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)
    insight_task: asyncio.Task[None] | None = None
    expiry: asyncio.TimerHandle | None = None

    def next(self, kind: str) -> int:
        self.sequences[kind] += 1
        return self.sequences[kind]

    async def broadcast(self, frame: dict[str, Any]) -> None:
        for session in list(self.sessions):
            await session.send(frame)
        await self.watch(frame)

    async def watch(self, frame: dict[str, Any]) -> None:
        """Send a frame to the connection's subscribers of the same app."""
        for watcher in list(self.watchers):
            if watcher.app_id == self.app_id:
                await watcher.send(frame)

    async def settled(self) -> None:
        """Every insight update asked for so far has been sent."""
        while self.insight_task is not None and not self.insight_task.done():
            await asyncio.shield(self.insight_task)


class Live:
    """Every live connection of this API process (owned by ``parley.services``)."""

    def __init__(
        self,
        storage: Storage,
        engine: Engine,
        insight: InsightModels,
        *,
        max_streams: int = 50,
        idle_seconds: float = 1800.0,
        silence_seconds: float = 1800.0,
    ) -> None:
        self.storage = storage
        self.engine = engine
        self.insight = insight
        self.max_streams = max_streams
        #: A socket that sends nothing this long is closed (``Session.on_idle``).
        self.idle_seconds = idle_seconds
        #: A stream whose audio holds no speech this long is closed (the engine says so).
        self.silence_seconds = silence_seconds
        self.connections: dict[str, Connection] = {}
        self._starting: dict[str, asyncio.Lock] = {}
        self._open: Counter[str] = Counter()
        self.watchers: dict[str, set[Watcher]] = {}

    def admit(self, app_id: str) -> None:
        """Count one more open socket of the app; TooManyStreams past its limit."""
        if self._open[app_id] >= self.max_streams:
            raise TooManyStreams(
                f"This API has a limit of maximum of {self.max_streams} number of concurrent "
                "streams per account. Close a stream, or raise PARLEY_MAX_CONCURRENT_STREAMS."
            )
        self._open[app_id] += 1

    def release(self, app_id: str) -> None:
        self._open[app_id] -= 1
        if self._open[app_id] <= 0:
            del self._open[app_id]

    def check(self, key: str, app_id: str) -> None:
        """OtherApp when the connection id is live for another app."""
        found = self.connections.get(key)
        if found is not None and found.app_id != app_id:
            raise OtherApp("This connectionId is in use by another app.")

    def session(self, key: str, app_id: str, transport: Transport) -> Session:
        return Session(self, key, app_id, transport)

    async def connect(self, key: str, app_id: str, request: StartRequest) -> Connection:
        """The connection's conversation, created by its first start."""
        lock = self._starting.setdefault(key, asyncio.Lock())
        async with lock:
            found = self.connections.get(key)
            if found is not None:
                self.check(key, app_id)
                if found.expiry is not None:
                    found.expiry.cancel()
                    found.expiry = None
                return found
            options = conversation.job_options(request)
            conversation_id, origin = await asyncio.to_thread(
                conversation.start, self.storage, app_id=app_id, options=options
            )
            found = Connection(
                key=key,
                app_id=app_id,
                conversation_id=conversation_id,
                origin=origin,
                options=options,
                wanted=request.wanted_insights,
                watchers=self.watchers.setdefault(key, set()),
            )
            self.connections[key] = found
            await found.watch(present.control("conversation_created", conversation_id))
            return found

    async def subscribe(self, key: str, watcher: Watcher) -> None:
        """A Subscribe API listener: told the conversation id now if the connection is
        live (else when it starts), then sent what its speakers' sockets are sent."""
        self.watchers.setdefault(key, set()).add(watcher)
        found = self.connections.get(key)
        if found is not None and found.app_id == watcher.app_id:
            await watcher.send(present.control("conversation_created", found.conversation_id))

    def unsubscribe(self, key: str, watcher: Watcher) -> None:
        watchers = self.watchers.get(key)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers and key not in self.connections:
                del self.watchers[key]

    def leave(self, connection: Connection, session: Session, keep: float) -> None:
        """A session is done with the connection; the last one lets it go after ``keep``
        seconds (``noConnectionTimeout``: a reconnect within it rejoins the conversation)."""
        connection.sessions.discard(session)
        if connection.sessions or self.connections.get(connection.key) is not connection:
            return
        if keep <= 0:
            self._forget(connection)
        else:
            loop = asyncio.get_running_loop()
            connection.expiry = loop.call_later(keep, self._forget, connection)

    def _forget(self, connection: Connection) -> None:
        if not connection.sessions and self.connections.get(connection.key) is connection:
            del self.connections[connection.key]
            self._starting.pop(connection.key, None)
            if not self.watchers.get(connection.key):
                self.watchers.pop(connection.key, None)

    def ask_insights(self, connection: Connection, new_ids: set[str]) -> None:
        """Recompute the insights for these new sentences (updates coalesce: one runs at a
        time per connection, the next covers every sentence finalized meanwhile)."""
        connection.dirty |= new_ids
        if connection.insight_task is None or connection.insight_task.done():
            connection.insight_task = asyncio.create_task(self._insights(connection))

    async def _insights(self, connection: Connection) -> None:
        while connection.dirty:
            new_ids, connection.dirty = connection.dirty, set()
            try:
                result = await asyncio.to_thread(
                    conversation.update_insights,
                    self.storage,
                    conversation_id=connection.conversation_id,
                    insight=self.insight,
                )
            except NotFound:
                return  # the stream that stores next ends itself with the reason
            except Exception:
                log.exception("live insights failed for %s", connection.conversation_id)
                return
            frames = [
                present.insight_response(
                    connection.sequences["insight_response"] + 1,
                    result,
                    new_ids=new_ids,
                    wanted=connection.wanted,
                ),
                present.topic_response(
                    connection.sequences["topic_response"] + 1,
                    result,
                    sent=connection.sent_topics,
                ),
                present.tracker_response(
                    connection.sequences["tracker_response"] + 1, result, new_ids=new_ids
                ),
            ]
            for frame in frames:
                if frame is not None:
                    connection.next(frame["type"])
                    await connection.broadcast(frame)
            connection.sent_topics.update(str(t["id"]) for t in result.topics)


class Watcher:
    """A Subscribe API socket (``/v1/subscribe/{id}``): it only listens."""

    def __init__(self, app_id: str, transport: Transport) -> None:
        self.app_id = app_id
        self.transport = transport
        self.closed = False

    async def send(self, frame: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            await self.transport.send_json(frame)
        except Exception:  # the listener is gone; its route ends it
            self.closed = True


class Session:
    """One socket's stream (see module doc)."""

    def __init__(self, live: Live, key: str, app_id: str, transport: Transport) -> None:
        self.live = live
        self.key = key
        self.app_id = app_id
        self.transport = transport
        self.id = ids.uuid_id()  # the stream's id: the "job" its messages belong to
        self.connection: Connection | None = None
        self.member: conversation.LiveMember | None = None
        self.user: dict[str, Any] = {}
        self.request: StartRequest | None = None
        self.listening = False
        self.closed = False
        self.offset = 0.0  # where this stream's clock starts in the conversation
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._finished: asyncio.Event | None = None
        self._in_flight = 0
        self._drained = asyncio.Event()
        self._drained.set()
        self._warned_early = False
        self._keep = 0.0
        self.label = ""  # the member's label (one per speaker of the conversation)

    # -- output ---------------------------------------------------------------------------

    async def send(self, frame: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            await self.transport.send_json(frame)
        except Exception:  # the client is gone; its end comes through the route
            self.closed = True

    async def fail(self, code: int, reason: str, *, close: int | None = None) -> None:
        """An error frame; with ``close``, the socket closed with that code and reason."""
        await self.send(present.error(code, reason))
        if close is not None:
            await self.close(close, reason)

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            await self.transport.close(code, reason[:120])

    # -- input ----------------------------------------------------------------------------

    async def on_text(self, text: str) -> None:
        if text == PING:
            with contextlib.suppress(Exception):
                await self.transport.send_text(PONG)
            return
        if len(text.encode("utf-8", "surrogatepass")) > LIMITS["stream_json_bytes"]:
            reason = f"A text message may be at most {LIMITS['stream_json_bytes']} bytes."
            await self.fail(413, reason, close=CLOSE_TOO_BIG)
            return
        try:
            body = parse_client_text(text)
        except ValueError as exc:
            await self.fail(400, str(exc))
            return
        kind = body.get("type")
        try:
            if kind == "start_request":
                await self._start(StartRequest.model_validate(body))
            elif kind in ("stop_request", "stop_recognition"):
                StopRequest.model_validate(body)
                await self._stop()
            elif kind == "modify_request":
                await self._modify(ModifyRequest.model_validate(body))
            else:
                await self.fail(400, f"Unknown message type {str(kind)[:64]!r}.")
        except ValidationError as exc:
            await self.fail(400, _problems(exc))
        except BadRequest as exc:
            await self.fail(400, exc.message)
        except ParleyError as exc:  # another app took the id meanwhile; storage full
            await self.fail(exc.status, exc.message, close=CLOSE_POLICY)

    async def on_bytes(self, data: bytes) -> None:
        if len(data) > LIMITS["stream_frame_bytes"]:
            reason = f"An audio frame may be at most {LIMITS['stream_frame_bytes']} bytes."
            await self.fail(413, reason, close=CLOSE_TOO_BIG)
            return
        if not self.listening:
            if not self._warned_early:  # ignored, as Symbl did; said once
                self._warned_early = True
                await self.fail(400, "Audio before start_request is ignored.")
            return
        self._in_flight += len(data)
        if self._in_flight > MAX_IN_FLIGHT:
            self._drained.clear()
        self.live.engine.audio(self.id, data)
        await self._drained.wait()

    async def on_idle(self) -> None:
        """Nothing came for ``idle_seconds``: the socket is closed, with the reason
        (what was heard is finalized and kept by ``on_disconnect``, as for any end)."""
        seconds = f"{self.live.idle_seconds:g}"
        await self.fail(408, f"Nothing was received for {seconds} s.", close=CLOSE_IDLE)

    async def on_disconnect(self) -> None:
        """The socket is gone (the client left, or it was closed): finalize what was
        heard, store it, and leave the connection. Nothing heard is lost."""
        self.closed = True
        if self.listening:
            await self._flush()
        await self._end()

    # -- states ---------------------------------------------------------------------------

    async def _start(self, request: StartRequest) -> None:
        if self.listening:
            await self.fail(400, "The stream is already started; send stop_request first.")
            return
        fmt = check_format(request.encoding, request.sample_rate)
        connection = self.connection or await self.live.connect(self.key, self.app_id, request)
        speaker = request.speaker
        if self.member is None:
            extra = dict(speaker.model_extra or {}) if speaker else {}
            user_id = speaker.user_id if speaker else None
            name = (speaker.name if speaker else None) or user_id or f"Speaker {self.id[:8]}"
            self.label = f"live:{user_id or self.id}"
            try:
                self.member = await asyncio.to_thread(
                    conversation.join,
                    self.live.storage,
                    conversation_id=connection.conversation_id,
                    stream_id=self.id,
                    label=self.label,
                    name=name,
                    email=user_id if user_id and "@" in user_id else None,
                )
            except NotFound as exc:
                await self.fail(404, exc.message, close=CLOSE_DELETED)
                return
            self.user = {**extra, "userId": user_id, "name": name, "id": self.member.id}
            self.user = {k: v for k, v in self.user.items() if v is not None}
        self.connection = connection
        connection.sessions.add(self)
        self.request = request
        timeout = request.no_connection_timeout
        self._keep = float(timeout) if isinstance(timeout, int) and timeout is not True else 0.0
        self._keep = min(max(self._keep, 0.0), 1800.0)
        self.offset = time.monotonic() - connection.clock
        language = (request.config.language_code or "en-US").split("-")[0].lower() or None
        spec = StreamSpec(
            format=fmt,
            language=language,
            vocabulary=tuple(request.custom_vocabulary or ()),
            silence_seconds=self.live.silence_seconds,
        )
        self._finished = asyncio.Event()
        if self._task is None:
            self._task = asyncio.create_task(self._consume())
        loop = asyncio.get_running_loop()

        def sink(event: Event) -> None:  # called from the engine's reader thread
            with contextlib.suppress(RuntimeError):  # the loop is closed: the server stopped
                loop.call_soon_threadsafe(self._put, event)

        self.live.engine.open(self.id, spec, sink)
        self.listening = True
        cid = connection.conversation_id
        await self.send(present.control("started_listening"))
        await self.send(present.control("conversation_created", cid))
        await self.send(present.control("recognition_started", cid))

    def _put(self, event: Event) -> None:
        self._events.put_nowait(event)

    async def _modify(self, request: ModifyRequest) -> None:
        if not self.listening or self.request is None:
            await self.fail(400, "modify_request needs a started stream.")
            return
        nested = request.speech_recognition
        fmt = check_format(
            nested.encoding or self.request.encoding,
            nested.sample_rate_hertz or self.request.sample_rate,
        )
        self.live.engine.modify(self.id, fmt)
        speech = {"encoding": fmt.encoding, "sampleRateHertz": fmt.sample_rate}
        message = {"type": "session_modified", "speechRecognition": speech}
        await self.send({"type": "message", "message": message})

    async def _stop(self) -> None:
        if not self.listening or self.connection is None:
            await self.send(present.control("recognition_stopped"))
            return
        connection = self.connection
        await self._flush()
        if self.closed:  # ended while flushing (the conversation deleted, the engine died)
            return
        await connection.settled()
        if not await asyncio.to_thread(
            conversation.exists, self.live.storage, connection.conversation_id
        ):
            await self.fail(404, conversation.DELETED, close=CLOSE_DELETED)
            return
        await self.send(present.control("conversation_completed", connection.conversation_id))
        await self.send(present.control("recognition_stopped"))
        if self.request is None or self.request.disconnect_on_stop_request:
            await self.close(CLOSE_NORMAL, "The stream was stopped.")

    async def _flush(self) -> None:
        """Have the engine finalize what it holds, and wait until every final is
        stored and sent."""
        self.listening = False
        self._drained.set()
        finished = self._finished
        self.live.engine.finish(self.id)
        if finished is not None:
            await finished.wait()

    async def _end(self) -> None:
        self.listening = False
        self.live.engine.abort(self.id)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        connection = self.connection
        if connection is not None:
            await connection.settled()
            self.live.leave(connection, self, self._keep)

    # -- the engine's events --------------------------------------------------------------

    async def _consume(self) -> None:
        while True:
            event = await self._events.get()
            try:
                await self._event(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live stream %s: event %s failed", self.id, event.kind)

    async def _event(self, event: Event) -> None:
        if event.kind == "ack":
            self._in_flight -= event.size
            if self._in_flight <= MAX_IN_FLIGHT:
                self._drained.set()
        elif event.kind == "interim":
            if self._interim_wanted():
                frame = present.recognition_result(
                    text=event.text, words=(), final=False, user=self.user, start=event.start
                )
                await self.send(frame)
                if self.connection is not None:
                    await self.connection.watch(frame)
        elif event.kind == "final":
            await self._final(event)
        elif event.kind == "error":
            await self.fail(400, event.text)
        elif event.kind == "silent":  # Symbl ended a meeting silent for 30 minutes
            seconds = f"{self.live.silence_seconds:g}"
            await self.fail(408, f"No speech was heard for {seconds} s.", close=CLOSE_IDLE)
        elif event.kind == "crashed":
            self.listening = False
            self._release()
            await self.fail(500, event.text, close=CLOSE_ENGINE)
        elif event.kind == "finished":
            self._release()

    def _release(self) -> None:
        self._drained.set()
        if self._finished is not None:
            self._finished.set()

    def _interim_wanted(self) -> bool:
        request = self.request
        if request is None:
            return True
        nested = request.config.speech_recognition
        flag = nested.interim_results if nested else None
        if flag is None:
            flag = request.config.interim_results
        return flag is not False

    async def _final(self, event: Event) -> None:
        connection, member = self.connection, self.member
        if connection is None or member is None:
            return
        frame = present.recognition_result(
            text=event.text, words=event.words, final=True, user=self.user, start=event.start
        )
        await self.send(frame)
        await connection.watch(frame)
        sentences = split_sentences(list(event.words))
        try:
            stored = await asyncio.to_thread(
                conversation.store_sentences,
                self.live.storage,
                conversation_id=connection.conversation_id,
                stream_id=self.id,
                member=member,
                label=self.label,
                sentences=sentences,
                offset=self.offset,
                heard=max(event.end - event.start, 0.0),
            )
        except NotFound as exc:
            self.listening = False
            self.live.engine.abort(self.id)
            self._release()
            await self.fail(404, exc.message, close=CLOSE_DELETED)
            return
        except Exception:  # the database refused it (locked, full): say so, go on
            log.exception("live stream %s: a final could not be stored", self.id)
            await self.fail(500, "A final result could not be stored; the stream goes on.")
            return
        sender = {"id": member.id, "name": member.name, "userId": member.user_id}
        frame = present.message_response(
            connection.next("message_response"),
            stored,
            sender={k: v for k, v in sender.items() if v is not None},
            origin=connection.origin,
            timezone_offset=connection.options.timezone_offset,
        )
        await connection.broadcast(frame)
        self.live.ask_insights(connection, {s.id for s in stored})


def _problems(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ())) or "message"
        parts.append(f'"{where}" {error.get("msg", "is invalid")}')
    return "; ".join(parts)
