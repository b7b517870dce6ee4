"""Conversation groups: ``/v1/manage/group[s]`` (CRUD) and ``/v1/groups/{id}/conversations``.

A group's conversations are the app's conversations whose metadata satisfies its RSQL
criteria, matched in the database when asked for, with the conversation list's query
(limit, offset, order, sort, window, filter) and the list's JSON.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from parley import groups as service
from parley.api.deps import AppId, ServicesDep, json_limited
from parley.api.openapi import doc, errors, ref
from parley.api.routes.conversations import LIST_QUERY, conversation_page
from parley.errors import BadRequest
from parley.storage import groups as store
from parley_client import wire

router = APIRouter(tags=["groups"])

MAX_BODY = 1024 * 1024
#: A JSON body of at most 1 MB (413 beyond), like every Management API body.
Body = Annotated[Any, Depends(json_limited(MAX_BODY))]
_ARRAY_OF_GROUPS = {"type": "array", "minItems": 1, "items": ref(wire.GroupBody)}


@router.post(
    "/v1/manage/group",
    response_model=wire.GroupEnvelope,
    response_model_exclude_unset=True,
    responses=errors(413),
    openapi_extra=doc(body=wire.GroupBody),
)
def create_group(body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    item = service.validated(body)
    with services.storage.session() as session:
        group = store.create_groups(session=session, app_id=app_id, items=[item])[0]
        return {"group": service.group_json(group)}


@router.post(
    "/v1/manage/groups",
    response_model=wire.GroupList,
    response_model_exclude_unset=True,
    responses=errors(413),
    openapi_extra=doc(body=wire.GroupBody, body_schema=_ARRAY_OF_GROUPS),
)
def create_groups(body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    if not isinstance(body, list) or not body:
        raise BadRequest("The request body must be a non-empty array of groups.")
    items = [service.validated(b, f"[{i}]") for i, b in enumerate(body)]
    with services.storage.session() as session:
        groups = store.create_groups(session=session, app_id=app_id, items=items)
        return {"groups": [service.group_json(g) for g in groups]}


@router.get(
    "/v1/manage/groups",
    response_model=wire.GroupList,
    response_model_exclude_unset=True,
    responses=errors(),
)
def list_groups(app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        groups = store.list_groups(session=session, app_id=app_id)
        return {"groups": [service.group_json(g) for g in groups]}


@router.get(
    "/v1/manage/group/{group_id}",
    response_model=wire.GroupEnvelope,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_group(group_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        group = store.get_group(session=session, app_id=app_id, group_id=group_id)
        return {"group": service.group_json(group)}


@router.put(
    "/v1/manage/group/{group_id}",
    response_model=wire.GroupEnvelope,
    response_model_exclude_unset=True,
    responses=errors(404, 413),
    openapi_extra=doc(body=wire.GroupBody),
)
def update_group(group_id: str, body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        # ownership first: another app's id answers 404 whatever the body holds
        group = store.get_group(session=session, app_id=app_id, group_id=group_id)
        item = service.validated(body)
        if body.get("id") is not None and str(body["id"]) != group_id:
            raise BadRequest('"id" must be the groupId of the path')
        return {
            "group": service.group_json(store.update_group(session=session, group=group, item=item))
        }


@router.delete(
    "/v1/manage/group/{group_id}",
    response_model=wire.Deleted,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def delete_group(group_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        session.delete(store.get_group(session=session, app_id=app_id, group_id=group_id))
    return {"id": group_id, "type": "group", "deleted": True}


@router.get(
    "/v1/groups/{group_id}/conversations",
    response_model=wire.ConversationList,
    response_model_exclude_unset=True,
    responses=errors(404),
    openapi_extra=doc(params=[p for p in LIST_QUERY if p["name"] != "query"]),
)
def group_conversations(
    group_id: str, request: Request, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    with services.storage.session() as session:
        group = store.get_group(session=session, app_id=app_id, group_id=group_id)
        terms = service.criteria_terms(group)
    return conversation_page(request, app_id, services, terms)
