"""Pattern-based PII detectors shared by entity extraction and redaction.

Emails, phone numbers, card numbers and the like have fixed shapes that regular
expressions find more reliably than a small statistical NER model, which tends to split
"415-555-0132" into numbers and dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["PiiMatch", "find_pii", "luhn_ok"]


@dataclass(frozen=True)
class PiiMatch:
    """A PII span: ``kind`` is Symbl's upper-case type (``EMAIL_ADDRESS`` ...)."""

    kind: str
    start: int
    end: int
    text: str


# Every quantifier is bounded, or consumes a run no other part of its pattern can take, so
# each match attempt costs a bounded number of steps and a whole text is linear in its
# length (tests/insights/test_regex_budget.py feeds each pattern 1 MB of adversarial text).
# Limits: a local part of at most 64 characters and labels of at most 63 (RFC 5321/1035),
# at most 9 domain labels, URLs of at most 2,048 characters.
_EMAIL = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}\b")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s,;]{0,2046}[^\s,;.!?)]", re.IGNORECASE)
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    # international: +46 70 123 45 67, +44 (0)20 7946 0958, +14155550132. A digit group
    # starts after a separator or a ")", so a run of digits is never split two ways.
    r"\+\d{1,15}(?:[\s.-]\d{1,15}|[\s.-]?\(\d{1,4}\)|(?<=\))\d{1,15}){0,6}"
    r"|\(\d{3}\)\s?\d{3}[\s.-]?\d{4}"  # (415) 555-0132
    r"|\d{3}[.-]\d{3}[.-]\d{4}"  # 415-555-0132
    r"|\d{3}\s\d{3}\s\d{4}"  # 415 555 0132
    r"|1[\s.-]800[\s.-]\d{3}[\s.-]\d{4}"
    r")(?!\w)"
)
_IP = re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")
_NON_DIGIT = re.compile(r"\D")


def luhn_ok(digits: str) -> bool:
    """The checksum every payment card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def find_pii(text: str) -> list[PiiMatch]:
    """Non-overlapping PII spans in ``text``, earliest first (longer match wins on overlap)."""
    found = list(_iter(text))
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    out: list[PiiMatch] = []
    for m in found:
        if out and m.start < out[-1].end:
            continue
        out.append(m)
    return out


#: Each pattern scans a long text in windows of this many characters (one C call holds the
#: GIL for a whole ``finditer`` step, ~0.7 ms per KB here), reading ``_OVERLAP`` beyond
#: the window: longer than any match (every pattern above is bounded), so the matches are
#: exactly those of one scan of the whole text.
_WINDOW = 16_384
_OVERLAP = 4_096


def _finditer(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, in bounded windows (see ``_WINDOW``)."""
    if len(text) <= _WINDOW + _OVERLAP:
        yield from pattern.finditer(text)
        return
    pos = 0
    for start in range(0, len(text), _WINDOW):
        stop = start + _WINDOW
        end = min(stop + _OVERLAP, len(text))
        for m in pattern.finditer(text, max(pos, start), end):
            if m.start() >= stop:
                break
            pos = m.end()
            yield m


def _iter(text: str) -> Iterator[PiiMatch]:
    for m in _finditer(_EMAIL, text):
        yield PiiMatch("EMAIL_ADDRESS", m.start(), m.end(), m.group())
    for m in _finditer(_URL, text):
        if "@" not in m.group():
            yield PiiMatch("URL", m.start(), m.end(), m.group())
    for m in _finditer(_CARD, text):
        digits = _NON_DIGIT.sub("", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            yield PiiMatch("CREDIT_CARD_NUMBER", m.start(), m.end(), m.group())
    for m in _finditer(_SSN, text):
        yield PiiMatch("US_SOCIAL_SECURITY_NUMBER", m.start(), m.end(), m.group())
    for m in _finditer(_PHONE, text):
        digits = _NON_DIGIT.sub("", m.group())
        if 7 <= len(digits) <= 15:
            yield PiiMatch("PHONE_NUMBER", m.start(), m.end(), m.group().rstrip())
    for m in _finditer(_IP, text):
        yield PiiMatch("IP_ADDRESS", m.start(), m.end(), m.group())
