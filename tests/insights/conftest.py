"""Helpers for insight tests: build messages from (speaker, text) pairs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.insights import Member, Message

#: A Monday, so "Friday" is 2024-03-15 and "tomorrow" 2024-03-12.
MONDAY = datetime(2024, 3, 11, 15, 0, tzinfo=UTC)


def make_messages(*lines: tuple[str, str]) -> list[Message]:
    members: dict[str, Member] = {}
    out: list[Message] = []
    clock = 0.0
    for i, (speaker, text) in enumerate(lines):
        member = members.setdefault(
            speaker, Member(f"m-{speaker.lower()}", speaker, f"{speaker.lower()}@example.com")
        )
        out.append(Message(str(1000 + i), text, clock, clock + 3.0, member))
        clock += 3.5
    return out


@pytest.fixture
def build():
    return make_messages
