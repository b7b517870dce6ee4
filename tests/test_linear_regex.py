"""Every pattern outside ``insights/`` that sees user text finishes on 1 MB of adversarial
input within a time budget (the old ``filter`` regex took 78 s on 100 kB)."""

from __future__ import annotations

import contextlib
import time

import pytest

from parley.errors import BadRequest
from parley.options.filters import parse_metadata_filter
from parley.options.job import _LANG
from parley.pipeline import sentences

MB = 1 << 20
BUDGET = 2.0  # CPU seconds of this thread (a busy machine does not inflate them); linear
#: matching takes milliseconds here, quadratic takes hours

CASES = {
    "filter: spaces before the value's end": "conversation.metadata.a==x" + " " * MB + "y",
    "filter: spaces around ==": "conversation.metadata.a" + " " * MB + "==" + " " * MB,
    "filter: many 'and's": "conversation.metadata.a==x" + " and" * (MB // 4),
    "filter: dots in the key": "conversation.metadata." + "." * MB + "==x",
    "filter: or-like text": "conversation.metadata.a==" + "o" * MB + "r",
}


@pytest.mark.parametrize("name", list(CASES))
def test_filter_parser_is_linear(name: str) -> None:
    started = time.thread_time()
    with contextlib.suppress(BadRequest):
        parse_metadata_filter(CASES[name], limit=None)
    assert time.thread_time() - started < BUDGET


def test_filter_is_also_length_bounded_at_the_edge() -> None:
    with pytest.raises(BadRequest, match="at most"):
        parse_metadata_filter("conversation.metadata.a==" + "x" * 2000)


@pytest.mark.parametrize(
    "text",
    ["." * MB + "x", "!" * MB + ")" * 10 + "x", ".)" * (MB // 2) + "x", "…" * MB + "a"],
)
def test_sentence_end_pattern_is_linear(text: str) -> None:
    started = time.thread_time()
    sentences._TERMINAL.search(text)
    assert time.thread_time() - started < BUDGET


@pytest.mark.parametrize("text", ["en" + "-abcdefgh" * (MB // 9), "e" * MB, "en-" * (MB // 3)])
def test_language_code_pattern_is_linear(text: str) -> None:
    started = time.thread_time()
    _LANG.match(text)
    assert time.thread_time() - started < BUDGET
