"""The Conversation API's insights: ``/v1/conversations/{id}/questions`` and the rest.

Insight endpoints answer with the stored results; before a job has produced any they
answer with the empty shapes (never 404), so SDK calls succeed. Reading never changes
what is stored, except that a summary asked for before one exists is made once and kept.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from parley import bookmarks
from parley import conversations as service
from parley.analytics import Span, analytics
from parley.api.deps import AppId, OptionalJsonObject, ServicesDep
from parley.api.openapi import doc, errors, query
from parley.api.present import with_people
from parley.api.routes.conversations import conversation_of, flag, members_of
from parley.errors import BadRequest, Conflict, NotFound
from parley.options.job import OPTION_FIELDS, parse_options
from parley.storage import conversations as store
from parley.storage import jobs as jobs_store
from parley_client import wire
from parley_client.wire.people import person_json

router = APIRouter(prefix="/v1/conversations", tags=["insights"])
_TOPIC_FLAGS = ("sentiment", "parentRefs", "refresh")


def _insights(
    services: ServicesDep, app_id: str, conversation_id: str, kind: str
) -> list[dict[str, Any]]:
    with services.storage.session() as session:
        conversation = conversation_of(session, app_id, conversation_id)
        items = store.get_insights(session=session, conversation_id=conversation.id, kind=kind)
        return with_people(items, members_of(session, conversation.id))


def _busy(services: ServicesDep, conversation_id: str) -> bool:
    with services.storage.session() as session:
        return jobs_store.active_in_conversation(session=session, conversation_id=conversation_id)


@router.get(
    "/{conversation_id}/questions",
    response_model=wire.QuestionList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_questions(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    return {"questions": _insights(services, app_id, conversation_id, "questions")}


@router.get(
    "/{conversation_id}/action-items",
    response_model=wire.ActionItemList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_action_items(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    return {"actionItems": _insights(services, app_id, conversation_id, "action_items")}


@router.get(
    "/{conversation_id}/comprehensive/action-items",
    response_model=wire.ComprehensiveActionItemList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_comprehensive_action_items(
    conversation_id: str, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    items = _insights(services, app_id, conversation_id, "action_items")
    return {
        "actionItems": [
            {k: v for k, v in item.items() if k != "messageIds"}
            | {"messageRefs": [{"id": i} for i in item.get("messageIds", [])]}
            for item in items
        ]
    }


@router.get(
    "/{conversation_id}/follow-ups",
    response_model=wire.FollowUpList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_follow_ups(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    return {"followUps": _insights(services, app_id, conversation_id, "follow_ups")}


@router.get(
    "/{conversation_id}/insights",
    response_model=wire.InsightList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_all_insights(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for kind in ("action_items", "questions", "follow_ups"):
        items.extend(_insights(services, app_id, conversation_id, kind))
    return {"insights": items}


@router.get(
    "/{conversation_id}/intents",
    response_model=wire.IntentList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_intents(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        conversation_of(session, app_id, conversation_id)
    return {"intents": []}


#: Options that change insights and may be given again when recomputing them.
_INSIGHT_OPTIONS = (
    "confidenceThreshold",
    "detectPhrases",
    "detectEntities",
    "entities",
    "customEntities",
    "trackers",
    "enableAllTrackers",
    "enableSummary",
    "timezoneOffset",
)


@router.post(
    "/{conversation_id}/refresh",
    response_model=wire.Refreshed,
    response_model_exclude_unset=True,
    responses=errors(404, 409, 413),
    openapi_extra=doc(body=wire.RefreshRequest, body_required=False),
)
def refresh_insights(
    conversation_id: str, body: OptionalJsonObject, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    """Parley extension: recompute every insight from the stored sentences.

    For after a member rename, a tracker change or a model upgrade: nothing is
    transcribed again. An optional JSON body changes insight options (the
    submission names: trackers, enableAllTrackers, confidenceThreshold, ...).
    """
    unknown = sorted(set(body) - set(_INSIGHT_OPTIONS))
    if unknown:
        raise BadRequest(f'"{unknown[0]}" cannot be changed when refreshing insights')
    changes = parse_options({k: [v] for k, v in body.items()}).to_json()
    with services.storage.session() as session:
        conversation = conversation_of(session, app_id, conversation_id)
        if jobs_store.active_in_conversation(session=session, conversation_id=conversation.id):
            raise Conflict("The conversation is still being processed; refresh it afterwards.")
        current = conversation.insight_options or {}
        given = {OPTION_FIELDS.get(k, k) for k in body}
        conversation.insight_options = current | {k: v for k, v in changes.items() if k in given}
    service.refresh_insights(
        storage=services.storage, conversation_id=conversation_id, insight=services.insight
    )
    return {"conversationId": conversation_id, "refreshed": list(service.INSIGHT_KINDS)}


@router.get(
    "/{conversation_id}/topics",
    response_model=wire.TopicList,
    response_model_exclude_unset=True,
    responses=errors(404),
    openapi_extra=doc(params=[query(k, {"type": "boolean"}) for k in _TOPIC_FLAGS]),
)
def get_topics(
    conversation_id: str, request: Request, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    if flag(request, "refresh"):
        with services.storage.session() as session:
            conversation_of(session, app_id, conversation_id)
        if not _busy(services, conversation_id):
            service.refresh_insights(
                storage=services.storage, conversation_id=conversation_id, insight=services.insight
            )
    topics = _insights(services, app_id, conversation_id, "topics")
    sentiment, parents = flag(request, "sentiment"), flag(request, "parentRefs")
    shaped = []
    for topic in topics:
        topic = dict(topic)
        if not sentiment:
            topic.pop("sentiment", None)
        if not parents:
            topic["parentRefs"] = []
        shaped.append(topic)
    return {"topics": shaped}


@router.get(
    "/{conversation_id}/abstract-topics",
    response_model=wire.AbstractTopicList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_abstract_topics(
    conversation_id: str, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    """High-level themes (Symbl Labs) from Parley's curated theme list, matched by meaning
    with the bundled sentence model; worked out on first read and kept until the
    conversation's text changes."""
    items = service.abstract_topics(
        storage=services.storage,
        app_id=app_id,
        conversation_id=conversation_id,
        insight=services.insight,
    )
    return {"abstractTopics": items}


@router.get(
    "/{conversation_id}/entities",
    response_model=wire.EntityList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_entities(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    """Custom entities are detected again first if the app's entity list changed."""
    items = service.current_entities(
        storage=services.storage,
        app_id=app_id,
        conversation_id=conversation_id,
        insight=services.insight,
    )
    with services.storage.session() as session:
        return {"entities": with_people(items, members_of(session, conversation_id))}


@router.get(
    "/{conversation_id}/trackers",
    response_model=list[wire.TrackerMatch],
    response_model_exclude_unset=True,
    responses=errors(404),
)
@router.get(
    "/{conversation_id}/trackers-detected",
    response_model=list[wire.TrackerMatch],
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_trackers(
    conversation_id: str, app_id: AppId, services: ServicesDep
) -> list[dict[str, Any]]:
    return _insights(services, app_id, conversation_id, "trackers")


@router.get(
    "/{conversation_id}/summary",
    response_model=wire.SummaryList,
    response_model_exclude_unset=True,
    responses=errors(404),
    openapi_extra=doc(params=[query("refresh", {"type": "boolean"})]),
)
@router.post(
    "/{conversation_id}/summary",
    response_model=wire.SummaryList,
    response_model_exclude_unset=True,
    responses=errors(404),
    openapi_extra=doc(params=[query("refresh", {"type": "boolean"})]),
)
def get_summary(
    conversation_id: str, request: Request, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    with services.storage.session() as session:
        conversation = conversation_of(session, app_id, conversation_id)
        if jobs_store.active_in_conversation(session=session, conversation_id=conversation.id):
            raise NotFound("The summary is not ready: the conversation is still being processed.")
        if flag(request, "refresh"):
            store.set_insights(
                session=session, conversation_id=conversation.id, insights={"summary": []}
            )
    summary = service.ensure_summary(
        storage=services.storage, conversation=conversation, insight=services.insight
    )
    # items within a bookmark say so; without bookmarks the items are as stored
    summary = bookmarks.with_references(services.storage, conversation.id, summary)
    with services.storage.session() as session:
        return {"summary": with_people(summary, members_of(session, conversation.id))}


@router.get(
    "/{conversation_id}/analytics",
    response_model=wire.Analytics,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_analytics(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        conversation = conversation_of(session, app_id, conversation_id)
        members = store.list_members(session=session, conversation_id=conversation.id)
        spans: list[Span] = []
        for message in store.list_messages(session=session, conversation_id=conversation.id):
            if message.words:
                spans.extend(Span(message.member_id, w["start"], w["end"]) for w in message.words)
            else:
                spans.append(
                    Span(
                        message.member_id,
                        message.start,
                        message.end,
                        words=len(message.text.split()),
                    )
                )
        people = [person_json(m, "from") for m in members]
        if any(s.member_id is None for s in spans):
            people.append({"name": "Unknown Speaker"})
        return analytics(spans, people, conversation.duration)
