"""The client: ``Parley``, its errors, and the records it returns.

The records are the wire models of ``parley_client.wire`` (the server answers through the
same classes), with a few client conveniences added in subclasses: times as ``datetime``,
``raw`` (the JSON object as received), ``Job.done``, ``Message.speaker``. Nothing here
declares a field of the wire format again, except where its Python type changes.
"""

from __future__ import annotations

import json
import mimetypes
import os
import time
import tomllib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Self, TypeAlias

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from parley_client import wire
from parley_client.wire.models import SummaryItem as _WireSummaryItem

if TYPE_CHECKING:  # exported by pydantic from 2.10 on; the client runs on 2.7
    from pydantic import ModelWrapValidatorHandler

__all__ = [
    "ActionItem",
    "AuthError",
    "BadRequestError",
    "Conversation",
    "Experience",
    "FollowUp",
    "Insight",
    "Job",
    "JobFailed",
    "Member",
    "Message",
    "NotFoundError",
    "Parley",
    "ParleyError",
    "Question",
    "SummaryItem",
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
    """The request was refused as invalid (400, 413, 416, 429), here or by the server."""


class NotFoundError(ParleyError):
    """No such conversation, job or member (404)."""


class Unreachable(ParleyError):
    """The server could not be reached (connection refused, timeout, DNS)."""


class JobFailed(ParleyError):
    """A job ended ``failed``; ``job.reason`` says why."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"Job {job.id} failed: {job.reason or 'no reason given'}")
        self.job = job


# -- results: the wire models, read as a script wants them --------------------------------


class _Received(BaseModel):
    """A record as received: frozen, and ``raw`` is the JSON object it was read from.

    ``raw`` keeps what the models do not name (a newer server's keys) and the times as the
    server wrote them; the CLI prints it as the API's JSON.
    """

    model_config = ConfigDict(frozen=True)
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, value: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        record = handler(value)
        if isinstance(value, dict):
            record._raw = value
        return record

    @property
    def raw(self) -> dict[str, Any]:
        return self._raw


# Times are ISO strings on the wire (the server keeps Symbl's exact spelling); the records
# below re-declare only those fields, as aware datetimes, and the nested records they hold.


class Member(wire.Member, _Received):
    """A participant: the members list, a message's ``from``, an action item's assignee."""


class Word(wire.Word, _Received):
    start_time: datetime = Field(alias="startTime")  # type: ignore[assignment]
    end_time: datetime = Field(alias="endTime")  # type: ignore[assignment]


class Message(wire.Message, _Received):
    from_: Member = Field(alias="from")
    start_time: datetime = Field(alias="startTime")  # type: ignore[assignment]
    end_time: datetime = Field(alias="endTime")  # type: ignore[assignment]
    words: list[Word] = Field(default_factory=list)  # type: ignore[assignment]

    @property
    def speaker(self) -> Member | None:
        """Who said it; None where the speaker is unknown (``from`` is ``{}``)."""
        return self.from_ if self.from_.name else None


class Conversation(wire.Conversation, _Received):
    start_time: datetime = Field(alias="startTime")  # type: ignore[assignment]
    end_time: datetime = Field(alias="endTime")  # type: ignore[assignment]
    members: list[Member]  # type: ignore[assignment]
    matches: list[Message] = Field(default_factory=list)  # type: ignore[assignment]


class Job(wire.Job, _Received):
    """A job. ``conversation_id`` is always a str: the wire model allows null, which a
    Parley server never sends (it would read as "")."""

    conversation_id: str = Field(alias="conversationId")
    created_at: datetime | None = Field(None, alias="createdAt")  # type: ignore[assignment]
    updated_at: datetime | None = Field(None, alias="updatedAt")  # type: ignore[assignment]

    @field_validator("conversation_id", mode="before")
    @classmethod
    def _none_as_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed")


def _speaker(person: wire.models.Speaker) -> Member | None:
    """An insight's ``from`` (``userId`` is the e-mail) as a Member; None when unknown."""
    if not person.name:
        return None
    return Member(id=person.id, name=person.name, email=person.user_id)


class Question(wire.Question, _Received):
    @property
    def speaker(self) -> Member | None:
        return _speaker(self.from_)


class ActionItem(wire.ActionItem, _Received):
    """An action item; ``assignee`` is None when nobody is named."""

    assignee: Member | None  # type: ignore[assignment]
    due_by: datetime | None = Field(None, alias="dueBy")  # type: ignore[assignment]

    @field_validator("assignee", mode="before")
    @classmethod
    def _nobody(cls, value: Any) -> Any:
        return value if isinstance(value, dict) and value.get("name") else None

    @property
    def speaker(self) -> Member | None:
        return _speaker(self.from_)


class FollowUp(ActionItem):
    type: Literal["follow_up"]  # type: ignore[assignment]


class SummaryItem(_WireSummaryItem, _Received):
    @property
    def message_ids(self) -> list[str]:
        return [ref.id for ref in self.message_refs]


class Topic(wire.Topic, _Received):
    """A topic; ``raw`` keeps its stored keys."""


class Experience(wire.Experience, _Received):
    """A shareable page: ``url`` opens it without signing in."""


#: What ``questions``, ``summary``, ``action_items`` and ``follow_ups`` return (a name kept
#: from the dataclass these replaced; ``isinstance(x, Insight)`` works with it).
Insight: TypeAlias = Question | SummaryItem | ActionItem


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


def _body(model: type[BaseModel], fields: dict[str, Any]) -> dict[str, Any]:
    """A request body checked against its wire model; refused here as the server would."""
    try:
        checked = model.model_validate(fields)
    except ValidationError as exc:
        raise BadRequestError(str(exc), 0) from None
    return checked.model_dump(mode="json", by_alias=True, exclude_none=True)


def _submitted(body: dict[str, Any]) -> Job:
    """The job a submission answered (``{"conversationId", "jobId"}``), not started yet."""
    accepted = wire.Submitted.model_validate(body)
    return Job.model_validate(
        {
            "id": accepted.job_id,
            "status": "scheduled",
            "conversationId": accepted.conversation_id,
            "progress": 0,
        }
    )


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
        request = _body(wire.TokenRequest, {"appId": self._app[0], "appSecret": self._app[1]})
        answer = self._send("POST", "/oauth2/token:generate", auth=False, json=request).json()
        self._token = wire.TokenResponse.model_validate(answer).access_token
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
        return _submitted(body)

    def submit_url(self, url: str, *, conversation_id: str | None = None, **options: Any) -> Job:
        """Have the server fetch a recording from ``url``."""
        kind = "video" if Path(url.split("?")[0]).suffix.lower() in _VIDEO else "audio"
        path = f"/v1/process/{kind}/url" + (f"/{conversation_id}" if conversation_id else "")
        body = self._send(
            "PUT" if conversation_id else "POST", path, json={"url": url, **options}
        ).json()
        return _submitted(body)

    def submit_text(
        self, messages: list[dict[str, Any]], *, conversation_id: str | None = None, **options: Any
    ) -> Job:
        """Process chat messages: ``[{"payload": {"content": ...}, "from": {...}}]``."""
        path = "/v1/process/text" + (f"/{conversation_id}" if conversation_id else "")
        body = self._send(
            "PUT" if conversation_id else "POST", path, json={"messages": messages, **options}
        ).json()
        return _submitted(body)

    def job(self, job: Job | str) -> Job:
        return Job.model_validate(self._get(f"/v1/job/{job.id if isinstance(job, Job) else job}"))

    def jobs(self, limit: int = 50) -> list[Job]:
        """The app's recent jobs, newest first (a Parley extension)."""
        return [Job.model_validate(j) for j in self._get("/v1/jobs", limit=limit)["jobs"]]

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
        return [Conversation.model_validate(c) for c in body["conversations"]]

    def search(self, query: str, *, limit: int = 20, offset: int = 0) -> list[Conversation]:
        """Conversations whose name or words said match, with the matching sentences."""
        body = self._get("/v1/conversations", query=query, limit=limit, offset=offset)
        return [Conversation.model_validate(c) for c in body["conversations"]]

    def conversation(self, conversation_id: str) -> Conversation:
        return Conversation.model_validate(self._get(self._conv(conversation_id)))

    def update_metadata(self, conversation_id: str, metadata: dict[str, str]) -> dict[str, str]:
        request = _body(wire.MetadataUpdate, {"metadata": metadata})
        body = self._send("PUT", self._conv(conversation_id), json=request).json()
        return wire.ConversationUpdated.model_validate(body).metadata

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
        return [Message.model_validate(m) for m in body["messages"]]

    def members(self, conversation_id: str) -> list[Member]:
        body = self._get(self._conv(conversation_id, "/members"))
        return [m for m in map(Member.model_validate, body["members"]) if m.name]

    def update_member(
        self, conversation_id: str, member_id: str, name: str, email: str | None = None
    ) -> None:
        """Rename a speaker (insights are recomputed with the new name)."""
        fields = {"id": member_id, "name": name} | ({"email": email} if email else {})
        request = _body(wire.MemberUpdate, fields)
        self._send("PUT", self._conv(conversation_id, f"/members/{member_id}"), json=request)

    def speaker_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Symbl's ``PUT .../speakers``: attribute sentences by who spoke when."""
        self._send("PUT", self._conv(conversation_id, "/speakers"), json={"speakerEvents": events})

    def transcript(self, conversation_id: str, content_type: str = "text/markdown") -> str:
        """The formatted transcript: ``text/markdown``, ``text/srt`` or ``text/vtt``."""
        body = self._get(self._conv(conversation_id, "/transcript"), contentType=content_type)
        return str(body["transcript"]["payload"])

    # -- insights ------------------------------------------------------------------------

    def questions(self, conversation_id: str) -> list[Question]:
        body = self._get(self._conv(conversation_id, "/questions"))
        return [Question.model_validate(i) for i in body["questions"]]

    def action_items(self, conversation_id: str) -> list[ActionItem]:
        body = self._get(self._conv(conversation_id, "/action-items"))
        return [ActionItem.model_validate(i) for i in body["actionItems"]]

    def follow_ups(self, conversation_id: str) -> list[FollowUp]:
        body = self._get(self._conv(conversation_id, "/follow-ups"))
        return [FollowUp.model_validate(i) for i in body["followUps"]]

    def summary(self, conversation_id: str, *, refresh: bool = False) -> list[SummaryItem]:
        body = self._get(self._conv(conversation_id, "/summary"), refresh=_encode(refresh))
        return [SummaryItem.model_validate(i) for i in body["summary"]]

    def topics(self, conversation_id: str) -> list[Topic]:
        body = self._get(self._conv(conversation_id, "/topics"))
        return [Topic.model_validate(t) for t in body["topics"]]

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
        return Experience.model_validate(body)

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
