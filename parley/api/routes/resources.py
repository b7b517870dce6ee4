"""One Management API resource served as a set of routes: create, list, get, put, patch
and delete, over one store and one validator.

The call-score criteria and scorecards share this shape (docs-new: the list is a bare
array, a create or a read the bare object); a resource describes its store, its body
and its JSON once, and ``register`` adds the six routes. Every route is tenant-isolated
through the store's ``get`` (another app's id answers like an unknown one), bodies are
limited to 1 MB (``Body``), and ``readonly`` ids (managed criteria) can be read but
not written.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.orm import Session

from parley.api.deps import AppId, ServicesDep
from parley.api.openapi import doc, errors
from parley.api.routes.manage import Body
from parley.errors import BadRequest
from parley_client import wire

__all__ = ["Resource", "register"]


@dataclass(frozen=True)
class Resource:
    """How one resource is validated, stored and shown."""

    #: The collection's path, e.g. ``/v1/manage/callscore/criteria``.
    path: str
    #: The path parameter naming one item (``criteria_id``): one name per resource, so
    #: the tenancy test can give each resource's ids its own unknown value.
    param: str
    #: The ``type`` of a delete's answer, and the operation names' suffix.
    kind: str
    model: type[BaseModel]
    body: type[BaseModel]
    #: PATCH's body: every field optional.
    patch_body: type[BaseModel]
    #: ``(session, app_id, body) -> columns``: 400 naming the field on bad input.
    validate: Callable[[Session, str, Any], dict[str, Any]]
    to_json: Callable[[Any], dict[str, Any]]
    list: Callable[[Session, str], list[Any]]
    get: Callable[[Session, str, str], Any]
    create: Callable[[Session, str, dict[str, Any]], Any]
    update: Callable[[Session, Any, dict[str, Any]], Any]
    delete: Callable[[Session, Any], None]
    #: Ids served read-only (``id -> JSON``), or None for none.
    readonly: Callable[[str], dict[str, Any] | None] = lambda _id: None


def _writable(resource: Resource, item_id: str) -> None:
    if resource.readonly(item_id) is not None:
        raise BadRequest(f"{item_id} is managed by Parley: it can be used but not changed.")


def _same_id(body: Any, item_id: str) -> None:
    if isinstance(body, dict) and body.get("id") is not None and str(body["id"]) != item_id:
        raise BadRequest('"id" must be the id of the path')


def _named(endpoint: Callable[..., Any], param: str) -> Callable[..., Any]:
    """``endpoint`` with its ``item_id`` parameter published as ``param`` (FastAPI reads
    the path parameter's name from the signature)."""

    def call(**kwargs: Any) -> Any:
        kwargs["item_id"] = kwargs.pop(param)
        return endpoint(**kwargs)

    signature = inspect.signature(endpoint)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            p.replace(name=param) if p.name == "item_id" else p
            for p in signature.parameters.values()
        ]
    )
    call.__doc__ = endpoint.__doc__
    return call


def register(router: APIRouter, resource: Resource) -> None:
    """Add the resource's six routes to ``router``."""
    one = f"{resource.path}/{{{resource.param}}}"

    def create(body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
        with services.storage.session() as session:
            item = resource.validate(session, app_id, body)
            return resource.to_json(resource.create(session, app_id, item))

    def list_all(app_id: AppId, services: ServicesDep) -> list[dict[str, Any]]:
        with services.storage.session() as session:
            return [resource.to_json(r) for r in resource.list(session, app_id)]

    def get_one(item_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
        fixed = resource.readonly(item_id)
        if fixed is not None:
            return fixed
        with services.storage.session() as session:
            return resource.to_json(resource.get(session, app_id, item_id))

    def write(item_id: str, body: Any, app_id: str, services: Any, partial: bool) -> Any:
        _writable(resource, item_id)
        with services.storage.session() as session:
            # ownership first: another app's id answers 404 whatever the body holds
            row = resource.get(session, app_id, item_id)
            if partial and not isinstance(body, dict):
                raise BadRequest("The request body must be an object of the fields to change.")
            _same_id(body, item_id)
            merged = {**resource.to_json(row), **body} if partial else body
            item = resource.validate(session, app_id, merged)
            return resource.to_json(resource.update(session, row, item))

    def put(item_id: str, body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
        result: dict[str, Any] = write(item_id, body, app_id, services, partial=False)
        return result

    def patch(item_id: str, body: Body, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
        result: dict[str, Any] = write(item_id, body, app_id, services, partial=True)
        return result

    def delete(item_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
        _writable(resource, item_id)
        with services.storage.session() as session:
            resource.delete(session, resource.get(session, app_id, item_id))
        return {"id": item_id, "type": resource.kind, "deleted": True}

    body_doc = doc(body=resource.body)
    common: dict[str, Any] = {"response_model_exclude_unset": True}
    kind = resource.kind
    router.add_api_route(
        resource.path,
        create,
        methods=["POST"],
        name=f"create_{kind}",
        response_model=resource.model,
        responses=errors(413),
        openapi_extra=body_doc,
        **common,
    )
    router.add_api_route(
        resource.path,
        list_all,
        methods=["GET"],
        name=f"list_{kind}",
        response_model=list[resource.model],  # type: ignore[name-defined]
        responses=errors(),
        **common,
    )
    router.add_api_route(
        one,
        _named(get_one, resource.param),
        methods=["GET"],
        name=f"get_{kind}",
        response_model=resource.model,
        responses=errors(404),
        **common,
    )
    for method, endpoint, body in (
        ("PUT", put, resource.body),
        ("PATCH", patch, resource.patch_body),
    ):
        router.add_api_route(
            one,
            _named(endpoint, resource.param),
            methods=[method],
            name=f"{method.lower()}_{kind}",
            response_model=resource.model,
            responses=errors(404, 413),
            openapi_extra=doc(body=body),
            **common,
        )
    router.add_api_route(
        one,
        _named(delete, resource.param),
        methods=["DELETE"],
        name=f"delete_{kind}",
        response_model=wire.Deleted,
        responses=errors(404, 409),
        **common,
    )
