"""``POST /oauth2/token:generate``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from parley.api.deps import ServicesDep
from parley.api.routes.bodies import json_object
from parley.errors import BadRequest

router = APIRouter(tags=["auth"])


@router.post("/oauth2/token:generate")
async def generate_token(request: Request, services: ServicesDep) -> dict[str, Any]:
    body = await json_object(request)
    kind = body.get("type") or "application"
    if kind != "application":
        raise BadRequest('"type" must be "application"')
    app_id, app_secret = body.get("appId"), body.get("appSecret")
    if not isinstance(app_id, str) or not app_id or not isinstance(app_secret, str):
        raise BadRequest('"appId" and "appSecret" are required strings')
    token, expires_in = services.tokens.generate(app_id, app_secret)
    return {"accessToken": token, "expiresIn": expires_in}
