"""Request dependencies: the services, the authenticated app, and JSON bodies.

Bodies are read by async dependencies, so handlers can be plain ``def`` functions: FastAPI
runs those in its thread pool, and no database call, spaCy parse or LLM request of a
handler ever blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from parley.api.routes.bodies import json_object, json_value
from parley.auth import INVALID_TOKEN
from parley.errors import Unauthorized
from parley.services import Services

__all__ = [
    "AppId",
    "JsonObject",
    "OptionalJsonObject",
    "ServicesDep",
    "json_limited",
    "token_of",
]


async def get_services(request: Request) -> Services:
    # async: FastAPI runs a plain ``def`` dependency in its thread pool, a hop per request
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


def token_of(request: Request) -> str | None:
    """The token in ``Authorization: Bearer``, ``x-api-key`` or ``?access_token``, if any."""
    token = None
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        token = value.strip()
    token = token or request.headers.get("x-api-key") or request.query_params.get("access_token")
    return token.strip() if token and token.strip() else None


async def authenticate(request: Request, services: ServicesDep) -> str:
    """The app id behind ``Authorization: Bearer``, ``x-api-key`` or ``?access_token``.

    The signature check is CPU only, on the event loop. The revocation table is read on
    every request (a revoked token is refused by every process at once): on the event
    loop for a local SQLite file (a point read costs less than a thread-pool hop), else in
    the thread pool, together with the app's row when the per-process cache has not seen
    the app lately.
    """
    token = token_of(request)
    if not token:
        raise Unauthorized(INVALID_TOKEN)
    tokens, storage = services.tokens, services.storage
    app_id = tokens.verify_signature(token)
    if tokens.app_recently_seen(app_id) and storage.reads_on_loop:
        try:
            tokens.check_revoked(token, storage.loop_connection)
            return app_id
        except OperationalError:  # locked for a moment: the pool's path waits for it
            pass
    return await run_in_threadpool(tokens.verify, token)  # revocation, and the app's row


AppId = Annotated[str, Depends(authenticate)]


async def _json_object(request: Request) -> dict[str, Any]:
    return await json_object(request)


async def _optional_json_object(request: Request) -> dict[str, Any]:
    return await json_object(request) if (await request.body()).strip() else {}


def json_limited(max_bytes: int) -> Callable[[Request], Awaitable[Any]]:
    """A dependency reading any JSON value of at most ``max_bytes``."""

    async def read(request: Request) -> Any:
        return await json_value(request, max_bytes=max_bytes)

    return read


#: The request's JSON object body (400 when it is missing or not an object).
JsonObject = Annotated[dict[str, Any], Depends(_json_object)]
#: A JSON object body, or ``{}`` when the body is empty.
OptionalJsonObject = Annotated[dict[str, Any], Depends(_optional_json_object)]
