"""Operations: ``/health`` (alive), ``/ready`` (can serve), ``/metrics`` (Prometheus),
and the middleware that counts HTTP requests by route template."""

from __future__ import annotations

import asyncio
import logging
from time import perf_counter
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley import __version__, health, metrics
from parley.api.deps import ServicesDep

__all__ = ["install", "router"]

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

_READY_TIMEOUT = 5.0


@router.get("/health")
async def alive() -> dict[str, str]:
    """On the event loop itself: it answers even when the thread pool is busy."""
    return {"status": "ok", "version": __version__}


@router.get("/ready")
async def ready(services: ServicesDep) -> JSONResponse:
    settings = services.settings
    broker = settings.broker_url if settings.queue == "celery" else None
    try:
        ok, checks = await asyncio.wait_for(
            run_in_threadpool(health.readiness, services.storage, broker_url=broker),
            _READY_TIMEOUT,
        )
    except TimeoutError:
        ok, checks = False, {"database": f"no answer within {_READY_TIMEOUT:g} s"}
    queue = services.queue.status()
    if queue.get("workers"):  # this server runs jobs in worker processes
        if queue["ready"]:
            checks["workers"] = "ok"
        else:
            ok = False
            checks["workers"] = (
                f"{queue['warm']} of {queue['workers']} worker processes ready "
                f"({queue['restarts']} replaced after dying)"
            )
    if ok:
        return JSONResponse({"status": "ready", "checks": checks})
    problems = "; ".join(v for v in checks.values() if v != "ok")
    return JSONResponse({"message": f"Not ready: {problems}", "checks": checks}, status_code=503)


@router.get("/metrics")
async def scrape(services: ServicesDep) -> Response:
    try:
        counts = await run_in_threadpool(health.job_counts, services.storage)
        families: Any = metrics.job_families(counts)
    except Exception:
        log.warning("metrics: the database did not answer; job counts left out")
        families = []
    body = await run_in_threadpool(metrics.render, families)
    return Response(body, media_type=metrics.CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Counts and times every request under its route template (``/v1/job/{job_id}``),
    so ids do not explode the label set. Plain ASGI: no per-request task or copy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "")
            metrics.HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            metrics.HTTP_SECONDS.labels(method=method, route=route).observe(
                perf_counter() - started
            )


def install(app: FastAPI) -> None:
    """The ops routes and the request metrics, on an app."""
    app.include_router(router)
    app.add_middleware(RequestMetrics)
