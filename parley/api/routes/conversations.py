"""The Conversation API, the conversation itself: ``/v1/conversations/...``.

Listing, metadata, deletion, messages, members, speaker events and the formatted
transcript. The insight endpoints are in ``insights.py``. Handlers are plain ``def``:
FastAPI runs them in its thread pool, so none blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from parley import conversations as service
from parley import user_settings
from parley.api.deps import AppId, JsonObject, ServicesDep
from parley.api.openapi import doc, errors, query
from parley.api.params import SafeJSONResponse, query_int
from parley.api.present import conversation_json, member_json, message_json, transcript_lines
from parley.errors import BadRequest, NotFound
from parley.insights.redaction import mask
from parley.options.dates import parse_datetime
from parley.options.filters import parse_metadata_terms
from parley.options.jsonload import loads_bounded
from parley.storage import conversations as store
from parley.storage.models import Conversation, Member
from parley.transcript import CONTENT_TYPES, render
from parley_client import wire
from parley_client.wire.limits import LIMITS

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

DELETE_NOT_FOUND = "The conversationId is either invalid or does not exist."


def flag(request: Request, name: str) -> bool:
    """A boolean query parameter: true, 1 or yes."""
    return request.query_params.get(name, "").strip().lower() in ("true", "1", "yes")


def conversation_of(session: Session, app_id: str, conversation_id: str) -> Conversation:
    return store.get_conversation(session=session, conversation_id=conversation_id, app_id=app_id)


def members_of(session: Session, conversation_id: str) -> dict[str, Member]:
    return {m.id: m for m in store.list_members(session=session, conversation_id=conversation_id)}


def _time(name: str, value: str | None) -> datetime | None:
    return parse_datetime(name, value) if value else None


_BOOL = {"type": "boolean"}
LIST_QUERY = [
    query("limit", {"type": "integer", "minimum": 0, "maximum": 65536}),
    query("offset", {"type": "integer", "minimum": 0, "maximum": 2**31}),
    query("order", {"type": "string", "enum": ["asc", "desc"]}),
    query("sort", {"type": "string", "enum": ["conversation.startTime", "conversation.name"]}),
    query("startTime", {"type": "string", "format": "date-time"}),
    query("endTime", {"type": "string", "format": "date-time"}),
    query(
        "filter",
        {"type": "string", "maxLength": LIMITS["filter_chars"]},
        "conversation.metadata.key==value, at most two joined by `and` or `;`",
    ),
    query("query", {"type": "string"}, "Parley extension: search names and words said"),
]
_TRANSCRIPT_TYPES = {"type": "string", "enum": list(CONTENT_TYPES)}


@router.get(
    "",
    response_model=wire.ConversationList,
    response_model_exclude_unset=True,
    responses=errors(),
    openapi_extra=doc(params=LIST_QUERY),
)
def list_conversations(request: Request, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    if "query" in request.query_params:
        return _search(request, app_id, services)
    return conversation_page(request, app_id, services)


def conversation_page(
    request: Request,
    app_id: str,
    services: ServicesDep,
    terms: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """``{"conversations": [...]}`` for Symbl's list query (limit, offset, order, sort, window,
    filter), narrowed by ``terms`` too (a group's criteria): the list and a group's
    conversations answer alike."""
    order = request.query_params.get("order", "asc").lower()
    if order not in ("asc", "desc"):
        raise BadRequest('"order" must be "asc" or "desc"')
    sort = request.query_params.get("sort", "conversation.startTime")
    if sort not in ("conversation.startTime", "conversation.name"):
        raise BadRequest('"sort" must be conversation.startTime or conversation.name')
    end = _time("endTime", request.query_params.get("endTime")) or datetime.now(UTC)
    start = _time("startTime", request.query_params.get("startTime")) or end - timedelta(days=7)
    raw_filter = request.query_params.get("filter")
    wanted = [*terms, *(parse_metadata_terms(raw_filter) if raw_filter else [])]
    limit = query_int(request, "limit", 20, 0, 65536)
    offset = query_int(request, "offset", 0, 0, 2**31)
    with services.storage.session() as session:
        rows = store.list_conversations(
            session=session,
            app_id=app_id,
            limit=limit,
            offset=offset,
            descending=order == "desc",
            sort_by_name=sort == "conversation.name",
            start=start,
            end=end,
            metadata_filter=wanted,
        )
        members = store.members_of_many(session=session, conversation_ids=[c.id for c in rows])
        return {"conversations": [conversation_json(c, members[c.id]) for c in rows]}


def _search(request: Request, app_id: str, services: ServicesDep) -> dict[str, Any]:
    """Parley extension ``?query=``: by name or words said, newest first, with the sentences."""
    from parley.storage.search import search_conversations

    with services.storage.session() as session:
        hits = search_conversations(
            session=session,
            app_id=app_id,
            query=request.query_params["query"],
            limit=query_int(request, "limit", 20, 0, 1000),
            offset=query_int(request, "offset", 0, 0, 2**31),
        )
        found = []
        for hit in hits:
            members = members_of(session, hit.conversation.id)
            found.append(
                conversation_json(hit.conversation, list(members.values()))
                | {
                    "matches": [
                        message_json(m, hit.conversation, members, origin=hit.origin)
                        for m in hit.messages
                    ]
                }
            )
        return {"conversations": found}


@router.get(
    "/{conversation_id}",
    response_model=wire.Conversation,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_conversation(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        conversation = conversation_of(session, app_id, conversation_id)
        members = store.list_members(session=session, conversation_id=conversation.id)
        return conversation_json(conversation, members)


@router.put(
    "/{conversation_id}",
    response_model=wire.ConversationUpdated,
    response_model_exclude_unset=True,
    responses=errors(404, 413),
    openapi_extra=doc(body=wire.MetadataUpdate),
)
def update_conversation(
    conversation_id: str, body: JsonObject, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        raise BadRequest('"metadata" is required and must be an object')
    for key, value in metadata.items():
        if len(key) > LIMITS["metadata_key"]:
            raise BadRequest(f'"metadata" keys must be at most {LIMITS["metadata_key"]} characters')
        if not isinstance(value, str) or len(value) > LIMITS["metadata_value"]:
            raise BadRequest(
                f'"metadata.{key}" must be a string of at most '
                f"{LIMITS['metadata_value']} characters"
            )
    with services.storage.session() as session:
        conversation = conversation_of(session, app_id, conversation_id)
        merged = {**(conversation.meta or {}), **metadata}
        if len(merged) > LIMITS["metadata_keys"]:
            raise BadRequest(f'"metadata" must have at most {LIMITS["metadata_keys"]} keys')
        store.set_metadata(session=session, conversation=conversation, metadata=merged)
        return {"id": conversation.id, "metadata": conversation.meta}


@router.delete(
    "/{conversation_id}",
    response_model=wire.Info,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def delete_conversation(
    conversation_id: str, app_id: AppId, services: ServicesDep
) -> dict[str, str]:
    with services.storage.session() as session:
        try:
            conversation = conversation_of(session, app_id, conversation_id)
        except NotFound:
            raise NotFound(DELETE_NOT_FOUND) from None
        store.delete_conversation(session=session, conversation=conversation)
    services.storage.audio.delete_conversation(conversation_id)
    return {"message": "successfully deleted the conversation"}


def _exclude(request: Request) -> list[str]:
    """``exclude`` as a JSON array (bounded like any JSON: depth, integers, characters)
    or comma-separated, repeatable."""
    values = request.query_params.getlist("exclude")
    result: list[str] = []
    for value in values:
        value = value.strip()
        if value.startswith("["):
            parsed = loads_bounded(value, '"exclude"', field="exclude")
            if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
                raise BadRequest('"exclude" must be a JSON array of entity types (strings)')
            result.extend(parsed)
        elif value:
            result.extend(v.strip() for v in value.split(","))
    return result


@router.get(
    "/{conversation_id}/messages",
    response_model=wire.MessageList,
    response_model_exclude_unset=True,
    responses=errors(404),
    openapi_extra=doc(
        params=[
            query("verbose", _BOOL),
            query("sentiment", _BOOL),
            query("redact", _BOOL),
            query("exclude", {"type": "string"}, "entity types not to redact, JSON or commas"),
        ]
    ),
)
def get_messages(
    conversation_id: str, request: Request, app_id: AppId, services: ServicesDep
) -> Response:
    verbose, sentiment, redact = (flag(request, k) for k in ("verbose", "sentiment", "redact"))
    # The app's settings decide when the read does not say (``/redaction/default``), and
    # choose the mask (``/redaction/type``).
    redaction = user_settings.redaction(user_settings.app_settings(services.storage, app_id))
    if "redact" not in request.query_params:
        redact = redaction.default
    exclude = _exclude(request)
    found = (
        service.redaction_candidates(
            storage=services.storage,
            app_id=app_id,
            conversation_id=conversation_id,
            insight=services.insight,
        )
        if redact
        else {}
    )
    with services.storage.session() as session:
        conversation = conversation_of(session, app_id, conversation_id)
        members = members_of(session, conversation.id)
        rows = store.list_messages(session=session, conversation_id=conversation.id)
        origin = rows[0].start if rows else 0.0
        return _messages_response(
            message_json(
                row,
                conversation,
                members,
                origin=origin,
                verbose=verbose and not redact,
                sentiment=sentiment,
                text=(
                    mask(row.text, found.get(row.id, []), exclude=exclude, style=redaction.style)
                    if redact
                    else None
                ),
            )
            for row in rows
        )


def _messages_response(messages: Iterable[dict[str, Any]]) -> Response:
    """``{"messages": [...]}``, the same bytes FastAPI would send, rendered here one message
    at a time. Returned as a dict, 30,000 messages were validated, serialized and encoded in
    three single C calls that held the GIL, two of them on the event loop: ``/health``
    waited up to 0.9 s behind one read (issue 23)."""
    encoder = SafeJSONResponse(None)
    body = b'{"messages":[' + b",".join(encoder.render(m) for m in messages) + b"]}"
    return Response(body, media_type="application/json")


@router.get(
    "/{conversation_id}/members",
    response_model=wire.MemberList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_members(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        conversation = conversation_of(session, app_id, conversation_id)
        return {
            "members": [
                member_json(m)
                for m in store.list_members(session=session, conversation_id=conversation.id)
            ]
        }


@router.put(
    "/{conversation_id}/members/{member_id}",
    response_model=wire.Info,
    response_model_exclude_unset=True,
    responses=errors(404, 413),
    openapi_extra=doc(body=wire.MemberUpdate),
)
def update_member(
    conversation_id: str, member_id: str, body: JsonObject, app_id: AppId, services: ServicesDep
) -> dict[str, str]:
    name, email = body.get("name"), body.get("email")
    if not isinstance(body.get("id"), str) or not isinstance(name, str) or not name.strip():
        raise BadRequest('"id" and "name" are required strings')
    if body["id"] != member_id:
        raise BadRequest('"id" must match the member id in the path')
    if email is not None and not isinstance(email, str):
        raise BadRequest('"email" must be a string')
    if len(name) > LIMITS["name"] or len(email or "") > LIMITS["name"]:
        raise BadRequest(f'"name" and "email" must be at most {LIMITS["name"]} characters')
    service.update_member(
        storage=services.storage,
        app_id=app_id,
        conversation_id=conversation_id,
        member_id=member_id,
        name=name.strip(),
        email=email,
        insight=services.insight,
    )
    return {
        "message": f"Member with id: {member_id} for conversationId: {conversation_id} updated "
        "successfully! The update should be reflected in all messages and insights along with "
        "this conversation"
    }


def _offset(event: dict[str, Any], where: str) -> float:
    offset = event.get("offset")
    if not isinstance(offset, dict):
        raise BadRequest(f'"{where}.offset" must be an object with seconds and nanos')
    seconds, nanos = offset.get("seconds", 0), offset.get("nanos", 0)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (seconds, nanos)):
        raise BadRequest(f'"{where}.offset" seconds and nanos must be numbers')
    return float(seconds) + float(nanos) / 1e9


@router.put(
    "/{conversation_id}/speakers",
    response_model=wire.Info,
    response_model_exclude_unset=True,
    responses=errors(404, 413),
    openapi_extra=doc(body=wire.SpeakerEvents),
)
def speaker_events(
    conversation_id: str, body: JsonObject, app_id: AppId, services: ServicesDep
) -> dict[str, str]:
    raw = body.get("speakerEvents")
    if not isinstance(raw, list) or not raw:
        raise BadRequest('"speakerEvents" is required and must be a non-empty array')
    events = []
    for i, event in enumerate(raw):
        where = f"speakerEvents[{i}]"
        if not isinstance(event, dict) or event.get("type") not in (
            "started_speaking",
            "stopped_speaking",
        ):
            raise BadRequest(f'"{where}.type" must be started_speaking or stopped_speaking')
        user = event.get("user")
        if not isinstance(user, dict) or not any(
            isinstance(user.get(k), str) and user.get(k) for k in ("id", "name", "email")
        ):
            raise BadRequest(f'"{where}.user" must have an id, name or email')
        events.append({"type": event["type"], "user": user, "offset": _offset(event, where)})
    service.apply_speaker_events(
        storage=services.storage,
        app_id=app_id,
        conversation_id=conversation_id,
        events=events,
        insight=services.insight,
    )
    return {
        "message": f"Speaker events associated for conversationId: {conversation_id} "
        "successfully! The update should be reflected in all messages and insights along "
        "with this conversation"
    }


def _transcript(
    conversation_id: str, options: dict[str, Any], app_id: str, services: ServicesDep
) -> dict[str, Any]:
    content_type = options.get("contentType")
    if content_type not in CONTENT_TYPES:
        raise BadRequest(f'"contentType" must be one of {", ".join(CONTENT_TYPES)}')
    phrases_opt = options.get("phrases") or {}
    with services.storage.session() as session:
        conversation = conversation_of(session, app_id, conversation_id)
        members = members_of(session, conversation.id)
        rows = store.list_messages(session=session, conversation_id=conversation.id)
        highlight: list[str] = []
        if isinstance(phrases_opt, dict) and (
            phrases_opt.get("highlightAllKeyPhrases")
            or phrases_opt.get("highlightOnlyInsightKeyPhrases")
        ):
            highlight = [p["text"] for r in rows for p in (r.phrases or []) if p.get("text")]
            if phrases_opt.get("highlightAllKeyPhrases"):
                topics = store.get_insights(
                    session=session, conversation_id=conversation.id, kind="topics"
                )
                highlight += [t["text"] for t in topics]
        lines = transcript_lines(rows, members)
    payload = render(
        lines,
        content_type,
        speakers=bool(options.get("showSpeakerSeparation", True)),
        paragraphs=bool(options.get("createParagraphs", True)),
        phrases=highlight,
    )
    return {"transcript": {"payload": payload, "contentType": content_type}}


@router.post(
    "/{conversation_id}/transcript",
    response_model=wire.Transcript,
    response_model_exclude_unset=True,
    responses=errors(404, 413),
    openapi_extra=doc(body=wire.TranscriptRequest),
)
def post_transcript(
    conversation_id: str, body: JsonObject, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    return _transcript(conversation_id, body, app_id, services)


@router.get(
    "/{conversation_id}/transcript",
    response_model=wire.Transcript,
    response_model_exclude_unset=True,
    responses=errors(404),
    openapi_extra=doc(
        params=[
            query("contentType", _TRANSCRIPT_TYPES),
            query("createParagraphs", _BOOL),
            query("showSpeakerSeparation", _BOOL),
        ]
    ),
)
def get_transcript(
    conversation_id: str, request: Request, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    options: dict[str, Any] = {"contentType": request.query_params.get("contentType")}
    for key in ("createParagraphs", "showSpeakerSeparation"):
        if key in request.query_params:
            options[key] = flag(request, key)
    return _transcript(conversation_id, options, app_id, services)
