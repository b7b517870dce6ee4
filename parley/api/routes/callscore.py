"""Call score (spec R.4): ``/v1/manage/callscore/criteria`` and ``…/scorecards`` (CRUD),
a conversation's ``…/callscore`` and ``…/callscore/status``, ``…/lm-insights/status``,
and the Call Summary links (``/v1/conversations/experiences/insights/…``) and media URL
(``PUT …/experiences/url``).

Criteria and scorecards answer bare objects, and their lists bare arrays (docs-new). The
managed criteria (``Symbl.*``) can be read and named in a scorecard, not changed (400).
A criterion named by a scorecard cannot be deleted (409). The score is computed by the
job (``parley.insights.callscore``); these routes only read it.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from parley import callscore as service
from parley.api.deps import AppId, ServicesDep
from parley.api.openapi import doc, errors, query
from parley.api.routes.manage import Body
from parley.api.routes.resources import Resource, register
from parley.errors import BadRequest
from parley.insights.callscore import MANAGED
from parley.storage import callscore as store
from parley.storage import conversations as conversations_store
from parley_client import wire

router = APIRouter(tags=["callscore"])

#: The insight row holding the media URL an Insights page plays (``PUT …/experiences/url``).
MEDIA_URL_KIND = "experience_url"
#: How long a Call Summary link lasts (Symbl's experience default: 30 days).
LINK_SECONDS = 2_592_000


def _scorecard(session: Session, app_id: str, body: Any) -> dict[str, Any]:
    item = service.validated_scorecard(body)
    service.check_scorecard(session, app_id, item)
    return item


register(
    router,
    Resource(
        path="/v1/manage/callscore/criteria",
        param="criteria_id",
        kind="criteria",
        model=wire.CallScoreCriterion,
        body=wire.CriterionBody,
        patch_body=wire.CriterionPatch,
        validate=lambda _session, _app, body: service.validated_criterion(body),
        to_json=service.criterion_json,
        list=lambda session, app_id: store.list_criteria(session=session, app_id=app_id),
        get=lambda session, app_id, item_id: store.get_criterion(
            session=session, app_id=app_id, criterion_id=item_id
        ),
        create=lambda session, app_id, item: store.create_criterion(
            session=session, app_id=app_id, item=item
        ),
        update=lambda session, row, item: store.update(session=session, row=row, item=item),
        delete=lambda session, row: store.delete_criterion(session=session, row=row),
        readonly=lambda item_id: service.managed_json(item_id) if item_id in MANAGED else None,
    ),
)
register(
    router,
    Resource(
        path="/v1/manage/callscore/scorecards",
        param="scorecard_id",
        kind="scorecard",
        model=wire.Scorecard,
        body=wire.ScorecardBody,
        patch_body=wire.ScorecardPatch,
        validate=_scorecard,
        to_json=service.scorecard_json,
        list=lambda session, app_id: store.list_scorecards(session=session, app_id=app_id),
        get=lambda session, app_id, item_id: store.get_scorecard(
            session=session, app_id=app_id, scorecard_id=item_id
        ),
        create=lambda session, app_id, item: store.create_scorecard(
            session=session, app_id=app_id, item=item
        ),
        update=lambda session, row, item: store.update(session=session, row=row, item=item),
        delete=lambda session, row: store.delete_scorecard(session=session, row=row),
    ),
)


@router.get(
    "/v1/conversations/{conversation_id}/callscore",
    response_model=wire.CallScore,
    response_model_exclude_unset=True,
    responses=errors(400, 404),
)
def get_call_score(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    """The stored call score; 404 when none was asked for or it is not ready, 400 when
    the transcript has fewer than 50 words."""
    return service.call_score(services.storage, app_id, conversation_id)


@router.get(
    "/v1/conversations/{conversation_id}/callscore/status",
    response_model=wire.JobStatusAnswer,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_call_score_status(
    conversation_id: str, app_id: AppId, services: ServicesDep
) -> dict[str, str]:
    return service.call_score_status(services.storage, app_id, conversation_id)


@router.get(
    "/v1/conversations/{conversation_id}/lm-insights/status",
    response_model=wire.JobStatusAnswer,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_insights_status(
    conversation_id: str, app_id: AppId, services: ServicesDep
) -> dict[str, str]:
    return service.insights_status(services.storage, app_id, conversation_id)


_INCLUDE = [query("includeCallScore", {"type": "boolean"}, "show the call score too")]


def _summary_link(request: Request, services: ServicesDep, app_id: str, cid: str) -> str:
    """A signed link to the conversation's shared page (as ``POST …/experiences`` makes),
    which shows the call score when the conversation has one."""
    from parley.api.routes.experiences import AUDIENCE

    now = int(time.time())
    claims = {
        "aud": AUDIENCE,
        "cid": cid,
        "app": app_id,
        "opt": {"name": "verbose-text-summary", "readOnly": True, "callScore": True},
        "iat": now,
        "exp": now + LINK_SECONDS,
    }
    base = str(request.base_url).rstrip("/")
    return f"{base}/experiences/{services.tokens.sign(claims)}"


@router.get(
    "/v1/conversations/experiences/insights/details/{conversation_id}",
    response_model=wire.ExperienceUrl,
    response_model_exclude_unset=True,
    responses=errors(404),
    openapi_extra=doc(params=_INCLUDE),
)
def insights_details(
    conversation_id: str, request: Request, app_id: AppId, services: ServicesDep
) -> dict[str, str]:
    """The Call Summary page of one conversation: a read-only shared page (30 days)."""
    with services.storage.session() as session:
        conversations_store.get_conversation(
            session=session, conversation_id=conversation_id, app_id=app_id
        )
    return {"url": _summary_link(request, services, app_id, conversation_id)}


@router.get(
    "/v1/conversations/experiences/insights/list",
    response_model=wire.ExperienceUrl,
    response_model_exclude_unset=True,
    responses=errors(),
    openapi_extra=doc(params=_INCLUDE),
)
def insights_list(request: Request, app_id: AppId) -> dict[str, str]:
    """The list of conversations: the console's list page (it asks the app's token;
    Parley has no signed link for a whole app)."""
    del app_id  # a token is required, as for every route
    return {"url": str(request.base_url).rstrip("/") + "/#/conversations"}


@router.put(
    "/v1/conversations/{conversation_id}/experiences/url",
    response_model=wire.ExperienceUrl,
    response_model_exclude_unset=True,
    responses=errors(404, 413),
    openapi_extra=doc(body=wire.ExperienceUrlBody),
)
def put_experience_url(
    conversation_id: str, body: Body, app_id: AppId, services: ServicesDep
) -> dict[str, str]:
    """Keep the media URL an Insights page plays for this conversation."""
    with services.storage.session() as session:
        conversation = conversations_store.get_conversation(
            session=session, conversation_id=conversation_id, app_id=app_id
        )
        if not isinstance(body, dict):
            raise BadRequest('The request body must be an object: {"url": "<media url>"}')
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise BadRequest('"url" is required: an http(s) URL of the media')
        if len(url) > 2048 or any(c.isspace() for c in url):
            raise BadRequest('"url" must be at most 2048 characters, without spaces')
        conversations_store.set_insights(
            session=session, conversation_id=conversation.id, insights={MEDIA_URL_KIND: [url]}
        )
    return {"url": url}
