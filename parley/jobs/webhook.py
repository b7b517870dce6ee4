"""Webhooks: a POST to ``webhookUrl`` on every job status change.

Body: ``{"jobId", "id", "status", "conversationId"}`` (both id spellings, as
Symbl's docs and blog disagree). Headers follow Standard Webhooks 1.0:

* ``webhook-id`` — one per status change (derived from the job and the status), the
  same on every retry, replay and re-run after a crash: the receiver's de-duplication key;
* ``webhook-timestamp`` — Unix seconds of this attempt;
* ``webhook-signature`` — ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` for
  each configured ``whsec_`` secret, space-separated, so keys can be rotated;
* ``X-Parley-Signature: sha256=<hex HMAC of the body>`` with the older secret setting.

Events are written to the database first (``parley.storage.webhooks``, an outbox) and
delivered from there, so none is lost to a restart: whichever process runs a dispatcher
next sends what is still pending. A failed attempt is retried on a schedule that spans
hours by default (``Retry-After`` on 429/502/503/504 is honoured); events of one job go
out in order. Each URL has at most ``per_destination`` deliveries in flight and the pool
is large, so a slow or dead receiver holds only its own threads, never another app's
deliveries. A 410 disables the URL until a replay. Every connection goes through the
outbound guard: a URL on Parley's own network is refused, not retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from parley import metrics
from parley.outbound import OutboundGuard, OutboundRefused
from parley.storage import Storage
from parley.storage import webhooks as outbox
from parley.storage.models import utcnow
from parley.textcheck import parse_capped

__all__ = [
    "DEFAULT_SCHEDULE",
    "SIGNATURE_HEADER",
    "WebhookDispatcher",
    "event_id",
    "sign",
    "standard_signature",
    "status_event",
]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Parley-Signature"
#: Seconds before each retry: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h (about 17.6 h in all).
DEFAULT_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)
_RETRY_AFTER_STATUSES = (429, 502, 503, 504)
_MAX_RETRY_AFTER = 86400.0


def status_event(job_id: str, conversation_id: str, status: str) -> dict[str, str]:
    """The webhook body for a status change."""
    return {"jobId": job_id, "id": job_id, "status": str(status), "conversationId": conversation_id}


def event_id(key: str, payload: dict[str, Any]) -> str:
    """The stable ``webhook-id`` of an event: the same for the same job and status."""
    digest = hashlib.sha256(f"{key}\n{payload.get('status', '')}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Parley-Signature`` value for a body (the older, body-only signature)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secrets: Sequence[str], msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` value: one ``v1,<base64>`` per ``whsec_`` secret."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return " ".join(Webhook(secret).sign(msg_id, moment, body) for secret in secrets)


def _retry_after(response: httpx.Response) -> float | None:
    """The receiver's ``Retry-After`` in seconds (capped), or None when absent or not
    understood: seconds in ASCII digits or an HTTP date; "²" or garbage is ignored, never
    an error that would fail the delivery loop."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    seconds = parse_capped(value, int(_MAX_RETRY_AFTER))
    if seconds is not None:
        return float(seconds)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(max((moment - datetime.now(UTC)).total_seconds(), 0.0), _MAX_RETRY_AFTER)


class _Attempt:
    """The outcome of one POST: ``error`` None on a 2xx."""

    def __init__(
        self, error: str | None, *, final: bool = False, wait: float | None = None
    ) -> None:
        self.error, self.final, self.wait = error, final, wait


class WebhookDispatcher:
    """Delivers the outbox: one polling thread claims due rows, a pool posts them.

    Every process that runs one (API, workers) helps deliver; claims are leases, so a row
    is never posted by two processes at once, and one whose process died is taken over
    once its lease (``timeout`` + 30 s) runs out.

    ``retry_schedule`` gives the wait before each retry; without it, ``max_attempts``
    attempts with a delay of ``backoff`` that doubles (the older settings).
    """

    def __init__(
        self,
        storage: Storage,
        *,
        secret: str | None = None,
        signing_secrets: Sequence[str] = (),
        max_attempts: int = 6,
        backoff: float = 1.0,
        retry_schedule: Sequence[float] | None = None,
        timeout: float = 10.0,
        threads: int = 64,
        per_destination: int = 2,
        poll_interval: float = 1.0,
        guard: OutboundGuard | None = None,
    ) -> None:
        self._storage = storage
        self._secret = secret
        self._signing_secrets = tuple(signing_secrets)
        for key in self._signing_secrets:
            Webhook(key)  # a malformed secret fails at start, not at the first delivery
        if retry_schedule is None:
            retry_schedule = [backoff * 2**i for i in range(max_attempts - 1)]
        self._schedule = tuple(float(s) for s in retry_schedule)
        self._max_attempts = len(self._schedule) + 1
        self._lease = timedelta(seconds=timeout + 30)
        self._poll_interval = poll_interval
        self._per_destination = per_destination
        self._client = (guard or OutboundGuard()).client(
            timeout=timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=threads * 2, max_keepalive_connections=threads),
        )
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook")
        self._threads = threads
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()  # url → deliveries being posted
        self._suspect: set[str] = set()  # urls whose last attempt failed (circuit half-open)
        self._sent: set[int] = set()  # rows this dispatcher queued (for join)
        self._soonest: float | None = None  # monotonic time of the earliest retry we set
        self._poller = threading.Thread(target=self._poll, name="webhook-poller", daemon=True)
        self._poller.start()

    @property
    def max_attempts(self) -> int:
        return self._max_attempts

    def send(
        self, url: str, payload: dict[str, Any], *, key: str, session: Session | None = None
    ) -> None:
        """Queue one event for the job ``key``.

        With ``session``, the event is written in the caller's transaction, so it exists
        exactly when the status change it reports does (and goes out once that commits);
        without, it is stored in a transaction of its own before this returns.
        """
        body = json.dumps(payload, separators=(",", ":"))
        ident = event_id(key, payload)
        if session is None:
            with self._storage.session() as own:
                delivery_id = outbox.enqueue(
                    session=own, job_id=key, url=url, body=body, event_id=ident
                )
            self._wake.set()
        else:
            delivery_id = outbox.enqueue(
                session=session, job_id=key, url=url, body=body, event_id=ident
            )
            event.listen(session, "after_commit", lambda _s: self._wake.set(), once=True)
        with self._lock:
            self._sent.add(delivery_id)

    def wake(self) -> None:
        """Look at the outbox now (after a replay was queued)."""
        self._wake.set()

    # -- delivery ---------------------------------------------------------------------

    def _poll(self) -> None:
        while not self._closed.is_set():
            wait = self._poll_interval
            with self._lock:
                if self._soonest is not None:
                    wait = max(0.0, min(wait, self._soonest - time.monotonic()))
            self._wake.wait(wait)
            self._wake.clear()
            with self._lock:  # forget the earliest retry only once it is due: a wake-up
                # for another reason (a delivery just ended) must not lose its time
                if self._soonest is not None and self._soonest <= time.monotonic():
                    self._soonest = None
            if self._closed.is_set():
                return
            try:
                self._dispatch_due()
            except Exception:  # the database is briefly unavailable: try again next tick
                log.warning("webhook poll failed", exc_info=True)

    def _dispatch_due(self) -> None:
        now = utcnow()
        with self._lock:
            busy = [u for u, n in self._in_flight.items() if n >= self._per_destination]
            free = self._threads - sum(self._in_flight.values())
            suspect_room = self._threads // 2 - sum(
                n for u, n in self._in_flight.items() if u in self._suspect
            )
        if free <= 0:
            return
        claimed: list[tuple[int, str, str, str, int]] = []
        with self._storage.session() as session:
            for row in outbox.due(session=session, now=now, exclude_urls=busy, limit=free * 4):
                with self._lock:
                    if self._in_flight[row.url] >= self._per_destination or len(claimed) >= free:
                        continue
                    if row.url in self._suspect:  # failing receivers share half the pool
                        if suspect_room <= 0:
                            continue
                        suspect_room -= 1
                if outbox.claim(
                    session=session,
                    delivery_id=row.id,
                    attempts=row.attempts,
                    now=now,
                    until=now + self._lease,
                ):
                    with self._lock:
                        self._in_flight[row.url] += 1
                    claimed.append(
                        (row.id, row.url, row.body, row.event_id or "", row.attempts + 1)
                    )
        for item in claimed:
            self._pool.submit(self._deliver, *item)

    def _deliver(self, delivery_id: int, url: str, body: str, msg_id: str, attempt: int) -> None:
        try:
            outcome = self._post(url, body, msg_id or f"msg_delivery_{delivery_id}")
            with self._lock:
                if outcome.error is None:
                    self._suspect.discard(url)
                elif len(self._suspect) < 100_000:
                    self._suspect.add(url)
            with self._storage.session() as session:
                metrics.WEBHOOK_DELIVERIES.labels(  # metrics hook (issue 11)
                    outcome="delivered"
                    if outcome.error is None
                    else "given_up"
                    if outcome.final or attempt >= self._max_attempts
                    else "retry"
                ).inc()
                if outcome.error is None:
                    outbox.finish(
                        session=session, delivery_id=delivery_id, delivered=True, error=None
                    )
                elif outcome.final or attempt >= self._max_attempts:
                    log.error(
                        "webhook delivery %d given up after %d attempts: %s",
                        delivery_id,
                        attempt,
                        outcome.error,
                    )
                    outbox.finish(
                        session=session,
                        delivery_id=delivery_id,
                        delivered=False,
                        error=outcome.error,
                    )
                else:
                    delay = self._schedule[attempt - 1]
                    if delay >= 5:  # spread a burst of retries (Standard Webhooks advice)
                        delay *= 1 + random.random() * 0.1
                    delay = max(delay, outcome.wait or 0.0)
                    log.warning(
                        "webhook delivery %d failed (attempt %d/%d): %s; next in %.0f s",
                        delivery_id,
                        attempt,
                        self._max_attempts,
                        outcome.error,
                        delay,
                    )
                    with self._lock:
                        soon = time.monotonic() + delay
                        self._soonest = min(self._soonest or soon, soon)
                    outbox.retry_later(
                        session=session,
                        delivery_id=delivery_id,
                        at=utcnow() + timedelta(seconds=delay),
                        error=outcome.error,
                    )
        except Exception:
            log.exception(
                "webhook delivery %d crashed; its lease will run out and retry", delivery_id
            )
        finally:
            with self._lock:
                self._in_flight[url] -= 1
                if self._in_flight[url] <= 0:
                    del self._in_flight[url]
            self._wake.set()  # the job's next event may be due now

    def _post(self, url: str, body: str, msg_id: str) -> _Attempt:
        """One attempt. Errors are worded for the app's delivery log: no internals."""
        with self._storage.session() as session:
            if outbox.is_disabled(session=session, url=url):
                return _Attempt(
                    "The URL answered 410 Gone earlier; deliveries to it are off.", final=True
                )
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "parley-webhook",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
        }
        if self._signing_secrets:
            headers["webhook-signature"] = standard_signature(
                self._signing_secrets, msg_id, timestamp, body
            )
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, body.encode())
        try:
            response = self._client.post(url, content=body.encode(), headers=headers)
        except OutboundRefused as exc:
            return _Attempt(f"Not sent: the URL {exc.message.removeprefix('The URL ')}", final=True)
        except (httpx.InvalidURL, ValueError):
            return _Attempt("Not sent: the URL is not valid.", final=True)
        except httpx.TimeoutException:
            return _Attempt("The receiver did not answer in time.")
        except httpx.HTTPError:
            return _Attempt("The receiver could not be reached.")
        if response.is_success:
            return _Attempt(None)
        error = f"HTTP {response.status_code}"
        if response.status_code == 410:
            with self._storage.session() as session:
                outbox.disable_url(session=session, url=url, reason=error)
            return _Attempt(f"{error}: deliveries to this URL are off.", final=True)
        wait = _retry_after(response) if response.status_code in _RETRY_AFTER_STATUSES else None
        return _Attempt(error, wait=wait)

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
