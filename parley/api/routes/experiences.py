"""Symbl's Experience API: ``POST /v1/conversations/{id}/experiences`` and the shared page.

The answer's ``url`` opens the conversation page without signing in. The link
is the page path plus a signed token (HS256, audience ``parley-experience``, so
it is never accepted as an API access token) that names the conversation, the
experience's options and, unless ``summaryURLExpiresIn`` is 0, an expiry. Every
use checks that the conversation still exists: deleting it revokes its links.
Without ``readOnly`` the shared page may rename speakers, as Symbl's did.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from parley import callscore as callscore_service
from parley import conversations as service
from parley.api.deps import AppId, ServicesDep
from parley.api.openapi import doc, errors
from parley.api.present import member_json, message_json, with_people
from parley.api.routes import conversations, insights
from parley.api.routes.bodies import json_object
from parley.api.routes.console import index_page
from parley.api.routes.media import NO_MEDIA, media_json, ranged
from parley.errors import BadRequest, NotFound, ParleyError, Unauthorized
from parley.storage import conversations as store
from parley.storage.media import timeline
from parley.storage.models import Conversation
from parley_client import wire

router = APIRouter(tags=["experiences"])

AUDIENCE = "parley-experience"
NAMES = ("verbose-text-summary", "video-summary", "audio-summary")
DEFAULT_EXPIRES_IN = 2_592_000  # 30 days, Symbl's default
REVOKED = "This link is no longer valid: the conversation was deleted."


class ReadOnly(ParleyError):
    """A write through a shared page that was created read-only."""

    status = 403


_COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(rgb|hsl)a?\([0-9.,%\s]+\))$")
_FONT = re.compile(r"^[\w\s,'\"-]{1,100}$")
_COLOR_KEYS = ("background", "topicsFilter", "insightsFilter")


def _url(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(r"^https?://\S+$", value) or len(value) > 2048:
        raise BadRequest(f'"{key}" must be an http(s) URL of at most 2048 characters')
    return value


def _branding(body: dict[str, Any]) -> dict[str, Any]:
    brand: dict[str, Any] = {}
    for key in ("logo", "favicon"):
        if (url := _url(body, key)) is not None:
            brand[key] = url
    color = body.get("color")
    if color is not None:
        if not isinstance(color, dict):
            raise BadRequest('"color" must be an object with background, topicsFilter, ...')
        for key, value in color.items():
            if key not in _COLOR_KEYS:
                raise BadRequest(f'"color.{key}" is not known; use {", ".join(_COLOR_KEYS)}')
            if not isinstance(value, str) or not _COLOR.match(value.strip()):
                raise BadRequest(f'"color.{key}" must be a CSS colour such as #1a73e8')
        brand["color"] = {k: v.strip() for k, v in color.items()}
    font = body.get("font")
    if font is not None:
        family = font.get("family") if isinstance(font, dict) else None
        if not isinstance(family, str) or not _FONT.match(family):
            raise BadRequest('"font.family" must be a font family name such as "Open Sans"')
        brand["font"] = {"family": family}
    return brand


def _options(body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("name")
    if name not in NAMES:
        raise BadRequest(f'"name" must be one of {", ".join(NAMES)}')
    expires_in = body.get("summaryURLExpiresIn", DEFAULT_EXPIRES_IN)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in < 0:
        raise BadRequest('"summaryURLExpiresIn" must be a whole number of seconds (0 = never)')
    read_only = body.get("readOnly", False)
    if not isinstance(read_only, bool):
        raise BadRequest('"readOnly" must be true or false')
    options: dict[str, Any] = {"name": name, "readOnly": read_only, **_branding(body)}
    if (video := _url(body, "videoUrl")) is not None:
        options["videoUrl"] = video
    return options | {"expiresIn": expires_in}


@router.post(
    "/v1/conversations/{conversation_id}/experiences",
    response_model=wire.Experience,
    response_model_exclude_unset=True,
    responses=errors(404, 413),
    openapi_extra=doc(body=wire.ExperienceRequest),
)
async def create_experience(
    conversation_id: str, request: Request, app_id: AppId, services: ServicesDep
) -> dict[str, str]:
    def exists() -> None:  # first, so another app's id answers like an unknown one
        with services.storage.session() as session:
            store.get_conversation(session=session, conversation_id=conversation_id, app_id=app_id)

    await run_in_threadpool(exists)
    options = _options(await json_object(request))
    now = int(time.time())
    expires_in = options.pop("expiresIn")
    claims: dict[str, Any] = {
        "aud": AUDIENCE,
        "cid": conversation_id,
        "app": app_id,
        "opt": options,
        "iat": now,
        "jti": secrets.token_hex(6),
    }
    if expires_in:
        claims["exp"] = now + expires_in
    token = services.tokens.sign(claims)
    base = str(request.base_url).rstrip("/")
    return {"name": options["name"], "url": f"{base}/experiences/{token}"}


def _claims(services: ServicesDep, token: str) -> dict[str, Any]:
    claims = services.tokens.read(token, audience=AUDIENCE)
    if not all(isinstance(claims.get(k), str) for k in ("cid", "app")):
        raise Unauthorized("This link is not valid.")
    return claims


def _shared(session: Session, claims: dict[str, Any]) -> Conversation:
    try:
        return store.get_conversation(
            session=session, conversation_id=claims["cid"], app_id=claims["app"]
        )
    except NotFound:
        raise NotFound(REVOKED) from None


@router.get("/experiences/{token}", include_in_schema=False)
def experience_page(token: str) -> Response:
    """The console's page; its script reads the data below and shows any link error."""
    return index_page()


@router.get("/experiences/{token}/data", include_in_schema=False)
def experience_data(token: str, services: ServicesDep) -> dict[str, Any]:
    """Everything the shared page shows, in the API's own shapes, in one request."""
    claims = _claims(services, token)
    cid, app_id = claims["cid"], claims["app"]
    with services.storage.session() as session:
        conversation = _shared(session, claims)
        members = {m.id: m for m in store.list_members(session=session, conversation_id=cid)}
        rows = store.list_messages(session=session, conversation_id=cid)
        origin = rows[0].start if rows else 0.0
        messages = [
            message_json(r, conversation, members, origin=origin, verbose=True) for r in rows
        ]
        topics = store.get_insights(session=session, conversation_id=cid, kind="topics")
        files = timeline(session=session, audio=services.storage.audio, conversation_id=cid)
    summary = service.ensure_summary(
        storage=services.storage, conversation=conversation, insight=services.insight
    )
    try:  # the call score, when the conversation has one (the Call Summary page)
        scored = {"callScore": callscore_service.call_score(services.storage, app_id, cid)}
    except ParleyError:
        scored = {}
    return {
        "experience": claims["opt"] | {"expiresAt": claims.get("exp")},
        "conversation": conversations.get_conversation(cid, app_id, services),
        "members": [member_json(m) for m in members.values()],
        "messages": messages,
        "summary": with_people(summary, members),
        "topics": topics,
        **insights.get_action_items(cid, app_id, services),
        **insights.get_questions(cid, app_id, services),
        **insights.get_follow_ups(cid, app_id, services),
        **insights.get_entities(cid, app_id, services),
        "trackers": insights.get_trackers(cid, app_id, services),
        "analytics": insights.get_analytics(cid, app_id, services),
        **media_json(files, f"/experiences/{token}/media/{{}}"),
        **scored,
    }


@router.get("/experiences/{token}/media/{job_id}", include_in_schema=False)
def experience_media(token: str, job_id: str, request: Request, services: ServicesDep) -> Response:
    claims = _claims(services, token)
    with services.storage.session() as session:
        _shared(session, claims)
        files = timeline(
            session=session, audio=services.storage.audio, conversation_id=claims["cid"]
        )
    for file in files:
        if file.job_id == job_id:
            return ranged(services.storage.audio, file, request.headers.get("range"))
    raise NotFound(NO_MEDIA)


@router.put("/experiences/{token}/members/{member_id}", include_in_schema=False)
async def experience_rename(
    token: str, member_id: str, request: Request, services: ServicesDep
) -> dict[str, str]:
    """Rename a speaker from a shared page created without ``readOnly``."""
    claims = _claims(services, token)
    if claims["opt"].get("readOnly", True):
        raise ReadOnly("This shared page is read-only.")
    body = await json_object(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise BadRequest('"name" is required: a string of at most 255 characters')

    def rename() -> None:  # the database work off the event loop
        with services.storage.session() as session:
            _shared(session, claims)
        service.update_member(
            storage=services.storage,
            app_id=claims["app"],
            conversation_id=claims["cid"],
            member_id=member_id,
            name=name.strip(),
            email=None,
            insight=services.insight,
        )

    await run_in_threadpool(rename)
    return {"message": f"Member with id: {member_id} updated successfully."}
