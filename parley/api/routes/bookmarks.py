"""Bookmarks of a conversation (spec R.3): ``/v1/conversations/{id}/bookmarks[/bulk]``,
``…/bookmarks/{bookmarkId}[/summary]`` and ``…/bookmarks-summary``.

The logic (which messages a bookmark holds, the checks, the summaries) is in
``parley.bookmarks``; this only translates. Every route checks that the conversation is
the caller's before it looks at the body.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from parley import bookmarks as service
from parley.api.deps import AppId, ServicesDep
from parley.api.openapi import doc, errors, ref
from parley.api.routes.manage import Body
from parley_client import wire

router = APIRouter(prefix="/v1/conversations", tags=["bookmarks"])

_BULK = {
    "oneOf": [
        {"type": "array", "minItems": 1, "items": ref(wire.BookmarkBody)},
        {
            "type": "object",
            "required": ["bookmarks"],
            "properties": {
                "bookmarks": {"type": "array", "minItems": 1, "items": ref(wire.BookmarkBody)}
            },
        },
    ]
}


@router.post(
    "/{conversation_id}/bookmarks",
    response_model=wire.Bookmark,
    response_model_exclude_unset=True,
    responses=errors(404, 413),
    openapi_extra=doc(body=wire.BookmarkBody),
)
def create_bookmark(
    conversation_id: str, body: Body, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    """One bookmark; answers it bare (go-sdk decodes a bare ``Bookmark``)."""
    return service.create(services.storage, app_id, conversation_id, body, bulk=False)[0]


@router.post(
    "/{conversation_id}/bookmarks/bulk",
    response_model=wire.BookmarkList,
    response_model_exclude_unset=True,
    responses=errors(404, 413),
    openapi_extra=doc(body=wire.BookmarkBody, body_schema=_BULK),
)
def create_bookmarks(
    conversation_id: str, body: Body, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    """Several bookmarks, all or none: an array (R.3), or ``{"bookmarks": [...]}``."""
    return {"bookmarks": service.create(services.storage, app_id, conversation_id, body, bulk=True)}


@router.get(
    "/{conversation_id}/bookmarks",
    response_model=wire.BookmarkList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def list_bookmarks(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    return {"bookmarks": service.list_all(services.storage, app_id, conversation_id)}


@router.get(
    "/{conversation_id}/bookmarks/{bookmark_id}",
    response_model=wire.Bookmark,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_bookmark(
    conversation_id: str, bookmark_id: str, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    return service.get(services.storage, app_id, conversation_id, bookmark_id)


@router.put(
    "/{conversation_id}/bookmarks/{bookmark_id}",
    response_model=wire.Bookmark,
    response_model_exclude_unset=True,
    responses=errors(404, 413),
    openapi_extra=doc(body=wire.BookmarkBody),
)
def update_bookmark(
    conversation_id: str, bookmark_id: str, body: Body, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    """Replace the whole bookmark: a field the body leaves out is cleared."""
    return service.replace(services.storage, app_id, conversation_id, bookmark_id, body)


@router.delete(
    "/{conversation_id}/bookmarks/{bookmark_id}",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "The bookmark is deleted."}, **errors(404)},
)
def delete_bookmark(
    conversation_id: str, bookmark_id: str, app_id: AppId, services: ServicesDep
) -> Response:
    service.delete(services.storage, app_id, conversation_id, bookmark_id)
    return Response(status_code=204)


@router.get(
    "/{conversation_id}/bookmarks/{bookmark_id}/summary",
    response_model=wire.BookmarkSummaryList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def bookmark_summary(
    conversation_id: str, bookmark_id: str, app_id: AppId, services: ServicesDep
) -> dict[str, Any]:
    """The summary of the bookmark's messages alone."""
    found = service.summaries(
        services.storage, services.insight, app_id, conversation_id, bookmark_id
    )
    return {"summary": found[0][1]}


@router.get(
    "/{conversation_id}/bookmarks-summary",
    response_model=wire.BookmarksSummaryList,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def bookmarks_summary(conversation_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    """Each bookmark's summary. Query parameters are ignored (go-sdk appends malformed
    filter strings)."""
    found = service.summaries(services.storage, services.insight, app_id, conversation_id)
    return {"bookmarksSummary": [{"bookmarkId": bid, "summary": s} for bid, s in found]}
