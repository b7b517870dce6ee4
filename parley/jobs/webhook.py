"""Webhooks: a POST to ``webhookUrl`` on every job status change.

Body: ``{"jobId", "id", "status", "conversationId"}`` (both id spellings, as
Symbl's docs and blog disagree). Delivery retries with exponential back-off
until a 2xx or ``max_attempts``; events of one job are delivered in order, and
a slow endpoint delays only its own job's events. With a secret configured,
``X-Parley-Signature: sha256=<hex>`` is the HMAC-SHA256 of the raw body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["SIGNATURE_HEADER", "WebhookDispatcher", "sign", "status_event"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Parley-Signature"


def status_event(job_id: str, conversation_id: str, status: str) -> dict[str, str]:
    """The webhook body for a status change."""
    return {"jobId": job_id, "id": job_id, "status": str(status), "conversationId": conversation_id}


def sign(secret: str, body: bytes) -> str:
    """The signature header value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Event:
    url: str
    body: bytes


class WebhookDispatcher:
    """Delivers webhook events from a small thread pool."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        max_attempts: int = 6,
        backoff: float = 1.0,
        timeout: float = 10.0,
        threads: int = 4,
    ) -> None:
        self._secret = secret
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook")
        self._pending: dict[str, deque[_Event]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._closed = threading.Event()

    def send(self, url: str, payload: dict[str, Any], *, key: str) -> None:
        """Queue one event; events with the same ``key`` (a job id) go out in order."""
        event = _Event(url=url, body=json.dumps(payload, separators=(",", ":")).encode())
        with self._lock:
            queue = self._pending.get(key)
            if queue is not None:
                queue.append(event)
                return
            self._pending[key] = deque([event])
        self._pool.submit(self._drain, key)

    def _drain(self, key: str) -> None:
        while True:
            with self._lock:
                queue = self._pending[key]
                if not queue:
                    del self._pending[key]
                    self._idle.notify_all()
                    return
                event = queue[0]
            self._deliver(event)
            with self._lock:
                queue.popleft()

    def _deliver(self, event: _Event) -> bool:
        headers = {"Content-Type": "application/json", "User-Agent": "parley-webhook"}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, event.body)
        delay = self._backoff
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = self._client.post(event.url, content=event.body, headers=headers)
                if response.is_success:
                    return True
                problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            log.warning(
                "webhook to %s failed (attempt %d/%d): %s",
                event.url,
                attempt,
                self._max_attempts,
                problem,
            )
            if attempt < self._max_attempts and not self._closed.wait(delay):
                delay *= 2
            elif self._closed.is_set():
                break
        log.error("webhook to %s given up after %d attempts", event.url, self._max_attempts)
        return False

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until every queued event is delivered or given up."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout: float = 5.0) -> None:
        self.join(timeout)
        self._closed.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()
