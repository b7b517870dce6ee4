"""The Management API: trackers, in both the 2022 and the later shapes.

``POST /v1/manage/trackers`` means bulk create when the body is an array (2022)
and single create when it is an object (later API). Names are unique per app
(case-sensitive, 409 on a duplicate); bodies are limited to 1 MB (413); an app
has at most 500 trackers; create/update run one at a time per app (429).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from parley.api.deps import AppId, ServicesDep, json_limited
from parley.api.openapi import doc, errors, query, ref
from parley.errors import BadRequest
from parley.storage import trackers as store
from parley.storage.models import Tracker
from parley.times import iso
from parley_client import wire

router = APIRouter(prefix="/v1/manage", tags=["management"])

MAX_BODY = 1024 * 1024
_ARRAY_OF_TRACKERS = {"type": "array", "minItems": 1, "items": ref(wire.TrackerBody)}
#: A JSON body of at most 1 MB (413 beyond).
Body = Annotated[Any, Depends(json_limited(MAX_BODY))]


def tracker_json(tracker: Tracker) -> dict[str, Any]:
    return {
        "id": tracker.id,
        "name": tracker.name,
        "description": tracker.description or "",
        "categories": tracker.categories or [],
        "languages": tracker.languages or ["en-US"],
        "vocabulary": tracker.vocabulary,
        "excludeVocabulary": tracker.exclude_vocabulary or [],
        "createdOn": iso(tracker.created_at),
        "updatedOn": iso(tracker.updated_at),
    }


def _strings(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f'"{name}" must be an array of strings')
    return value


def _validated(body: Any, where: str = "tracker") -> dict[str, Any]:
    from parley.insights.trackers import validate_vocabulary

    if not isinstance(body, dict):
        raise BadRequest(f'"{where}" must be an object')
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest(f'"{where}.name" is required and must be a non-empty string')
    if len(name) > 255:
        raise BadRequest(f'"{where}.name" must be at most 255 characters')
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        raise BadRequest(f'"{where}.description" must be a string')
    try:
        vocabulary = list(validate_vocabulary(body.get("vocabulary")))
        exclude = (
            list(validate_vocabulary(body["excludeVocabulary"]))
            if body.get("excludeVocabulary")
            else []
        )
    except ValueError as exc:
        raise BadRequest(f'"{where}.vocabulary": {exc}') from None
    return {
        "name": name.strip(),
        "description": description,
        "categories": _strings(f"{where}.categories", body.get("categories")),
        "languages": _strings(f"{where}.languages", body.get("languages")) or ["en-US"],
        "vocabulary": vocabulary,
        "exclude_vocabulary": exclude,
    }


def _create(services: ServicesDep, app_id: str, items: list[dict[str, Any]]) -> list[Tracker]:
    with store.one_writer(services.storage, app_id), services.storage.session() as session:
        return store.create_trackers(session=session, app_id=app_id, items=items)


@router.post(
    "/tracker",
    response_model=wire.TrackerEnvelope,
    response_model_exclude_unset=True,
    responses=errors(409, 413, 429),
    openapi_extra=doc(body=wire.TrackerBody),
)
def create_tracker(body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    return {"tracker": tracker_json(_create(services, app_id, [_validated(body)])[0])}


@router.post(
    "/trackers",
    response_model=wire.TrackerEnvelope | wire.TrackerList,
    response_model_exclude_unset=True,
    responses=errors(409, 413, 429),
    openapi_extra=doc(
        body=wire.TrackerBody,
        body_schema={"oneOf": [ref(wire.TrackerBody), _ARRAY_OF_TRACKERS]},
    ),
)
def create_trackers(body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    if isinstance(body, list):
        return _bulk(body, app_id, services)
    return {"tracker": tracker_json(_create(services, app_id, [_validated(body)])[0])}


def _bulk(body: list[Any], app_id: str, services: ServicesDep) -> dict[str, Any]:
    if not body:
        raise BadRequest("The request body must be a non-empty array of trackers.")
    items = [_validated(b, f"[{i}]") for i, b in enumerate(body)]
    return {"trackers": [tracker_json(t) for t in _create(services, app_id, items)]}


@router.post(
    "/trackers/bulk",
    response_model=wire.TrackerList,
    response_model_exclude_unset=True,
    responses=errors(409, 413, 429),
    openapi_extra=doc(body=wire.TrackerBody, body_schema=_ARRAY_OF_TRACKERS),
)
def create_trackers_bulk(body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    if not isinstance(body, list):
        raise BadRequest("The request body must be an array of trackers.")
    return _bulk(body, app_id, services)


@router.get(
    "/trackers",
    response_model=wire.TrackerList,
    response_model_exclude_unset=True,
    responses=errors(),
    openapi_extra=doc(params=[query("name", {"type": "string"})]),
)
def list_trackers(request: Request, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    name = request.query_params.get("name")
    with services.storage.session() as session:
        trackers = store.list_trackers(session=session, app_id=app_id, name=name)
        return {"trackers": [tracker_json(t) for t in trackers]}


@router.get(
    "/tracker/{tracker_id}",
    response_model=wire.TrackerEnvelope,
    response_model_exclude_unset=True,
    responses=errors(404),
)
@router.get(
    "/trackers/{tracker_id}",
    response_model=wire.TrackerEnvelope,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_tracker(tracker_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        tracker = store.get_tracker(session=session, app_id=app_id, tracker_id=tracker_id)
        return {"tracker": tracker_json(tracker)}


@router.put(
    "/tracker/{tracker_id}",
    response_model=wire.TrackerEnvelope,
    response_model_exclude_unset=True,
    responses=errors(404, 409, 413, 429),
    openapi_extra=doc(body=wire.TrackerBody),
)
@router.put(
    "/trackers/{tracker_id}",
    response_model=wire.TrackerEnvelope,
    response_model_exclude_unset=True,
    responses=errors(404, 409, 413, 429),
    openapi_extra=doc(body=wire.TrackerBody),
)
def update_tracker(
    tracker_id: str, body: Body, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    item = _validated(body)
    with store.one_writer(services.storage, app_id), services.storage.session() as session:
        tracker = store.get_tracker(session=session, app_id=app_id, tracker_id=tracker_id)
        return {
            "tracker": tracker_json(
                store.update_tracker(session=session, tracker=tracker, item=item)
            )
        }


_PATCH_PATHS = {
    "/name": "name",
    "/description": "description",
    "/categories": "categories",
    "/languages": "languages",
    "/vocabulary": "vocabulary",
    "/excludeVocabulary": "excludeVocabulary",
}


def _patched(current: dict[str, Any], ops: Any) -> dict[str, Any]:
    """A tracker's JSON with JSON-Patch-like operations applied."""
    if not isinstance(ops, list) or not ops:
        raise BadRequest("The request body must be a non-empty array of patch operations.")
    for i, op in enumerate(ops):
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
            raise BadRequest(f'"[{i}].op" must be add, replace or remove')
        path = op.get("path", "")
        field = _PATCH_PATHS.get(path) if isinstance(path, str) else None
        if field is None:
            raise BadRequest(f'"[{i}].path" must be one of {", ".join(_PATCH_PATHS)}')
        value = op.get("value")
        if op["op"] == "remove" and value is None:  # JSON Patch: remove the whole member
            current[field] = [] if isinstance(current[field], list) else None
            continue
        if op["op"] in ("add", "remove") and isinstance(current[field], list):
            # the items are compared and stored as strings: {} or [[1]] is refused here,
            # not left to fail as an unhashable value
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) for v in items):
                raise BadRequest(f'"[{i}].value" must be a string or an array of strings')
        if op["op"] == "remove":
            if isinstance(current[field], list):
                drop = set(value if isinstance(value, list) else [value])
                current[field] = [v for v in current[field] if v not in drop]
            else:
                current[field] = None
        elif op["op"] == "add" and isinstance(current[field], list):
            current[field] = current[field] + (value if isinstance(value, list) else [value])
        else:
            current[field] = value
    return current


@router.patch(
    "/trackers/{tracker_id}",
    response_model=wire.TrackerEnvelope,
    response_model_exclude_unset=True,
    responses=errors(404, 409, 413, 429),
    openapi_extra=doc(
        body=wire.PatchOperation,
        body_schema={"type": "array", "minItems": 1, "items": ref(wire.PatchOperation)},
    ),
)
def patch_tracker(
    tracker_id: str, body: Body, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    with store.one_writer(services.storage, app_id), services.storage.session() as session:
        tracker = store.get_tracker(session=session, app_id=app_id, tracker_id=tracker_id)
        item = _validated(_patched(tracker_json(tracker), body))
        return {
            "tracker": tracker_json(
                store.update_tracker(session=session, tracker=tracker, item=item)
            )
        }


@router.delete(
    "/tracker/{tracker_id}",
    response_model=wire.Deleted,
    response_model_exclude_unset=True,
    responses=errors(404),
)
@router.delete(
    "/trackers/{tracker_id}",
    response_model=wire.Deleted,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def delete_tracker(tracker_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        session.delete(store.get_tracker(session=session, app_id=app_id, tracker_id=tracker_id))
    return {"id": tracker_id, "type": "tracker", "deleted": True}
