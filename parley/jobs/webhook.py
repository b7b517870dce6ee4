"""Webhooks: a POST to ``webhookUrl`` on every job status change.

Body: ``{"jobId", "id", "status", "conversationId"}`` (both id spellings, as
Symbl's docs and blog disagree). With a secret configured,
``X-Parley-Signature: sha256=<hex>`` is the HMAC-SHA256 of the raw body.

Events are written to the database first (``parley.storage.webhooks``, an outbox) and
delivered from there, so none is lost to a restart: whichever process runs a dispatcher
next sends what is still pending. Delivery retries with exponential back-off until a 2xx
or ``max_attempts``; events of one job go out in order, and a slow endpoint delays only
its own job's events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session

from parley.storage import Storage
from parley.storage import webhooks as outbox
from parley.storage.models import utcnow

__all__ = ["SIGNATURE_HEADER", "WebhookDispatcher", "sign", "status_event"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Parley-Signature"


def status_event(job_id: str, conversation_id: str, status: str) -> dict[str, str]:
    """The webhook body for a status change."""
    return {"jobId": job_id, "id": job_id, "status": str(status), "conversationId": conversation_id}


def sign(secret: str, body: bytes) -> str:
    """The signature header value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    """Delivers the outbox: one polling thread claims due rows, a small pool posts them.

    Every process that runs one (API, workers) helps deliver; claims are leases, so a row
    is never posted by two processes at once, and one whose process died is taken over
    once its lease (``timeout`` + 30 s) runs out.
    """

    def __init__(
        self,
        storage: Storage,
        *,
        secret: str | None = None,
        max_attempts: int = 6,
        backoff: float = 1.0,
        timeout: float = 10.0,
        threads: int = 4,
        poll_interval: float = 1.0,
    ) -> None:
        self._storage = storage
        self._secret = secret
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._lease = timedelta(seconds=timeout + 30)
        self._poll_interval = poll_interval
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook")
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sent: set[int] = set()  # rows this dispatcher queued (for join)
        self._soonest: float | None = None  # monotonic time of the earliest retry we set
        self._poller = threading.Thread(target=self._poll, name="webhook-poller", daemon=True)
        self._poller.start()

    def send(
        self, url: str, payload: dict[str, Any], *, key: str, session: Session | None = None
    ) -> None:
        """Queue one event for the job ``key``.

        With ``session``, the event is written in the caller's transaction, so it exists
        exactly when the status change it reports does (and goes out once that commits);
        without, it is stored in a transaction of its own before this returns.
        """
        body = json.dumps(payload, separators=(",", ":"))
        if session is None:
            with self._storage.session() as own:
                delivery_id = outbox.enqueue(session=own, job_id=key, url=url, body=body)
            self._wake.set()
        else:
            delivery_id = outbox.enqueue(session=session, job_id=key, url=url, body=body)
            event.listen(session, "after_commit", lambda _s: self._wake.set(), once=True)
        with self._lock:
            self._sent.add(delivery_id)

    # -- delivery ---------------------------------------------------------------------

    def _poll(self) -> None:
        while not self._closed.is_set():
            wait = self._poll_interval
            with self._lock:
                if self._soonest is not None:
                    wait = max(0.0, min(wait, self._soonest - time.monotonic()))
            self._wake.wait(wait)
            self._wake.clear()
            with self._lock:
                self._soonest = None
            if self._closed.is_set():
                return
            try:
                self._dispatch_due()
            except Exception:  # the database is briefly unavailable: try again next tick
                log.warning("webhook poll failed", exc_info=True)

    def _dispatch_due(self) -> None:
        now = utcnow()
        with self._storage.session() as session:
            rows = outbox.due(session=session, now=now)
            claimed = [
                (row.id, row.url, row.body, row.attempts + 1)
                for row in rows
                if outbox.claim(
                    session=session, delivery_id=row.id, now=now, until=now + self._lease
                )
            ]
        for item in claimed:
            self._pool.submit(self._deliver, *item)

    def _deliver(self, delivery_id: int, url: str, body: str, attempt: int) -> None:
        try:
            problem = self._post(url, body.encode())
            with self._storage.session() as session:
                if problem is None:
                    outbox.finish(
                        session=session, delivery_id=delivery_id, delivered=True, error=None
                    )
                elif attempt >= self._max_attempts:
                    log.error("webhook to %s given up after %d attempts: %s", url, attempt, problem)
                    outbox.finish(
                        session=session, delivery_id=delivery_id, delivered=False, error=problem
                    )
                else:
                    log.warning(
                        "webhook to %s failed (attempt %d/%d): %s",
                        url,
                        attempt,
                        self._max_attempts,
                        problem,
                    )
                    delay = self._backoff * 2 ** (attempt - 1)
                    with self._lock:
                        soon = time.monotonic() + delay
                        self._soonest = min(self._soonest or soon, soon)
                    outbox.retry_later(
                        session=session,
                        delivery_id=delivery_id,
                        at=utcnow() + timedelta(seconds=delay),
                        error=problem,
                    )
        except Exception:
            log.exception(
                "webhook delivery %d crashed; its lease will run out and retry", delivery_id
            )
        finally:
            self._wake.set()  # the job's next event may be due now

    def _post(self, url: str, body: bytes) -> str | None:
        """One attempt; None on a 2xx, else what went wrong."""
        headers = {"Content-Type": "application/json", "User-Agent": "parley-webhook"}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if response.is_success else f"HTTP {response.status_code}"

    # -- lifecycle ----------------------------------------------------------------------

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until every event this dispatcher queued is delivered or given up."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                sent = list(self._sent)
            with self._storage.session() as session:
                left = outbox.pending_among(session=session, ids=sent)
            if left == 0:
                with self._lock:
                    self._sent.difference_update(sent)
                return True
            if time.monotonic() >= deadline:
                return False
            self._wake.set()
            time.sleep(0.05)

    def close(self, timeout: float = 5.0) -> None:
        """Stop after up to ``timeout`` s of delivering; what is left stays in the outbox."""
        self.join(timeout)
        self._closed.set()
        self._wake.set()
        self._poller.join()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()
