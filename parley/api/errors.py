"""One table from exceptions to Symbl-shaped JSON errors: ``{"message": ...}``.

An unexpected exception becomes a plain 500 with a generic message (the details go
to the log only), answered by a middleware rather than Starlette's error handler,
which re-raises and so makes the server drop the keep-alive connection.
"""

from __future__ import annotations

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.errors import ParleyError, StorageFull, TooManyJobs, TooManyRequests

__all__ = ["NO_ROUTE", "CatchAll", "install_error_handlers"]

log = logging.getLogger(__name__)

_GENERIC = {
    400: "Bad Request! Please refer docs for correct input fields.",
    401: "Unauthorized. Please generate a new access token.",
    403: "Forbidden.",
    404: "The requested resource could not be found, please check the input provided",
    405: "Method not allowed.",
    413: "The request body is too large.",
    415: "Unsupported media type.",
    500: "Something went wrong! Please try again later.",
}
#: The message of a 404 for a path no route serves (a named resource's 404 says which).
NO_ROUTE = _GENERIC[404]


def _error(
    status: int,
    message: str,
    *,
    with_code: bool = False,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {"message": message}
    if with_code:
        body = {"statusCode": status, **body}
    return JSONResponse(body, status_code=status, headers=headers)


class CatchAll:
    """Answer an unhandled exception with the generic 500, keeping the connection open."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await _error(500, _GENERIC[500])(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ParleyError)
    async def parley_error(_: Request, exc: ParleyError) -> JSONResponse:
        headers = (
            {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        )
        return _error(
            exc.status, exc.message, with_code=isinstance(exc, TooManyJobs), headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ())[1:]) or "request"
            problems.append(f'"{where}" {error.get("msg", "is invalid")}')
        return _error(400, "; ".join(problems) or _GENERIC[400])

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        message = (
            exc.detail
            if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed")
            else _GENERIC.get(exc.status_code, str(exc.detail))
        )
        return _error(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(OSError)
    async def os_error(request: Request, exc: OSError) -> JSONResponse:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            log.error("no space left on the device: %s", exc)
            return _error(507, StorageFull().message)
        return await unexpected(request, exc)

    @app.exception_handler(OperationalError)
    async def database_error(request: Request, exc: OperationalError) -> JSONResponse:
        text = str(exc.orig).lower()
        if "disk is full" in text or "no space left" in text:
            log.error("the database has no space left: %s", exc.orig)
            return _error(507, StorageFull().message)
        if "locked" in text or "could not connect" in text or "connection" in text:
            log.error("the database is unavailable: %s", exc.orig)
            response = _error(503, "The service is briefly unavailable; try again shortly.")
            response.headers["Retry-After"] = "5"
            return response
        return await unexpected(request, exc)

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return _error(500, _GENERIC[500])

    # Any other exception: CatchAll answers (Starlette's handler for Exception would
    # re-raise and drop the keep-alive connection).
    app.add_middleware(CatchAll)
