"""The webhook delivery log: ``/v1/webhooks/deliveries`` (a Parley extension).

An app lists the deliveries of its jobs' events (newest first), reads one with its last
error, and asks for a replay, which queues the same event again with the same
``webhook-id`` and turns deliveries to a URL that answered 410 back on.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from parley.api.deps import AppId, ServicesDep
from parley.api.openapi import doc, errors, query
from parley.api.params import query_int
from parley.api.present import iso
from parley.errors import BadRequest, NotFound
from parley.storage import webhooks as outbox
from parley.storage.models import WebhookDelivery
from parley.textcheck import parse_digits
from parley_client import wire

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

NOT_FOUND = "The webhook delivery could not be found, please check the id provided"
STATES = ("pending", "delivered", "failed")


def delivery_json(row: WebhookDelivery) -> dict[str, Any]:
    try:
        event = json.loads(row.body)
    except ValueError:
        event = None
    event = event if isinstance(event, dict) else {}
    return {
        "id": str(row.id),
        "eventId": row.event_id,
        "jobId": row.job_id,
        "conversationId": event.get("conversationId"),
        "status": event.get("status"),
        "url": row.url,
        "state": row.state,
        "attempts": row.attempts,
        "lastError": row.last_error,
        "nextAttemptAt": iso(row.next_attempt_at) if row.state == "pending" else None,
        "createdOn": iso(row.created_at),
        "updatedOn": iso(row.updated_at),
    }


def _delivery_id(raw: str) -> int:
    """The numeric id in the path; anything else (even "²") names no delivery."""
    value = parse_digits(raw)
    if value is None:
        raise NotFound(NOT_FOUND)
    return value


@router.get(
    "/deliveries",
    response_model=wire.DeliveryList,
    response_model_exclude_unset=True,
    responses=errors(),
    openapi_extra=doc(
        params=[
            query("limit", {"type": "integer", "minimum": 0, "maximum": 1000}),
            query("offset", {"type": "integer", "minimum": 0, "maximum": 10**9}),
            query("state", {"type": "string", "enum": list(STATES)}),
            query("jobId", {"type": "string", "maxLength": 64}),
        ]
    ),
)
def list_deliveries(request: Request, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    state = request.query_params.get("state")
    if state is not None and state not in STATES:
        raise BadRequest(f'"state" must be one of {", ".join(STATES)}')
    job_id = request.query_params.get("jobId")
    if job_id is not None and len(job_id) > 64:
        raise BadRequest('"jobId" must be at most 64 characters')
    with services.storage.session() as session:
        rows = outbox.list_for_app(
            session=session,
            app_id=app_id,
            limit=query_int(request, "limit", 50, 0, 1000),
            offset=query_int(request, "offset", 0, 0, 10**9),
            job_id=job_id,
            state=state,
        )
        return {"deliveries": [delivery_json(r) for r in rows]}


@router.get(
    "/deliveries/{delivery_id}",
    response_model=wire.DeliveryEnvelope,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def get_delivery(delivery_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        row = outbox.get_for_app(
            session=session, app_id=app_id, delivery_id=_delivery_id(delivery_id)
        )
        if row is None:
            raise NotFound(NOT_FOUND)
        return {"delivery": delivery_json(row)}


@router.post(
    "/deliveries/{delivery_id}/replay",
    status_code=202,
    response_model=wire.DeliveryEnvelope,
    response_model_exclude_unset=True,
    responses=errors(404),
)
def replay_delivery(delivery_id: str, app_id: AppId, services: ServicesDep) -> dict[str, Any]:
    with services.storage.session() as session:
        row = outbox.get_for_app(
            session=session, app_id=app_id, delivery_id=_delivery_id(delivery_id)
        )
        if row is None:
            raise NotFound(NOT_FOUND)
        again = outbox.replay(session=session, delivery=row)
        body = {"delivery": delivery_json(again)}
    services.webhooks.wake()
    return body
