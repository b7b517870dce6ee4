"""``POST /oauth2/token:generate``, ``POST /oauth2/token:refresh``, ``DELETE /oauth2/token:revoke``.

Plain ``def`` handlers: the secret check is deliberately slow (PBKDF2), so it runs in the
thread pool, never on the event loop. Bodies are small by nature and capped.

Refresh and revoke are in Symbl's swagger only (symbl-api.md §1.2): both carry the app's
credentials in the body; revoke revokes the token the request presents (``x-api-key``,
``Authorization: Bearer`` or ``?access_token``), or the app's current token when none is
presented, in the database, so every API process refuses it at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from parley.api.deps import ServicesDep, json_limited, token_of
from parley.api.openapi import doc, errors
from parley.auth import Grant
from parley.errors import BadRequest
from parley_client import wire

router = APIRouter(tags=["auth"])

MAX_BODY = 16 * 1024
MAX_FIELD = 1024
#: A refresh token is a JWT a little longer than an access token.
MAX_TOKEN = 4096

Body = Annotated[Any, Depends(json_limited(MAX_BODY))]


def _credentials(body: Any) -> tuple[str, str]:
    """(appId, appSecret) of a token request body, else 400 naming the field."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    app_id, app_secret = body.get("appId"), body.get("appSecret")
    if not isinstance(app_id, str) or not app_id or not isinstance(app_secret, str):
        raise BadRequest('"appId" and "appSecret" are required strings')
    if len(app_id) > MAX_FIELD or len(app_secret) > MAX_FIELD:
        raise BadRequest(f'"appId" and "appSecret" must be at most {MAX_FIELD} characters')
    return app_id, app_secret


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _token_json(grant: Grant) -> dict[str, Any]:
    # ``refershToken``: the swagger ``Token`` model's spelling, which symbl_rest reads.
    return {
        "accessToken": grant.access_token,
        "expiresIn": grant.expires_in,
        "refershToken": grant.refresh_token,
    }


@router.post(
    "/oauth2/token:generate",
    response_model=wire.TokenResponse,
    response_model_exclude_unset=True,
    responses=errors(401, 413, 429),
    openapi_extra=doc(body=wire.TokenRequest),
)
def generate_token(request: Request, services: ServicesDep, body: Body) -> dict[str, Any]:
    if isinstance(body, dict):
        kind = body.get("type") or "application"
        if kind != "application":
            raise BadRequest('"type" must be "application"')
    app_id, app_secret = _credentials(body)
    return _token_json(services.tokens.issue(app_id, app_secret, _client(request)))


@router.post(
    "/oauth2/token:refresh",
    response_model=wire.TokenResponse,
    response_model_exclude_unset=True,
    responses=errors(401, 413, 429),
    openapi_extra=doc(body=wire.TokenRefreshRequest),
)
def refresh_token(request: Request, services: ServicesDep, body: Body) -> dict[str, Any]:
    """A new token for the ``refreshToken`` handed out with an earlier one (used once)."""
    app_id, app_secret = _credentials(body)
    refresh = body.get("refreshToken")
    if not isinstance(refresh, str) or not refresh:
        raise BadRequest('"refreshToken" is a required string')
    if len(refresh) > MAX_TOKEN:
        raise BadRequest(f'"refreshToken" must be at most {MAX_TOKEN} characters')
    grant = services.tokens.refresh(app_id, app_secret, refresh, _client(request))
    return _token_json(grant)


@router.delete(
    "/oauth2/token:revoke",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "The token is revoked."}, **errors(401, 413, 429)},
    openapi_extra=doc(body=wire.TokenRevokeRequest),
)
def revoke_token(request: Request, services: ServicesDep, body: Body) -> Response:
    """Refuse the presented token (or, with none, the app's current one) from now on."""
    app_id, app_secret = _credentials(body)
    token = token_of(request)
    if token is not None and len(token) > MAX_TOKEN:
        raise BadRequest(f"The token must be at most {MAX_TOKEN} characters")
    services.tokens.revoke(app_id, app_secret, token, _client(request))
    return Response(status_code=204)
