"""Request dependencies: the services, the authenticated app, and JSON bodies.

Bodies are read by async dependencies, so handlers can be plain ``def`` functions: FastAPI
runs those in its thread pool, and no database call, spaCy parse or LLM request of a
handler ever blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from parley.api.routes.bodies import json_object, json_value
from parley.auth import INVALID_TOKEN
from parley.errors import Unauthorized
from parley.services import Services

__all__ = ["AppId", "JsonObject", "OptionalJsonObject", "ServicesDep", "json_limited"]


async def get_services(request: Request) -> Services:
    # async: FastAPI runs a plain ``def`` dependency in its thread pool, a hop per request
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


async def authenticate(request: Request, services: ServicesDep) -> str:
    """The app id behind ``Authorization: Bearer``, ``x-api-key`` or ``?access_token``.

    On the event loop: the signature check is CPU only, and the app's row is read (in the
    thread pool) only when the per-process cache has not seen the app lately, so a status
    poll makes no thread-pool hop for its token.
    """
    token = None
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        token = value.strip()
    token = token or request.headers.get("x-api-key") or request.query_params.get("access_token")
    if not token:
        raise Unauthorized(INVALID_TOKEN)
    tokens, token = services.tokens, token.strip()
    app_id = tokens.verify_signature(token)
    if tokens.app_recently_seen(app_id):
        return app_id
    return await run_in_threadpool(tokens.verify, token)  # reads the app's row


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
