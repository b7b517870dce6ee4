"""The Management API: custom entities, in both documented path generations.

``/v1/manage/entity[/{id}]`` (older docs) and ``/v1/manage/entities[/bulk][/{id}]`` (the
go-sdk and newer docs) are both served. ``POST /v1/manage/entities`` creates one entity
when the body is an object (newer docs) and several when it is an array (older docs).
The answers differ by route as Symbl's did: a bare entity from a create or a read, an
``{"entity"}`` envelope from an update, ``{"entities": [...]}`` from a list or a bulk
create. Bodies are limited to 1 MB (413), as every management body; a subType is unique
within its type (409). Stored entities are detected in every conversation processed
with ``detectEntities`` (``parley.insights.custom_entities``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from parley.api.deps import AppId, ServicesDep
from parley.api.openapi import doc, errors, query, ref
from parley.api.routes.manage import Body
from parley.errors import BadRequest
from parley.insights.custom_entities import CATEGORY, validate_values
from parley.storage import entities as store
from parley.storage.models import EntityDefinition
from parley_client import wire
from parley_client.wire.limits import LIMITS

router = APIRouter(prefix="/v1/manage", tags=["management"])

_ARRAY_OF_ENTITIES = {"type": "array", "minItems": 1, "items": ref(wire.EntityBody)}


def entity_json(entity: EntityDefinition) -> dict[str, Any]:
    return {
        "id": entity.id,
        "type": entity.type,
        "subType": entity.sub_type,
        "category": entity.category,
        "values": entity.values,
    }


def _name(body: dict[str, Any], key: str, where: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f'"{where}{key}" is required and must be a non-empty string')
    if len(value) > LIMITS["name"]:
        raise BadRequest(f'"{where}{key}" must be at most {LIMITS["name"]} characters')
    return value


def _validated(body: Any, where: str = "") -> dict[str, Any]:
    """A stored entity's fields from a request's entity (``where`` prefixes field names
    in messages: ``[2].`` for the third of a bulk create)."""
    if not isinstance(body, dict):
        raise BadRequest(f'"{where.rstrip(".") or "entity"}" must be an object')
    type_ = _name(body, "type", where)
    sub_type = _name(body, "subType", where)
    category = body.get("category")
    if category is None:
        raise BadRequest(f'"{where}category" is required')
    if category != CATEGORY:
        raise BadRequest(
            f'"{where}category" must be "{CATEGORY}" ("Managed" is reserved for built-in entities)'
        )
    if "values" not in body:
        raise BadRequest(f'"{where}values" is required')
    try:
        values = list(validate_values(body["values"]))
    except ValueError as exc:
        raise BadRequest(f"{where}{exc}" if where else str(exc)) from None
    return {"type": type_, "sub_type": sub_type, "category": category, "values": values}


def _create(services: ServicesDep, app_id: str, items: list[dict[str, Any]]) -> list[Any]:
    with services.storage.session() as session:
        created = store.create_entities(session=session, app_id=app_id, items=items)
        return [entity_json(e) for e in created]


def _bulk(body: Any, app_id: str, services: ServicesDep) -> dict[str, Any]:
    if not isinstance(body, list) or not body:
        raise BadRequest("The request body must be a non-empty array of entities.")
    items = [_validated(b, f"[{i}].") for i, b in enumerate(body)]
    return {"entities": _create(services, app_id, items)}


@router.post(
    "/entity",
    response_model=wire.CustomEntity,
    response_model_exclude_unset=True,
    responses=errors(409, 413),
    openapi_extra=doc(body=wire.EntityBody),
)
def create_entity(body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    created: dict[str, Any] = _create(services, app_id, [_validated(body)])[0]
    return created


@router.post(
    "/entities",
    response_model=wire.CustomEntity | wire.CustomEntityList,
    response_model_exclude_unset=True,
    responses=errors(409, 413),
    openapi_extra=doc(
        body=wire.EntityBody,
        body_schema={"oneOf": [ref(wire.EntityBody), _ARRAY_OF_ENTITIES]},
    ),
)
def create_entities(body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    if isinstance(body, list):
        return _bulk(body, app_id, services)
    created: dict[str, Any] = _create(services, app_id, [_validated(body)])[0]
    return created


@router.post(
    "/entities/bulk",
    response_model=wire.CustomEntityList,
    response_model_exclude_unset=True,
    responses=errors(409, 413),
    openapi_extra=doc(body=wire.EntityBody, body_schema=_ARRAY_OF_ENTITIES),
)
def create_entities_bulk(body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    return _bulk(body, app_id, services)


@router.get(
    "/entities",
    response_model=wire.CustomEntityList,
    response_model_exclude_unset=True,
    responses=errors(),
)
def list_entities(app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        entities = store.list_entities(session=session, app_id=app_id)
        return {"entities": [entity_json(e) for e in entities]}


@router.get(
    "/entity/{entity_id}",
    response_model=wire.CustomEntity,
    response_model_exclude_unset=True,
    responses=errors(404),
)
@router.get(
    "/entities/{entity_id}",
    response_model=wire.CustomEntity,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_entity(entity_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        return entity_json(store.get_entity(session=session, app_id=app_id, entity_id=entity_id))


@router.put(
    "/entity/{entity_id}",
    response_model=wire.CustomEntityEnvelope,
    response_model_exclude_unset=True,
    responses=errors(404, 409, 413),
    openapi_extra=doc(body=wire.EntityBody),
)
@router.put(
    "/entities/{entity_id}",
    response_model=wire.CustomEntityEnvelope,
    response_model_exclude_unset=True,
    responses=errors(404, 409, 413),
    openapi_extra=doc(body=wire.EntityBody),
)
def update_entity(
    entity_id: str, body: Body, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    with services.storage.session() as session:
        entity = store.get_entity(session=session, app_id=app_id, entity_id=entity_id)
        item = _validated(body)
        return {
            "entity": entity_json(store.update_entity(session=session, entity=entity, item=item))
        }


@router.delete(
    "/entity/{entity_id}",
    response_model=wire.Deleted,
    response_model_exclude_unset=True,
    responses=errors(404),
)
@router.delete(
    "/entities/{entity_id}",
    response_model=wire.Deleted,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def delete_entity(entity_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        entity = store.get_entity(session=session, app_id=app_id, entity_id=entity_id)
        store.delete_entity(session=session, entity=entity)
    return {"id": entity_id, "type": "entity", "deleted": True}


@router.delete(
    "/entities",
    response_model=wire.CustomEntitiesDeleted,
    response_model_exclude_unset=True,
    responses=errors(404),
    openapi_extra=doc(
        params=[
            {**query("subType", {"type": "string", "minLength": 1}), "required": True},
            query("type", {"type": "string", "minLength": 1}, "only entities of this type"),
        ]
    ),
)
def delete_entities_by_sub_type(
    request: Request, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    """Every entity of the app with this subType (of any type, unless ``type`` is given);
    404 when there is none. Without ``subType`` nothing is deleted (400)."""
    sub_type = request.query_params.get("subType")
    if not sub_type:
        raise BadRequest('"subType" is required: the subType of the entities to delete')
    type_ = request.query_params.get("type") or None
    with services.storage.session() as session:
        ids = store.delete_by_sub_type(
            session=session, app_id=app_id, sub_type=sub_type, type_=type_
        )
    return {"subType": sub_type, "ids": ids, "deleted": True}
