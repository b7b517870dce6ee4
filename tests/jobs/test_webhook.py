"""Webhook delivery against a real local HTTP endpoint."""

from __future__ import annotations

import hashlib
import hmac

from parley.jobs.webhook import SIGNATURE_HEADER, WebhookDispatcher, status_event
from tests.receiver import receiver


def test_retries_until_2xx_in_order_and_signed() -> None:
    dispatcher = WebhookDispatcher(secret="s3cret", max_attempts=5, backoff=0.05)
    with receiver(fail_first=2) as hook:
        for status in ("scheduled", "in_progress", "completed"):
            dispatcher.send(hook.url, status_event("job-1", "123", status), key="job-1")
        assert dispatcher.join(10)
        bodies = hook.bodies()
        assert [b["status"] for b in bodies] == ["scheduled", "in_progress", "completed"]
        assert all(
            b["jobId"] == b["id"] == "job-1" and b["conversationId"] == "123" for b in bodies
        )
        headers, _ = hook.calls[0]
        expected = hmac.new(b"s3cret", headers["_raw"].encode(), hashlib.sha256).hexdigest()
        assert headers[SIGNATURE_HEADER.lower()] == f"sha256={expected}"
    dispatcher.close()


def test_gives_up_after_max_attempts() -> None:
    dispatcher = WebhookDispatcher(max_attempts=3, backoff=0.01)
    with receiver(fail_first=10) as hook:
        dispatcher.send(hook.url, status_event("j", "c", "completed"), key="j")
        assert dispatcher.join(10)
        assert hook.bodies() == []
        assert hook.fail_first == 7  # exactly three attempts were made
    dispatcher.close()


def test_unreachable_endpoint_does_not_block_other_jobs() -> None:
    dispatcher = WebhookDispatcher(max_attempts=3, backoff=0.5)
    with receiver() as hook:
        dispatcher.send("http://127.0.0.1:9/nothing", status_event("a", "c", "failed"), key="a")
        dispatcher.send(hook.url, status_event("b", "c", "completed"), key="b")
        import time

        deadline = time.monotonic() + 1.0
        while not hook.bodies() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [b["jobId"] for b in hook.bodies()] == ["b"]
    dispatcher.close(timeout=0.1)
