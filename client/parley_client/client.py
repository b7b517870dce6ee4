"""A Python client for a Parley server (it speaks Symbl's REST API, plus Parley's extensions).

Five lines process a file and print its action items::

    from parley_client import Parley
    parley = Parley("http://127.0.0.1:8000", app_id="demo", app_secret="demo-secret")
    job = parley.wait(parley.submit("call.wav", enableSpeakerDiarization=True), on_progress=print)
    for item in parley.action_items(job.conversation_id):
        print(item.text, item.assignee.name if item.assignee else "")

Options keep the API's own names (``enableSpeakerDiarization``, ``diarizationSpeakerCount``,
``customVocabulary``...); booleans, lists and objects are encoded for you. Errors raise
``ParleyError`` subclasses that say what a script can act on: ``AuthError``,
``BadRequestError``, ``NotFoundError``, ``Unreachable``, ``JobFailed``.
"""

from __future__ import annotations

import json
import mimetypes
import os
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import httpx

__all__ = [
    "ActionItem",
    "AuthError",
    "BadRequestError",
    "Conversation",
    "Experience",
    "Insight",
    "Job",
    "JobFailed",
    "Member",
    "Message",
    "NotFoundError",
    "Parley",
    "ParleyError",
    "Topic",
    "Unreachable",
    "Word",
    "load_config",
]

DEFAULT_SERVER = "http://127.0.0.1:8000"
CONFIG_PATH = Path("~/.config/parley/client.toml")
_CHUNK = 1024 * 1024
_VIDEO = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")


# -- errors -----------------------------------------------------------------------------


class ParleyError(Exception):
    """The server said no, or could not be asked. ``status`` is the HTTP status (0: none)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AuthError(ParleyError):
    """Missing, wrong or expired credentials (401)."""


class BadRequestError(ParleyError):
    """The request was refused as invalid (400, 413, 416, 429)."""


class NotFoundError(ParleyError):
    """No such conversation, job or member (404)."""


class Unreachable(ParleyError):
    """The server could not be reached (connection refused, timeout, DNS)."""


class JobFailed(ParleyError):
    """A job ended ``failed``; ``job.reason`` says why."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"Job {job.id} failed: {job.reason or 'no reason given'}")
        self.job = job


# -- results ----------------------------------------------------------------------------


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass(frozen=True)
class Job:
    id: str
    status: str  # scheduled | in_progress | completed | failed
    conversation_id: str
    progress: float = 0.0
    reason: str | None = None
    name: str | None = None
    created_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed")

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Job:
        return cls(
            id=body["id"],
            status=body["status"],
            conversation_id=body.get("conversationId", ""),
            progress=float(body.get("progress") or 0.0),
            reason=body.get("reason"),
            name=body.get("name"),
            created_at=_time(body.get("createdAt")),
        )


@dataclass(frozen=True)
class Member:
    id: str | None
    name: str
    email: str | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any] | None) -> Member | None:
        if not body or not body.get("name"):
            return None
        return cls(body.get("id"), body["name"], body.get("email") or body.get("userId"))


@dataclass(frozen=True)
class Word:
    word: str
    start_time: datetime | None
    end_time: datetime | None
    time_offset: float
    duration: float
    score: float | None = None


@dataclass(frozen=True)
class Message:
    id: str
    text: str
    speaker: Member | None
    start_time: datetime | None
    end_time: datetime | None
    time_offset: float
    duration: float
    words: list[Word] = field(default_factory=list)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Message:
        return cls(
            id=body["id"],
            text=body["text"],
            speaker=Member.from_json(body.get("from")),
            start_time=_time(body.get("startTime")),
            end_time=_time(body.get("endTime")),
            time_offset=float(body.get("timeOffset") or 0.0),
            duration=float(body.get("duration") or 0.0),
            words=[
                Word(
                    w["word"],
                    _time(w.get("startTime")),
                    _time(w.get("endTime")),
                    float(w.get("timeOffset") or 0.0),
                    float(w.get("duration") or 0.0),
                    w.get("score"),
                )
                for w in body.get("words") or []
            ],
        )


@dataclass(frozen=True)
class Conversation:
    id: str
    name: str
    type: str
    start_time: datetime | None
    end_time: datetime | None
    members: list[Member]
    metadata: dict[str, str]
    matches: list[Message] = field(default_factory=list)  # search results only

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Conversation:
        return cls(
            id=body["id"],
            name=body.get("name", body["id"]),
            type=body.get("type", "meeting"),
            start_time=_time(body.get("startTime")),
            end_time=_time(body.get("endTime")),
            members=[m for m in map(Member.from_json, body.get("members") or []) if m],
            metadata=dict(body.get("metadata") or {}),
            matches=[Message.from_json(m) for m in body.get("matches") or []],
        )


@dataclass(frozen=True)
class Insight:
    """A question, follow-up or summary point (the raw JSON is kept in ``raw``)."""

    id: str
    text: str
    type: str
    score: float | None
    message_ids: list[str]
    speaker: Member | None
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Insight:
        ids = list(body.get("messageIds") or [r["id"] for r in body.get("messageRefs") or []])
        return cls(
            id=str(body.get("id", "")),
            text=body.get("text", ""),
            type=body.get("type", ""),
            score=body.get("score"),
            message_ids=ids,
            speaker=Member.from_json(body.get("from")),
            raw=body,
        )


@dataclass(frozen=True)
class ActionItem(Insight):
    assignee: Member | None = None
    due_by: datetime | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ActionItem:
        base = Insight.from_json(body)
        return cls(
            **{k: getattr(base, k) for k in base.__dataclass_fields__},
            assignee=Member.from_json(body.get("assignee")),
            due_by=_time(body.get("dueBy")),
        )


@dataclass(frozen=True)
class Topic:
    id: str
    text: str
    score: float | None
    message_ids: list[str]
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Topic:
        return cls(
            str(body.get("id", "")),
            body.get("text", ""),
            body.get("score"),
            list(body.get("messageIds") or []),
            body,
        )


@dataclass(frozen=True)
class Experience:
    name: str
    url: str


# -- configuration ------------------------------------------------------------------------


def load_config(path: str | Path | None = None) -> dict[str, str]:
    """Server and credentials: the config file, then the environment (which wins).

    The file (``$PARLEY_CONFIG`` or ``~/.config/parley/client.toml``) may hold
    ``server``, ``app_id``, ``app_secret`` and ``token``; the environment
    ``PARLEY_SERVER``, ``PARLEY_APP_ID``, ``PARLEY_APP_SECRET``, ``PARLEY_TOKEN``.
    """
    config: dict[str, str] = {}
    where = Path(path or os.environ.get("PARLEY_CONFIG") or CONFIG_PATH).expanduser()
    if where.is_file():
        with where.open("rb") as handle:
            data = tomllib.load(handle)
        config |= {
            k: str(v) for k, v in data.items() if k in ("server", "app_id", "app_secret", "token")
        }
    for key in ("server", "app_id", "app_secret", "token"):
        value = os.environ.get(f"PARLEY_{key.upper()}")
        if value:
            config[key] = value
    return config


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return json.dumps(list(value) if isinstance(value, tuple) else value)
    return str(value)


# -- the client ---------------------------------------------------------------------------


class Parley:
    """Typed methods for the server's endpoints. Use as a context manager, or ``close()``."""

    def __init__(
        self,
        server: str | None = None,
        *,
        app_id: str | None = None,
        app_secret: str | None = None,
        token: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.server = (server or DEFAULT_SERVER).rstrip("/")
        self._app = (app_id, app_secret) if app_id and app_secret else None
        self._token = token
        self._http = httpx.Client(base_url=self.server, timeout=timeout)

    @classmethod
    def from_config(cls, server: str | None = None, *, config: str | Path | None = None) -> Parley:
        """A client from ``load_config`` (an explicit ``server`` wins)."""
        found = load_config(config)
        return cls(
            server or found.get("server"),
            app_id=found.get("app_id"),
            app_secret=found.get("app_secret"),
            token=found.get("token"),
        )

    def __enter__(self) -> Parley:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plumbing ------------------------------------------------------------------------

    def token(self, *, refresh: bool = False) -> str:
        """The access token: the one given, or one generated from the app credentials."""
        if self._token and not refresh:
            return self._token
        if self._app is None:
            if self._token:
                return self._token
            raise AuthError("No credentials: give app_id/app_secret or a token.", 401)
        body = self._send(
            "POST",
            "/oauth2/token:generate",
            auth=False,
            json={"type": "application", "appId": self._app[0], "appSecret": self._app[1]},
        ).json()
        self._token = str(body["accessToken"])
        return self._token

    def _send(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise Unreachable(f"Cannot reach {self.server}: {exc}") from None
        if (
            response.status_code == 401
            and auth
            and self._app is not None
            and "content" not in kwargs
        ):
            headers["Authorization"] = f"Bearer {self.token(refresh=True)}"  # expired: once more
            try:
                response = self._http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                raise Unreachable(f"Cannot reach {self.server}: {exc}") from None
        if not response.is_success:
            self._raise_for(response)
        return response

    def _get(self, path: str, **params: Any) -> Any:
        return self._send(
            "GET", path, params={k: v for k, v in params.items() if v is not None}
        ).json()

    def _conv(self, conversation_id: str, tail: str = "") -> str:
        return f"/v1/conversations/{conversation_id}{tail}"

    # -- async API -----------------------------------------------------------------------

    def submit(
        self,
        path: str | Path,
        *,
        conversation_id: str | None = None,
        on_upload: Callable[[int, int], None] | None = None,
        **options: Any,
    ) -> Job:
        """Upload a file (streamed, never read whole into memory) and return its job.

        ``conversation_id`` appends to an existing conversation; ``on_upload(sent, total)``
        reports upload progress; other keywords are Async API options.
        """
        source = Path(path)
        if not source.is_file():
            raise BadRequestError(f"No such file: {source}", 0)
        size = source.stat().st_size
        kind = "video" if source.suffix.lower() in _VIDEO else "audio"
        mime = mimetypes.guess_type(source.name)[0] or ""
        content_type = mime if mime.startswith(("audio/", "video/")) else "application/octet-stream"

        def chunks(handle: BinaryIO) -> Iterator[bytes]:
            sent = 0
            while chunk := handle.read(_CHUNK):
                sent += len(chunk)
                yield chunk
                if on_upload:
                    on_upload(sent, size)

        url = f"/v1/process/{kind}" + (f"/{conversation_id}" if conversation_id else "")
        with source.open("rb") as handle:
            body = self._send(
                "PUT" if conversation_id else "POST",
                url,
                params={k: _encode(v) for k, v in options.items()},
                content=chunks(handle),
                headers={"Content-Type": content_type, "Content-Length": str(size)},
            ).json()
        return Job(body["jobId"], "scheduled", body["conversationId"])

    def submit_url(self, url: str, *, conversation_id: str | None = None, **options: Any) -> Job:
        """Have the server fetch a recording from ``url``."""
        kind = "video" if Path(url.split("?")[0]).suffix.lower() in _VIDEO else "audio"
        path = f"/v1/process/{kind}/url" + (f"/{conversation_id}" if conversation_id else "")
        body = self._send(
            "PUT" if conversation_id else "POST", path, json={"url": url, **options}
        ).json()
        return Job(body["jobId"], "scheduled", body["conversationId"])

    def submit_text(
        self, messages: list[dict[str, Any]], *, conversation_id: str | None = None, **options: Any
    ) -> Job:
        """Process chat messages: ``[{"payload": {"content": ...}, "from": {...}}]``."""
        path = "/v1/process/text" + (f"/{conversation_id}" if conversation_id else "")
        body = self._send(
            "PUT" if conversation_id else "POST", path, json={"messages": messages, **options}
        ).json()
        return Job(body["jobId"], "scheduled", body["conversationId"])

    def job(self, job: Job | str) -> Job:
        return Job.from_json(self._get(f"/v1/job/{job.id if isinstance(job, Job) else job}"))

    def jobs(self, limit: int = 50) -> list[Job]:
        """The app's recent jobs, newest first (a Parley extension)."""
        return [Job.from_json(j) for j in self._get("/v1/jobs", limit=limit)["jobs"]]

    def wait(
        self,
        job: Job | str,
        *,
        on_progress: Callable[[Job], None] | None = None,
        interval: float = 1.0,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> Job:
        """Poll until the job is done; ``on_progress(job)`` is called whenever it changes.

        A failed job raises ``JobFailed`` (or is returned, with ``raise_on_failure=False``);
        ``timeout`` seconds without finishing raise ``TimeoutError``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        last: tuple[str, float] | None = None
        while True:
            current = self.job(job)
            if on_progress and (current.status, current.progress) != last:
                on_progress(current)
            last = (current.status, current.progress)
            if current.done:
                if current.status == "failed" and raise_on_failure:
                    raise JobFailed(current)
                return current
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {current.id} still {current.status} after {timeout}s")
            time.sleep(interval)

    # -- conversations -------------------------------------------------------------------

    def conversations(
        self, *, limit: int = 20, offset: int = 0, order: str = "desc", **filters: Any
    ) -> list[Conversation]:
        """List conversations (``startTime``, ``endTime``, ``sort``, ``filter`` as keywords)."""
        body = self._get("/v1/conversations", limit=limit, offset=offset, order=order, **filters)
        return [Conversation.from_json(c) for c in body["conversations"]]

    def search(self, query: str, *, limit: int = 20, offset: int = 0) -> list[Conversation]:
        """Conversations whose name or words said match, with the matching sentences."""
        body = self._get("/v1/conversations", query=query, limit=limit, offset=offset)
        return [Conversation.from_json(c) for c in body["conversations"]]

    def conversation(self, conversation_id: str) -> Conversation:
        return Conversation.from_json(self._get(self._conv(conversation_id)))

    def update_metadata(self, conversation_id: str, metadata: dict[str, str]) -> dict[str, str]:
        body = self._send("PUT", self._conv(conversation_id), json={"metadata": metadata}).json()
        return dict(body["metadata"])

    def delete(self, conversation_id: str) -> None:
        self._send("DELETE", self._conv(conversation_id))

    def messages(
        self, conversation_id: str, *, verbose: bool = True, sentiment: bool = False
    ) -> list[Message]:
        body = self._get(
            self._conv(conversation_id, "/messages"),
            verbose=_encode(verbose),
            sentiment=_encode(sentiment),
        )
        return [Message.from_json(m) for m in body["messages"]]

    def members(self, conversation_id: str) -> list[Member]:
        body = self._get(self._conv(conversation_id, "/members"))
        return [m for m in map(Member.from_json, body["members"]) if m]

    def update_member(
        self, conversation_id: str, member_id: str, name: str, email: str | None = None
    ) -> None:
        """Rename a speaker (insights are recomputed with the new name)."""
        body: dict[str, Any] = {"id": member_id, "name": name}
        if email:
            body["email"] = email
        self._send("PUT", self._conv(conversation_id, f"/members/{member_id}"), json=body)

    def speaker_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Symbl's ``PUT .../speakers``: attribute sentences by who spoke when."""
        self._send("PUT", self._conv(conversation_id, "/speakers"), json={"speakerEvents": events})

    def transcript(self, conversation_id: str, content_type: str = "text/markdown") -> str:
        """The formatted transcript: ``text/markdown``, ``text/srt`` or ``text/vtt``."""
        body = self._get(self._conv(conversation_id, "/transcript"), contentType=content_type)
        return str(body["transcript"]["payload"])

    # -- insights ------------------------------------------------------------------------

    def questions(self, conversation_id: str) -> list[Insight]:
        body = self._get(self._conv(conversation_id, "/questions"))
        return [Insight.from_json(i) for i in body["questions"]]

    def action_items(self, conversation_id: str) -> list[ActionItem]:
        body = self._get(self._conv(conversation_id, "/action-items"))
        return [ActionItem.from_json(i) for i in body["actionItems"]]

    def follow_ups(self, conversation_id: str) -> list[ActionItem]:
        body = self._get(self._conv(conversation_id, "/follow-ups"))
        return [ActionItem.from_json(i) for i in body["followUps"]]

    def summary(self, conversation_id: str, *, refresh: bool = False) -> list[Insight]:
        body = self._get(self._conv(conversation_id, "/summary"), refresh=_encode(refresh))
        return [Insight.from_json(i) for i in body["summary"]]

    def topics(self, conversation_id: str) -> list[Topic]:
        body = self._get(self._conv(conversation_id, "/topics"))
        return [Topic.from_json(t) for t in body["topics"]]

    def entities(self, conversation_id: str) -> list[dict[str, Any]]:
        return list(self._get(self._conv(conversation_id, "/entities"))["entities"])

    def trackers(self, conversation_id: str) -> list[dict[str, Any]]:
        return list(self._get(self._conv(conversation_id, "/trackers")))

    def analytics(self, conversation_id: str) -> dict[str, Any]:
        return dict(self._get(self._conv(conversation_id, "/analytics")))

    def refresh(self, conversation_id: str, **options: Any) -> None:
        """Recompute insights from the stored sentences (a Parley extension)."""
        self._send("POST", self._conv(conversation_id, "/refresh"), json=options or None)

    # -- pages and media -----------------------------------------------------------------

    def experience(
        self, conversation_id: str, name: str = "verbose-text-summary", **options: Any
    ) -> Experience:
        """A shareable page (``summaryURLExpiresIn``, ``readOnly``, ``logo``, ``color``...)."""
        body = self._send(
            "POST", self._conv(conversation_id, "/experiences"), json={"name": name, **options}
        ).json()
        return Experience(body["name"], body["url"])

    def media(self, conversation_id: str) -> list[dict[str, Any]]:
        """The stored files on the conversation's timeline (a Parley extension)."""
        return list(self._get(self._conv(conversation_id, "/media"))["media"])

    def download_media(self, conversation_id: str, job_id: str, target: str | Path) -> Path:
        """Save one stored file, streamed."""
        path = self._conv(conversation_id, f"/media/{job_id}")
        headers = {"Authorization": f"Bearer {self.token()}"}
        target = Path(target)
        try:
            with self._http.stream("GET", path, headers=headers) as response:
                if not response.is_success:
                    response.read()
                    self._raise_for(response)
                with target.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
        except httpx.TransportError as exc:
            raise Unreachable(f"Cannot reach {self.server}: {exc}") from None
        return target

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        """The server's ``{"message": ...}`` as the matching ParleyError."""
        try:
            message = str(response.json().get("message"))
        except (ValueError, AttributeError):
            message = response.text[:200] or response.reason_phrase
        status = response.status_code
        kind: type[ParleyError] = ParleyError
        if status == 401:
            kind = AuthError
        elif status == 404:
            kind = NotFoundError
        elif status in (400, 409, 413, 416, 429):
            kind = BadRequestError
        raise kind(message, status)

    # -- management ----------------------------------------------------------------------

    def list_trackers(self) -> list[dict[str, Any]]:
        body = self._get("/v1/manage/trackers")
        return list(body["trackers"] if isinstance(body, dict) else body)

    def create_tracker(self, name: str, vocabulary: list[str], **fields: Any) -> dict[str, Any]:
        body = {"name": name, "vocabulary": vocabulary, **fields}
        return dict(self._send("POST", "/v1/manage/tracker", json=body).json())

    def delete_tracker(self, tracker_id: str) -> None:
        self._send("DELETE", f"/v1/manage/tracker/{tracker_id}")
