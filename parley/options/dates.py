"""Date-times sent by clients (message times, list bounds), checked into a safe range.

Kept apart from the job options because conversation-list queries and message bodies use
it too; the range check is what keeps later arithmetic on the value from overflowing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parley.errors import BadRequest
from parley.times import parse_iso

__all__ = ["parse_datetime"]


def parse_datetime(name: str, value: Any, *, require_zone: bool = False) -> datetime:
    """An ISO-8601 date-time between 1970 and 9998, in UTC (``parley.times.parse_iso``).

    The bounds keep arithmetic on it (a week earlier, a conversion) from overflowing, as
    year 1 did. Without a zone it is taken as UTC, unless required.
    """
    if not isinstance(value, str) or len(value) > 64:
        raise BadRequest(f'"{name}" must be an ISO-8601 date-time string')
    try:
        moment = parse_iso(value, require_zone=require_zone)
    except ValueError:
        zone = ' with a time zone (e.g. "Z")' if require_zone else ""
        raise BadRequest(f'"{name}" must be an ISO-8601 date-time string{zone}') from None
    if not 1970 <= moment.year <= 9998:
        raise BadRequest(f'"{name}" must be between the years 1970 and 9998')
    return moment
