"""Talk-time analytics (``GET .../analytics``) from stored words and members.

Talk time is the union of a member's word spans (so pauses inside a sentence
are not talk); total talk time is the union over everyone, silence is the
rest of the conversation, overlap is time where two or more members talk.
Listen time is the time others talk while the member does not, so a member's
talk + listen = the conversation's total talk time (as in Symbl's example).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Span", "analytics"]

Interval = tuple[float, float]


@dataclass(frozen=True)
class Span:
    """Someone speaking from ``start`` to ``end`` (seconds); ``words`` spoken in it."""

    member_id: str | None
    start: float
    end: float
    words: int = 1


def _union(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(intervals: Iterable[Interval]) -> float:
    return sum(end - start for start, end in intervals)


def _intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    result, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def _pct(part: float, whole: float) -> float:
    return round(100 * part / whole, 3) if whole > 0 else 0.0


def analytics(
    spans: Sequence[Span], members: Sequence[Mapping[str, str | None]], duration: float
) -> dict[str, object]:
    """Symbl's analytics body. ``members`` are the people as the body shows them (Symbl's
    ``{"id", "name", "userId"}``), copied as they are; one without ``id`` gathers the spans
    of no known member (the unknown speaker)."""
    by_member: dict[str | None, list[Interval]] = {}
    words: dict[str | None, int] = {}
    for span in spans:
        by_member.setdefault(span.member_id, []).append((span.start, span.end))
        words[span.member_id] = words.get(span.member_id, 0) + span.words
    talk = {m: _union(iv) for m, iv in by_member.items()}
    everyone = _union(iv for ivs in talk.values() for iv in ivs)
    total_talk = _length(everyone)
    duration = max(duration, total_talk)
    overlap_all: list[Interval] = []
    ids = list(talk)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            overlap_all.extend(_intersect(talk[a], talk[b]))
    total_overlap = _length(_union(overlap_all))
    metrics = [
        {
            "type": "total_silence",
            "percent": _pct(duration - total_talk, duration),
            "seconds": round(duration - total_talk, 3),
        },
        {
            "type": "total_talk_time",
            "percent": _pct(total_talk, duration),
            "seconds": round(total_talk, 3),
        },
        {
            "type": "total_overlap",
            "percent": _pct(total_overlap, duration),
            "seconds": round(total_overlap, 3),
        },
    ]
    result_members = []
    for member in members:
        mid = member.get("id")
        own = talk.get(mid, [])
        seconds = _length(own)
        listen = total_talk - seconds
        overlapping = []
        overlap_seconds = 0.0
        for other in members:
            if other.get("id") == mid:
                continue
            shared = _length(_intersect(own, talk.get(other.get("id"), [])))
            if shared > 0:
                overlap_seconds += shared
                both = seconds + _length(talk.get(other.get("id"), []))
                overlapping.append(
                    dict(other) | {"percent": _pct(shared, both), "seconds": round(shared, 3)}
                )
        body: dict[str, object] = dict(member)
        body |= {
            "pace": {"wpm": round(words.get(mid, 0) / (seconds / 60)) if seconds > 0 else 0},
            "talkTime": {"percentage": _pct(seconds, total_talk), "seconds": round(seconds, 3)},
            "listenTime": {"percentage": _pct(listen, total_talk), "seconds": round(listen, 3)},
            "overlap": {
                "overlapDuration": round(overlap_seconds, 3),
                "overlappingMembers": overlapping,
            },
        }
        result_members.append(body)
    return {"metrics": metrics, "members": result_members}
