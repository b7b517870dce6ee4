"""Request dependencies: the services, and the authenticated app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from parley.auth import INVALID_TOKEN
from parley.errors import Unauthorized
from parley.services import Services

__all__ = ["AppId", "ServicesDep"]


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


def authenticate(request: Request, services: ServicesDep) -> str:
    """The app id behind ``Authorization: Bearer``, ``x-api-key`` or ``?access_token``."""
    token = None
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        token = value.strip()
    token = token or request.headers.get("x-api-key") or request.query_params.get("access_token")
    if not token:
        raise Unauthorized(INVALID_TOKEN)
    return services.tokens.verify(token.strip())


AppId = Annotated[str, Depends(authenticate)]
