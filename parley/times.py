"""ISO-8601 times, read and written one way everywhere.

Symbl clients send times like ``2026-12-02T10:00:00Z`` or with an offset; Parley writes
UTC with milliseconds and ``Z``, as Symbl did.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso", "parse_iso"]


def parse_iso(value: str, *, require_zone: bool = False) -> datetime:
    """A timezone-aware datetime; a value without a zone is taken as UTC unless
    ``require_zone``. Raises ValueError for anything that is not an ISO-8601 date-time,
    or one that cannot be expressed in UTC (year 1 with a positive offset)."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        if require_zone:
            raise ValueError("no time zone")
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and Z, as Symbl writes times."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
