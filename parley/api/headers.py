"""Security headers on every response, set in one place.

The console keeps its API token in ``localStorage``, so nothing on this origin may run
script from elsewhere, be framed, or be sniffed into something executable:

* ``X-Content-Type-Options: nosniff`` everywhere (media, JSON, console files);
* ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'`` everywhere;
* a page (HTML) gets ``PAGE_POLICY``: scripts, styles and connections only from this
  origin; images and media may be remote (an Experience's logo and ``videoUrl``);
* ``Referrer-Policy: no-referrer``: a shared Experience's URL is its token, and media
  URLs carry ``?access_token=``; neither may leave in a ``Referer``.

A response that sets its own Content-Security-Policy keeps it. ``/docs`` and ``/redoc``
(off unless ``PARLEY_API_DOCS``) load Swagger UI / ReDoc from a CDN with inline script,
which ``PAGE_POLICY`` forbids; they get only the framing rules.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PAGE_POLICY", "SecurityHeaders"]

#: Everything the console page loads comes from here; logos of shared pages and an
#: Experience's video may be remote. Inline script and style are never allowed.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: http: https:; media-src 'self' http: https:; "
    "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: Any other response: it is not a page, and no page may frame it.
OTHER_POLICY = "frame-ancestors 'none'"

_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """Pure ASGI middleware (streamed media passes through untouched)."""

    def __init__(self, app: ASGIApp, *, docs_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "") in self.docs_paths

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _secured(list(message.get("headers", [])), docs=docs)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _secured(headers: list[tuple[bytes, bytes]], *, docs: bool) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    headers += [(name, value) for name, value in _ALWAYS if name not in present]
    if b"content-security-policy" not in present:
        content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
        page = content_type.lower().startswith(b"text/html") and not docs
        policy = PAGE_POLICY if page else OTHER_POLICY
        headers.append((b"content-security-policy", policy.encode()))
    return headers
