"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from parley import __version__
from parley.api.errors import install_error_handlers
from parley.api.headers import SecurityHeaders
from parley.api.openapi import install_openapi, operation_id
from parley.api.params import install as install_edge_checks
from parley.api.routes import (
    auth,
    bookmarks,
    callscore,
    console,
    conversations,
    entities,
    experiences,
    groups,
    insights,
    jobs,
    manage,
    media,
    ops,
    process,
    streaming,
    unsupported,
    webhooks,
)
from parley.api.routes import settings as settings_routes
from parley.api.timeouts import BodyTimeout
from parley.config import Settings
from parley.services import Services, build_services

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """A Parley API app. Services are built (and workers started) in the lifespan."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services or build_services(settings)
        app.state.services.start()
        try:
            yield
        finally:
            app.state.services.stop()

    docs, redoc = ("/docs", "/redoc") if settings.api_docs else (None, None)
    app = FastAPI(
        title="Parley",
        version=__version__,
        lifespan=lifespan,
        docs_url=docs,
        redoc_url=redoc,
        generate_unique_id_function=operation_id,
    )
    install_error_handlers(app)
    install_edge_checks(app)  # NUL in path/query/headers → 400; safe JSON responses
    for module in (
        auth,
        process,
        jobs,
        callscore,  # before conversations: /v1/conversations/experiences/... is not an id
        conversations,
        insights,
        manage,
        entities,
        groups,
        bookmarks,
        webhooks,
    ):
        app.include_router(module.router)
    app.include_router(settings_routes.router)
    app.include_router(unsupported.router)
    app.include_router(media.router)
    app.include_router(experiences.router)
    app.include_router(console.router)
    app.include_router(streaming.router)
    ops.install(app)  # /health, /ready, /metrics and request metrics

    install_openapi(app)
    app.add_middleware(BodyTimeout, seconds=settings.body_timeout_seconds)
    # last, so outermost: error answers get the headers too
    app.add_middleware(SecurityHeaders, docs_paths=[p for p in (docs, redoc) if p])

    return app
