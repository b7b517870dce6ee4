"""Liveness and readiness: what a load balancer or an orchestrator asks a process.

*Alive* means the process answers. *Ready* means it can do its work now: the
database answers, its schema is at the newest migration, the broker answers
(Celery mode), and, on a worker, the models are loaded. Each check returns a
short reason instead of raising, so ``/ready`` can say what is wrong.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from parley.storage import Storage
from parley.storage.db import MIGRATIONS
from parley.storage.models import Job

__all__ = ["check_broker", "check_database", "job_counts", "readiness", "serve_health"]


@cache
def _head() -> set[str]:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return set(ScriptDirectory.from_config(config).get_heads())


def check_database(storage: Storage) -> str | None:
    """None when the database answers and its schema is current, else why not."""
    try:
        with storage.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = {
                r[0] for r in connection.execute(text("SELECT version_num FROM alembic_version"))
            }
    except Exception as exc:
        return f"database unreachable ({type(exc).__name__})"
    if current != _head():
        return f"database schema at {sorted(current) or 'nothing'}, expected {sorted(_head())}"
    return None


def check_broker(broker_url: str, timeout: float = 2.0) -> str | None:
    from kombu.connection import Connection

    try:
        with Connection(broker_url, connect_timeout=timeout) as connection:  # type: ignore[no-untyped-call]
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    except Exception as exc:
        return f"broker unreachable ({type(exc).__name__})"
    return None


def readiness(
    storage: Storage, *, broker_url: str | None = None, models_loaded: bool | None = None
) -> tuple[bool, dict[str, str]]:
    """(ready, {check: "ok" | reason}) for the checks that apply to this process."""
    checks: dict[str, str | None] = {"database": check_database(storage)}
    if broker_url is not None:
        checks["broker"] = check_broker(broker_url)
    if models_loaded is not None:
        checks["models"] = None if models_loaded else "models not loaded yet"
    return all(v is None for v in checks.values()), {k: v or "ok" for k, v in checks.items()}


def job_counts(storage: Storage) -> dict[str, int]:
    """Jobs by status, fleet-wide (for the metrics)."""
    with storage.session() as session:
        rows: Any = session.execute(select(Job.status, func.count()).group_by(Job.status))
        return {str(status): int(count) for status, count in rows}


def serve_health(
    port: int,
    storage: Storage,
    *,
    broker_url: str | None,
    models_loaded: Callable[[], bool],
    host: str = "127.0.0.1",
) -> ThreadingHTTPServer:
    """``/health``, ``/ready`` and ``/metrics`` for a process that has no API (a Celery
    worker), on a small HTTP server in a daemon thread."""
    from parley import metrics

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, kind, body = 200, "application/json", b""
            if self.path == "/health":
                body = json.dumps({"status": "ok"}).encode()
            elif self.path == "/ready":
                ok, checks = readiness(
                    storage, broker_url=broker_url, models_loaded=models_loaded()
                )
                problems = "; ".join(v for v in checks.values() if v != "ok")
                answer = {"status": "ready"} if ok else {"message": f"Not ready: {problems}"}
                status, body = (
                    (200 if ok else 503),
                    json.dumps(answer | {"checks": checks}).encode(),
                )
            elif self.path == "/metrics":
                try:
                    families = metrics.job_families(job_counts(storage))
                except Exception:
                    families = []
                kind, body = metrics.CONTENT_TYPE_LATEST, metrics.render(families)
            else:
                status, body = 404, json.dumps({"message": "Not found."}).encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # probes every few seconds: not logged
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
