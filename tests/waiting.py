"""The suite's one way to wait for something another thread or process does.

Tests wait on an event where one exists (``Receiver.wait_for``, ``LocalQueue.join``,
``WebhookDispatcher.join``); where the only witness is a condition to read (a job's status
over HTTP, a line in a log file), ``until`` reads it with exponential backoff: a few
milliseconds at first, so a fast answer costs no fixed sleep, then at most
``MAX_INTERVAL`` apart, so a slow one does not hammer a busy machine. The deadline is
generous on purpose: it only decides how long a broken build takes to fail, never whether
a working one passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

FIRST_INTERVAL = 0.005
MAX_INTERVAL = 0.25


def until(
    check: Callable[[], T],
    *,
    timeout: float,
    what: str | Callable[[], str],
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """The first truthy value ``check()`` returns; AssertionError(``what``) once
    ``timeout`` seconds pass without one. Exceptions in ``ignore`` count as "not yet"
    (the last one is chained to the failure)."""
    deadline = time.monotonic() + timeout
    interval = FIRST_INTERVAL
    while True:
        error: BaseException | None = None
        try:
            value = check()
        except ignore as exc:
            error = exc
        else:
            if value:
                return value
        left = deadline - time.monotonic()
        if left <= 0:
            message = what() if callable(what) else what
            raise AssertionError(f"{message} (waited {timeout:g} s)") from error
        time.sleep(min(interval, left))
        interval = min(interval * 2, MAX_INTERVAL)
