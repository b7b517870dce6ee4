"""Resolve spoken date expressions ("tomorrow", "next Friday", "June 20th") to calendar days.

Symbl resolves dates in action items (``dueBy``) and entities (``value``) against the
conversation start, so the same rules serve both. Only expressions that name a day (or a
span of days) are resolved; anything vaguer returns None rather than a guess.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

__all__ = ["ResolvedDate", "due_by_iso", "find_dates", "resolve"]

_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_MONTHS: dict[str, int] = {}
for _i, _name in enumerate(calendar.month_name):
    if _i:
        _MONTHS[_name.lower()] = _i
        _MONTHS[calendar.month_abbr[_i].lower()] = _i
_MONTHS["sept"] = 9
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3,
}  # fmt: skip

_WD = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MON = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
)
_DAYNUM = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_NUM = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few)"

#: Alternatives tried left to right; the longest expressions come first so that
#: "next Friday" wins over "Friday" and "end of the month" over "month". Every alternative
#: starts with an ASCII letter or digit; saying so up front (the lookahead) lets the engine
#: skip other positions without trying each alternative, which halves the time on long
#: text. Every ``\s+`` is followed by a literal, so a match attempt is linear in the run
#: of spaces it meets and the whole search stays linear (tests/insights/test_regex_budget.py).
_PATTERN = re.compile(
    r"(?=[0-9a-z])\b(?:"
    rf"(?P<monthday>{_MON}\.?\s+{_DAYNUM})(?:,?\s+(?P<year1>\d{{4}}))?"
    rf"|(?P<daymonth>(?:the\s+)?{_DAYNUM}\s+of\s+{_MON})(?:,?\s+(?P<year2>\d{{4}}))?"
    r"|(?P<iso>\d{4}-\d{2}-\d{2})"
    r"|(?P<slash>\d{1,2}/\d{1,2}(?:/\d{2,4})?)"
    r"|(?P<dayafter>(?:the\s+)?day\s+after\s+tomorrow)"
    r"|(?P<endof>(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?"
    r"(?:day|week|month|quarter|year))"
    r"|(?P<eod>eod|eow|close\s+of\s+business|cob)"
    rf"|(?P<relwd>(?:next|this|coming|last)\s+{_WD})"
    r"|(?P<relspan>(?:next|this|last)\s+(?:week|month|quarter|year))"
    rf"|(?P<inn>(?:in|within)\s+{_NUM}\s+(?:business\s+)?(?:days?|weeks?))"
    r"|(?P<today>today|tonight|this\s+(?:morning|afternoon|evening))"
    r"|(?P<tomorrow>tomorrow)"
    r"|(?P<yesterday>yesterday|last\s+night)"
    rf"|(?P<wd>{_WD})"
    r"|(?P<theday>the\s+(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th))"
    ")\\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ResolvedDate:
    """A resolved expression: ``start`` is the day meant; ranges also carry ``end``."""

    text: str
    offset: int
    start: date
    end: date | None = None

    @property
    def is_range(self) -> bool:
        return self.end is not None and self.end != self.start


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _next_weekday(today: date, weekday: int) -> date:
    """The first such weekday after today (a bare "Friday" said on Friday means next week)."""
    ahead = (weekday - today.weekday()) % 7 or 7
    return today + timedelta(days=ahead)


def _month_day(today: date, month: int, day: int, year: int | None) -> date | None:
    """A month and day without a year means the next one, unless it was just mentioned
    as recent history (within the last two months)."""
    try:
        if year is not None:
            return date(year, month, day)
        candidate = date(today.year, month, day)
    except ValueError:
        return None
    if candidate < today - timedelta(days=60):
        try:
            candidate = date(today.year + 1, month, day)
        except ValueError:
            return None
    return candidate


def _end_of(today: date, unit: str, which: str) -> date:
    if unit == "day":
        return today
    if unit == "week":
        base = today + timedelta(days=7) if which == "next" else today
        return _week_start(base) + timedelta(days=4)  # Friday: the end of the working week
    if unit == "month":
        year, month = today.year, today.month
        if which == "next":
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return date(year, month, calendar.monthrange(year, month)[1])
    if unit == "quarter":
        q_end_month = ((today.month - 1) // 3 + 1) * 3
        year = today.year
        if which == "next":
            q_end_month += 3
            if q_end_month > 12:
                year, q_end_month = year + 1, q_end_month - 12
        return date(year, q_end_month, calendar.monthrange(year, q_end_month)[1])
    year = today.year + (1 if which == "next" else 0)
    return date(year, 12, 31)


def _span(today: date, which: str, unit: str) -> tuple[date, date]:
    shift = {"next": 1, "this": 0, "last": -1}[which]
    if unit == "week":
        start = _week_start(today) + timedelta(weeks=shift)
        return start, start + timedelta(days=6)
    if unit == "month":
        month = today.month + shift
        year = today.year + (month - 1) // 12
        month = (month - 1) % 12 + 1
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if unit == "quarter":
        q = (today.month - 1) // 3 + shift
        year = today.year + q // 4
        q %= 4
        start = date(year, q * 3 + 1, 1)
        end_month = q * 3 + 3
        return start, date(year, end_month, calendar.monthrange(year, end_month)[1])
    year = today.year + shift
    return date(year, 1, 1), date(year, 12, 31)


def _resolve_match(m: re.Match[str], today: date) -> tuple[date, date | None] | None:
    kind = m.lastgroup if m.lastgroup not in ("year1", "year2") else None
    if kind is None:
        kind = "monthday" if m.group("monthday") else "daymonth"
    text = m.group(kind).lower()
    if kind == "monthday":
        mon, day = re.match(r"([a-z]+)\.?\s+(\d+)", text).groups()  # type: ignore[union-attr]
        year = m.group("year1")
        found = _month_day(today, _MONTHS[mon], int(day), int(year) if year else None)
        return (found, None) if found else None
    if kind == "daymonth":
        day, mon = re.search(r"(\d+)\D+?([a-z]+)$", text).groups()  # type: ignore[union-attr]
        year = m.group("year2")
        found = _month_day(today, _MONTHS[mon], int(day), int(year) if year else None)
        return (found, None) if found else None
    if kind == "iso":
        try:
            return date.fromisoformat(text), None
        except ValueError:
            return None
    if kind == "slash":
        parts = [int(p) for p in text.split("/")]
        year = parts[2] if len(parts) == 3 else None
        if year is not None and year < 100:
            year += 2000
        found = _month_day(today, parts[0], parts[1], year) if parts[0] <= 12 else None
        return (found, None) if found else None
    if kind == "dayafter":
        return today + timedelta(days=2), None
    if kind == "endof":
        words = text.split()
        which = "next" if "next" in words else "this"
        return _end_of(today, words[-1], which), None
    if kind == "eod":
        return (
            (today, None)
            if text in ("eod", "cob", "close of business")
            else (_end_of(today, "week", "this"), None)
        )
    if kind == "relwd":
        which, wd = text.split()
        weekday = _WEEKDAYS[wd]
        if which == "last":
            back = (today.weekday() - weekday) % 7 or 7
            return today - timedelta(days=back), None
        if which == "next":
            plain = _next_weekday(today, weekday)
            # "next Friday" said on a Monday usually means the Friday of next week.
            if _week_start(plain) == _week_start(today):
                plain += timedelta(days=7)
            return plain, None
        return _next_weekday(today, weekday) if weekday != today.weekday() else today, None
    if kind == "relspan":
        which, unit = text.split()
        start, end = _span(today, which, unit)
        if which == "this" and start < today:
            start = today
        return start, end
    if kind == "inn":
        words = text.split()
        unit = words[-1]
        raw = " ".join(w for w in words[1:-1] if w != "business")
        raw = (
            raw.removeprefix("a ") if raw.startswith("a couple") or raw.startswith("a few") else raw
        )
        count = int(raw) if raw.isdigit() else _NUMBERS.get(raw, 1)
        days = count * 7 if unit.startswith("week") else count
        return today + timedelta(days=days), None
    if kind == "today":
        return today, None
    if kind == "tomorrow":
        return today + timedelta(days=1), None
    if kind == "yesterday":
        return today - timedelta(days=1), None
    if kind == "wd":
        return _next_weekday(today, _WEEKDAYS[text]), None
    if kind == "theday":
        day = int(re.search(r"\d+", text).group())  # type: ignore[union-attr]
        year, month = today.year, today.month
        if day < today.day:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        try:
            return date(year, month, day), None
        except ValueError:
            return None
    return None


def find_dates(text: str, today: date) -> list[ResolvedDate]:
    """Every resolvable date expression in ``text``, in order."""
    found: list[ResolvedDate] = []
    for m in _PATTERN.finditer(text):
        resolved = _resolve_match(m, today)
        if resolved is None:
            continue
        start, end = resolved
        found.append(ResolvedDate(m.group(0), m.start(), start, end))
    return found


def resolve(text: str, today: date) -> ResolvedDate | None:
    """The first date expression in ``text`` (e.g. an entity span), or None."""
    found = find_dates(text, today)
    return found[0] if found else None


def due_by_iso(day: date, timezone_offset_minutes: int = 0) -> str:
    """Local midnight of ``day`` in UTC, formatted like Symbl's ``dueBy``."""
    local_midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    utc = local_midnight - timedelta(minutes=timezone_offset_minutes)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")
