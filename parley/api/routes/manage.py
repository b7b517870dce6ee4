"""The Management API: trackers, in both the 2022 and the later shapes.

``POST /v1/manage/trackers`` means bulk create when the body is an array (2022)
and single create when it is an object (later API). Names are unique per app
(case-sensitive, 409 on a duplicate); bodies are limited to 1 MB (413); an app
has at most 500 trackers; create/update run one at a time per app (429).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parley import ids
from parley.api.deps import AppId, ServicesDep
from parley.api.present import iso
from parley.api.routes.bodies import json_value
from parley.errors import BadRequest, Conflict, NotFound, TooManyJobs
from parley.storage.models import Tracker

router = APIRouter(prefix="/v1/manage", tags=["management"])

MAX_BODY = 1024 * 1024
MAX_TRACKERS = 500
_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)


@contextmanager
def _one_at_a_time(app_id: str) -> Iterator[None]:
    lock = _locks[app_id]
    if not lock.acquire(blocking=False):
        raise TooManyJobs("Only one tracker create or update request at a time is allowed.")
    try:
        yield
    finally:
        lock.release()


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


def _create(session: Session, app_id: str, items: list[dict[str, Any]]) -> list[Tracker]:
    count = session.scalar(select(func.count()).where(Tracker.app_id == app_id)) or 0
    if count + len(items) > MAX_TRACKERS:
        raise BadRequest(f"An account can have at most {MAX_TRACKERS} trackers.")
    names = [i["name"] for i in items]
    if len(set(names)) != len(names):
        raise Conflict("Tracker names in one request must be unique.")
    taken = set(
        session.scalars(
            select(Tracker.name).where(Tracker.app_id == app_id, Tracker.name.in_(names))
        )
    )
    if taken:
        raise Conflict(f'A tracker named "{sorted(taken)[0]}" already exists.')
    trackers = [Tracker(id=ids.numeric_id(), app_id=app_id, **item) for item in items]
    session.add_all(trackers)
    session.flush()
    return trackers


def _get(session: Session, app_id: str, tracker_id: str) -> Tracker:
    tracker = session.get(Tracker, tracker_id)
    if tracker is None or tracker.app_id != app_id:
        raise NotFound(f"Tracker with id {tracker_id} not found.")
    return tracker


def _rename_check(session: Session, tracker: Tracker, name: str) -> None:
    clash = session.scalar(
        select(Tracker.id).where(
            Tracker.app_id == tracker.app_id, Tracker.name == name, Tracker.id != tracker.id
        )
    )
    if clash:
        raise Conflict(f'A tracker named "{name}" already exists.')


@router.post("/tracker")
async def create_tracker(request: Request, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    item = _validated(await json_value(request, max_bytes=MAX_BODY))
    with _one_at_a_time(app_id), services.storage.session() as session:
        return {"tracker": tracker_json(_create(session, app_id, [item])[0])}


@router.post("/trackers")
async def create_trackers(request: Request, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    body = await json_value(request, max_bytes=MAX_BODY)
    if isinstance(body, list):
        return await _bulk(body, app_id, services)
    item = _validated(body)
    with _one_at_a_time(app_id), services.storage.session() as session:
        return {"tracker": tracker_json(_create(session, app_id, [item])[0])}


async def _bulk(body: list[Any], app_id: str, services: ServicesDep) -> dict[str, Any]:
    if not body:
        raise BadRequest("The request body must be a non-empty array of trackers.")
    items = [_validated(b, f"[{i}]") for i, b in enumerate(body)]
    with _one_at_a_time(app_id), services.storage.session() as session:
        return {"trackers": [tracker_json(t) for t in _create(session, app_id, items)]}


@router.post("/trackers/bulk")
async def create_trackers_bulk(
    request: Request, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    body = await json_value(request, max_bytes=MAX_BODY)
    if not isinstance(body, list):
        raise BadRequest("The request body must be an array of trackers.")
    return await _bulk(body, app_id, services)


@router.get("/trackers")
def list_trackers(request: Request, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    query = select(Tracker).where(Tracker.app_id == app_id).order_by(Tracker.created_at)
    name = request.query_params.get("name")
    if name is not None:
        query = query.where(Tracker.name == name)
    with services.storage.session() as session:
        return {"trackers": [tracker_json(t) for t in session.scalars(query)]}


@router.get("/tracker/{tracker_id}")
@router.get("/trackers/{tracker_id}")
def get_tracker(tracker_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        return {"tracker": tracker_json(_get(session, app_id, tracker_id))}


@router.put("/tracker/{tracker_id}")
@router.put("/trackers/{tracker_id}")
async def update_tracker(
    tracker_id: str, request: Request, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    item = _validated(await json_value(request, max_bytes=MAX_BODY))
    with _one_at_a_time(app_id), services.storage.session() as session:
        tracker = _get(session, app_id, tracker_id)
        _rename_check(session, tracker, item["name"])
        for key, value in item.items():
            setattr(tracker, key, value)
        session.flush()
        return {"tracker": tracker_json(tracker)}


_PATCH_PATHS = {
    "/name": "name",
    "/description": "description",
    "/categories": "categories",
    "/languages": "languages",
    "/vocabulary": "vocabulary",
    "/excludeVocabulary": "excludeVocabulary",
}


@router.patch("/trackers/{tracker_id}")
async def patch_tracker(
    tracker_id: str, request: Request, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    ops = await json_value(request, max_bytes=MAX_BODY)
    if not isinstance(ops, list) or not ops:
        raise BadRequest("The request body must be a non-empty array of patch operations.")
    with _one_at_a_time(app_id), services.storage.session() as session:
        tracker = _get(session, app_id, tracker_id)
        current = tracker_json(tracker)
        for i, op in enumerate(ops):
            if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
                raise BadRequest(f'"[{i}].op" must be add, replace or remove')
            field = _PATCH_PATHS.get(op.get("path", ""))
            if field is None:
                raise BadRequest(f'"[{i}].path" must be one of {", ".join(_PATCH_PATHS)}')
            value = op.get("value")
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
        item = _validated(current)
        _rename_check(session, tracker, item["name"])
        for key, value in item.items():
            setattr(tracker, key, value)
        session.flush()
        return {"tracker": tracker_json(tracker)}


@router.delete("/tracker/{tracker_id}")
@router.delete("/trackers/{tracker_id}")
def delete_tracker(tracker_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        session.delete(_get(session, app_id, tracker_id))
    return {"id": tracker_id, "type": "tracker", "deleted": True}
