"""``POST /oauth2/token:generate``.

A plain ``def``: the secret check is deliberately slow (PBKDF2), so it runs in the
thread pool, never on the event loop. The body is small by nature and capped.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from parley.api.deps import ServicesDep, json_limited
from parley.api.openapi import doc, errors
from parley.errors import BadRequest
from parley_client import wire

router = APIRouter(tags=["auth"])

MAX_BODY = 16 * 1024
MAX_FIELD = 1024


@router.post(
    "/oauth2/token:generate",
    response_model=wire.TokenResponse,
    response_model_exclude_unset=True,
    responses=errors(401, 413, 429),
    openapi_extra=doc(body=wire.TokenRequest),
)
def generate_token(
    request: Request,
    services: ServicesDep,
    body: Annotated[Any, Depends(json_limited(MAX_BODY))],
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    kind = body.get("type") or "application"
    if kind != "application":
        raise BadRequest('"type" must be "application"')
    app_id, app_secret = body.get("appId"), body.get("appSecret")
    if not isinstance(app_id, str) or not app_id or not isinstance(app_secret, str):
        raise BadRequest('"appId" and "appSecret" are required strings')
    if len(app_id) > MAX_FIELD or len(app_secret) > MAX_FIELD:
        raise BadRequest(f'"appId" and "appSecret" must be at most {MAX_FIELD} characters')
    client = request.client.host if request.client else ""
    token, expires_in = services.tokens.generate(app_id, app_secret, client)
    return {"accessToken": token, "expiresIn": expires_in}
