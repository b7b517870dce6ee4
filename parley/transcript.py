"""Formatted transcripts: Markdown (Symbl's shape), SubRip and WebVTT."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CONTENT_TYPES", "Line", "render"]

CONTENT_TYPES = ("text/markdown", "text/srt", "text/vtt")


@dataclass(frozen=True)
class Line:
    """A sentence as a transcript shows it (times in seconds from the start)."""

    text: str
    start: float
    end: float
    speaker: str | None = None


def _clock(seconds: float, separator: str) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _highlight(text: str, phrases: Sequence[str]) -> str:
    for phrase in sorted(set(phrases), key=len, reverse=True):
        if phrase:
            text = re.sub(re.escape(phrase), lambda m: f"<mark>{m.group(0)}</mark>", text, count=1)
    return text


def render(
    lines: Sequence[Line],
    content_type: str,
    *,
    speakers: bool = True,
    paragraphs: bool = True,
    phrases: Sequence[str] = (),
) -> str:
    """The transcript text for one of ``CONTENT_TYPES``."""

    def label(line: Line) -> str:
        return f"{line.speaker}: " if speakers and line.speaker else ""

    if content_type == "text/markdown":
        turns: list[tuple[str | None, list[str]]] = []
        for line in lines:
            text = _highlight(html.escape(line.text, quote=False), phrases)
            if turns and turns[-1][0] == line.speaker:
                turns[-1][1].append(text)
            else:
                turns.append((line.speaker, [text]))
        rendered = [
            (f"{speaker}: " if speakers and speaker else "") + " ".join(texts)
            for speaker, texts in turns
        ]
        return "".join(r + "<br/><br/>" for r in rendered) if paragraphs else " ".join(rendered)
    if content_type == "text/srt":
        return "".join(
            f"{i}\n{_clock(line.start, ',')} --> {_clock(line.end, ',')}\n"
            f"{label(line)}{line.text}\n\n"
            for i, line in enumerate(lines, start=1)
        )
    if content_type == "text/vtt":
        cues = "".join(
            f"{_clock(line.start, '.')} --> {_clock(line.end, '.')}\n"
            + (f"<v {line.speaker}>" if speakers and line.speaker else "")
            + f"{line.text}\n\n"
            for line in lines
        )
        return "WEBVTT\n\n" + cues
    raise ValueError(content_type)
