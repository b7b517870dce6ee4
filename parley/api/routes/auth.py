"""``POST /oauth2/token:generate``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from parley.api.deps import JsonObject, ServicesDep
from parley.errors import BadRequest

router = APIRouter(tags=["auth"])


@router.post("/oauth2/token:generate")
def generate_token(body: JsonObject, services: ServicesDep) -> dict[str, Any]:
    """A plain ``def``: the secret's PBKDF2 check runs in the thread pool, off the loop."""
    kind = body.get("type") or "application"
    if kind != "application":
        raise BadRequest('"type" must be "application"')
    app_id, app_secret = body.get("appId"), body.get("appSecret")
    if not isinstance(app_id, str) or not app_id or not isinstance(app_secret, str):
        raise BadRequest('"appId" and "appSecret" are required strings')
    token, expires_in = services.tokens.generate(app_id, app_secret)
    return {"accessToken": token, "expiresIn": expires_in}
