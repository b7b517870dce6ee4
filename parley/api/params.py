"""The edge for what is not a JSON body: the path, query parameters and headers.

JSON bodies are checked where they are parsed (``parley.options.jsonload.loads_bounded``); the
rest of a request is checked here, once, before any route runs: a NUL (``%00``) in the
path, in a query parameter or in a header would reach PostgreSQL (which refuses it with
a 500) or a log line. Query strings and paths are decoded by the server with invalid
UTF-8 replaced, so a lone surrogate cannot arrive there; ``bad_character`` checks for it
all the same. Integers in query parameters go through ``query_int``.

``SafeJSONResponse`` is the other side: a row stored before these checks existed must
not make its reads fail, so a response that cannot be encoded is answered with the
offending characters replaced rather than a 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from parley.textcheck import bad_character, parse_int, scrub

__all__ = ["RefuseBadText", "SafeJSONResponse", "install", "query_int"]


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter in ``[low, high]`` (``default`` when absent or empty),
    ASCII digits only: a 400 naming it otherwise."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return parse_int(name, raw, low=low, high=high)


def _refusal(scope: Scope) -> str | None:
    """Why the request's path, query or headers are refused, or None."""
    path = scope.get("path", "")
    problem = bad_character(path)
    if problem is not None:
        return f"The path contains a character that is not allowed ({problem})."
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            for text, what in ((key, "A query parameter name"), (value, f'"{key}"')):
                problem = bad_character(text)
                if problem is not None:
                    return f"{what} contains a character that is not allowed ({problem})."
    for name, value in scope.get("headers", ()):
        if b"\x00" in value:
            header = name.decode("latin-1")
            return f'The "{header}" header contains a character that is not allowed (NUL).'
    return None


class RefuseBadText:
    """ASGI middleware: a request whose path, query or headers hold a NUL gets a 400
    naming the parameter, before any route (authenticated or not) sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            message = _refusal(scope)
            if message is not None:
                await JSONResponse({"message": message}, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SafeJSONResponse(JSONResponse):
    """A JSON response that still answers when the content holds a lone surrogate (from
    a row stored before the edge refused them): those are replaced by U+FFFD."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return super().render(scrub(content))


def install(app: FastAPI) -> None:
    """The edge checks and the safe responses, for every route included after this."""
    app.router.default_response_class = SafeJSONResponse
    app.add_middleware(RefuseBadText)
