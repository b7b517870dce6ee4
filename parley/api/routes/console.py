"""The web console: ``/`` and its static files under ``/console/``.

The console is plain HTML, CSS and JavaScript in ``parley/console`` (no build
step, nothing from a CDN); it talks to the same public API as any client.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from parley.api.headers import PAGE_POLICY
from parley.errors import NotFound

__all__ = ["index_page", "router"]

router = APIRouter(include_in_schema=False)

ROOT = Path(__file__).resolve().parents[2] / "console"
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def index_page() -> Response:
    """The single page; it routes on the URL (``#/...``, or ``/experiences/<token>``).

    Its Content-Security-Policy, no framing and no Referer (a shared page's URL is its
    token) are set here and by ``parley.api.headers`` for every response."""
    return FileResponse(
        ROOT / "index.html",
        media_type="text/html",
        headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-cache"},
    )


@router.get("/")
def console() -> Response:
    return index_page()


@router.get("/console/{name}")
def static_file(name: str) -> Response:
    path = ROOT / name
    if name.startswith(".") or path.suffix not in _TYPES or not path.is_file():
        raise NotFound("No such console file.")
    return FileResponse(path, media_type=_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})
