"""The Async API: ``/v1/process/{audio|video}[/url][/{conversationId}]`` and ``/text``.

POST starts a conversation, PUT appends to one. File endpoints take options in
the query string and the media as the raw body; URL and text endpoints take a
JSON body, with query options as a fallback (body wins). All answer 201 with
``{conversationId, jobId}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from parley.api.deps import AppId, ServicesDep
from parley.api.openapi import doc, errors, option_query
from parley.api.routes.bodies import json_bytes, json_object, parse_object, receive_upload
from parley.errors import BadRequest
from parley.jobs.submit import Submission
from parley.options.dates import parse_datetime
from parley.options.job import JobOptions, parse_options
from parley.options.values import validate_url
from parley.outbound import OutboundGuard
from parley_client import wire
from parley_client.wire.limits import LIMITS

router = APIRouter(tags=["async"])

#: A text job's JSON body (its messages are bounded by LIMITS too).
MAX_TEXT_BODY = 8 * 1024 * 1024

_AUTODETECT = ("", "application/octet-stream", "binary/octet-stream")


def _query(request: Request) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        values.setdefault(key, []).append(value)
    return values


def _body_options(body: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [value] for key, value in body.items()}


def _check_content_type(kind: str, header: str | None) -> None:
    base = (header or "").split(";")[0].strip().lower()
    if base in _AUTODETECT or base.startswith(("audio/", "video/")):
        return
    raise BadRequest(
        f'Unsupported Content-Type "{header}" for {kind}: send audio/wav, audio/mpeg, '
        f"audio/mp3{', video/mp4' if kind == 'video' else ''} or no Content-Type to autodetect."
    )


def _check_targets(services: ServicesDep, options: JobOptions, url: str | None = None) -> None:
    """Refuse at once a media or webhook URL whose host is a literal private address
    (names are resolved and checked when fetched)."""
    guard = OutboundGuard.from_setting(services.settings.outbound_allow)
    if url:
        guard.check_literal("url", url)
    if options.webhook_url:
        guard.check_literal("webhookUrl", options.webhook_url)


def _created(submission: Submission) -> dict[str, str]:
    """The 201 answer (``wire.Submitted``)."""
    return {"conversationId": submission.conversation_id, "jobId": submission.job_id}


async def _submit_file(
    request: Request, app_id: str, services: ServicesDep, kind: str, conversation_id: str | None
) -> dict[str, str]:
    _check_content_type(kind, request.headers.get("content-type"))
    options = parse_options(_query(request))
    _check_targets(services, options)
    submitter, settings = services.submitter, services.settings
    await run_in_threadpool(submitter.check_capacity, app_id)
    if conversation_id is not None:
        await run_in_threadpool(submitter.check_conversation, app_id, conversation_id)
    upload, info = await receive_upload(
        request, audio=services.storage.audio, max_bytes=settings.max_upload_bytes
    )
    if info.duration and info.duration > settings.max_duration_seconds:
        upload.unlink(missing_ok=True)
        raise BadRequest(
            f"The media is {info.duration / 3600:.2f} hours long; the maximum is "
            f"{settings.max_duration_seconds / 3600:g} hours."
        )
    submission = await run_in_threadpool(
        lambda: submitter.submit(
            app_id=app_id,
            kind=kind,
            source="file",
            options=options,
            conversation_id=conversation_id,
            upload=upload,
        )
    )
    return _created(submission)


async def _submit_url(
    request: Request, app_id: str, services: ServicesDep, kind: str, conversation_id: str | None
) -> dict[str, str]:
    body = await json_object(request)
    if "url" not in body:
        raise BadRequest('"url" is required')
    url = validate_url("url", body["url"])
    options = parse_options(_query(request), _body_options(body))
    _check_targets(services, options, url)
    submission = await run_in_threadpool(
        lambda: services.submitter.submit(
            app_id=app_id,
            kind=kind,
            source="url",
            options=options,
            conversation_id=conversation_id,
            url=url,
        )
    )
    return _created(submission)


def _parse_time(name: str, value: Any) -> datetime:
    return parse_datetime(name, value, require_zone=True)


def _text_messages(body: dict[str, Any]) -> tuple[list[dict[str, Any]], datetime | None]:
    """Validated text messages and the earliest start time among them."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest('"messages" is required and must be a non-empty array')
    if len(messages) > LIMITS["messages"]:
        raise BadRequest(f'"messages" must have at most {LIMITS["messages"]} items')
    cleaned, starts, total = [], [], 0
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise BadRequest(f'"{where}" must be an object')
        payload = message.get("payload")
        content = payload.get("content") if isinstance(payload, dict) else None
        if not isinstance(content, str) or not content.strip():
            raise BadRequest(
                f'"{where}.payload.content" is required and must be a non-empty string'
            )
        total += len(content)
        if len(content) > LIMITS["message_chars"]:
            raise BadRequest(
                f'"{where}.payload.content" must be at most {LIMITS["message_chars"]} characters'
            )
        if total > LIMITS["messages_chars"]:
            raise BadRequest(f'"messages" must hold at most {LIMITS["messages_chars"]} characters')
        author = message.get("from") or {}
        if not isinstance(author, dict):
            raise BadRequest(f'"{where}.from" must be an object')
        if any(isinstance(v, str) and len(v) > LIMITS["name"] for v in author.values()):
            raise BadRequest(f'"{where}.from" fields must be at most {LIMITS["name"]} characters')
        duration = message.get("duration") or {}
        if not isinstance(duration, dict):
            raise BadRequest(f'"{where}.duration" must be an object')
        times = {}
        for key in ("startTime", "endTime"):
            if duration.get(key) is not None:
                moment = _parse_time(f"{where}.duration.{key}", duration[key])
                times[key] = moment.isoformat()
                if key == "startTime":
                    starts.append(moment)
        cleaned.append(
            {
                "payload": {"content": content},
                "from": {
                    k: str(v)
                    for k, v in author.items()
                    if isinstance(v, str) or (isinstance(v, int) and abs(v) < 10**18)
                },
                "duration": times,
            }
        )
    return cleaned, min(starts) if starts else None


def _parse_text(
    body: bytes, query: dict[str, list[str]]
) -> tuple[list[dict[str, Any]], datetime | None, JobOptions]:
    """The text body's messages, their earliest start and the job's options. Run in the
    thread pool: 8 MB of JSON and 20,000 messages held the event loop (and so every
    other request, ``/health`` included) for 0.55–0.80 s."""
    parsed = parse_object(body)
    messages, start = _text_messages(parsed)
    return messages, start, parse_options(query, _body_options(parsed))


async def _submit_text(
    request: Request, app_id: str, services: ServicesDep, conversation_id: str | None
) -> dict[str, str]:
    body = await json_bytes(request, max_bytes=MAX_TEXT_BODY)
    messages, start, options = await run_in_threadpool(_parse_text, body, _query(request))
    _check_targets(services, options)
    submission = await run_in_threadpool(
        lambda: services.submitter.submit(
            app_id=app_id,
            kind="text",
            source="text",
            options=options,
            conversation_id=conversation_id,
            text={"messages": messages},
            start_time=start,
        )
    )
    return _created(submission)


def _route(submit: Callable[..., Awaitable[dict[str, str]]], kind: str, append: bool) -> Any:
    """One endpoint function: FastAPI reads its signature for the dependencies."""
    if append:

        async def endpoint(
            conversation_id: str, request: Request, app_id: AppId, services: ServicesDep
        ) -> dict[str, str]:
            return await submit(request, app_id, services, kind, conversation_id)

    else:

        async def endpoint(  # type: ignore[misc]
            request: Request, app_id: AppId, services: ServicesDep
        ) -> dict[str, str]:
            return await submit(request, app_id, services, kind, None)

    endpoint.__name__ = f"{'put' if append else 'post'}_{kind}_{submit.__name__.strip('_')}"
    return endpoint


async def _submit_text_kind(
    request: Request, app_id: str, services: ServicesDep, kind: str, conversation_id: str | None
) -> dict[str, str]:
    return await _submit_text(request, app_id, services, conversation_id)


def _doc(kind: str, source: Callable[..., Any], append: bool) -> dict[str, Any]:
    """What one submission route declares: its answer, errors, body and options."""
    body: dict[str, Any] = {"media": kind} if source is _submit_file else {"body": _BODIES[kind]}
    return {
        "status_code": 201,
        "response_model": wire.Submitted,
        "responses": errors(404, 413, 429) if append else errors(413, 429),
        "openapi_extra": doc(params=option_query(), **body),
    }


_BODIES: dict[str, type[BaseModel]] = {
    "audio": wire.UrlJob,
    "video": wire.UrlJob,
    "text": wire.TextJob,
}

# URL routes first, so /audio/url is not taken for a conversation id.
for _kind, _submit in (("audio", _submit_url), ("video", _submit_url)):
    router.add_api_route(
        f"/v1/process/{_kind}/url",
        _route(_submit, _kind, False),
        methods=["POST"],
        **_doc(_kind, _submit, False),
    )
    router.add_api_route(
        f"/v1/process/{_kind}/url/{{conversation_id}}",
        _route(_submit, _kind, True),
        methods=["PUT"],
        **_doc(_kind, _submit, True),
    )
for _kind, _submit in (
    ("audio", _submit_file),
    ("video", _submit_file),
    ("text", _submit_text_kind),
):
    router.add_api_route(
        f"/v1/process/{_kind}",
        _route(_submit, _kind, False),
        methods=["POST"],
        **_doc(_kind, _submit, False),
    )
    router.add_api_route(
        f"/v1/process/{_kind}/{{conversation_id}}",
        _route(_submit, _kind, True),
        methods=["PUT"],
        **_doc(_kind, _submit, True),
    )
