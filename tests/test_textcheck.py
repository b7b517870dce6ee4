"""The shared string check, integer parsers and repair (``parley.textcheck``)."""

from __future__ import annotations

import pytest

from parley.errors import BadRequest
from parley.textcheck import check_tree, parse_capped, parse_digits, parse_int, scrub


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ({"metadata": {"foo": "\ud800"}}, '"metadata.foo"'),
        ({"messages": [{"from": {"name": "a\x00"}}]}, '"messages[0].from.name"'),
        ({"a": {"\udc00": 1}}, 'A key of "a"'),
        ("\ud800", "The request body"),
    ],
)
def test_a_refused_string_is_named_by_its_path(value: object, named: str) -> None:
    with pytest.raises(BadRequest) as refused:
        check_tree(value, "The request body")
    assert refused.value.message.startswith(named)


def test_wellformed_text_passes_in_linear_time() -> None:
    check_tree({"k": ["é😀 ok"] * 50_000, "n": [1, 2.5, None, True]}, "body")


def test_integers_are_ascii_digits_of_bounded_length() -> None:
    assert parse_digits("0042") == 42
    for text in ("²", "٣", "+1", "-1", "1_0", " 1", "", "1" * 19, "1" * 4301):
        assert parse_digits(text) is None, text
    assert parse_int("limit", " 7 ", low=1, high=10) == 7
    with pytest.raises(BadRequest, match='"limit"'):
        parse_int("limit", "²", high=10)
    assert parse_capped("1" * 4301, 500) == 500
    assert parse_capped("0" * 4300 + "7", 500) == 7
    assert parse_capped("²", 500) is None


def test_scrub_replaces_each_refused_character_and_keeps_the_rest() -> None:
    value = {"a\ud800": ["x\x00y", {"k": "\udc00z"}, 3, None], "ok": "é😀"}
    assert scrub(value) == {"a\ufffd": ["x\ufffdy", {"k": "\ufffdz"}, 3, None], "ok": "é😀"}
    deep: list[object] = []
    node = deep
    for _ in range(5000):  # deeper than the recursion limit
        child: list[object] = []
        node.append(child)
        node = child
    node.append("\ud800")
    fixed = scrub(deep)
    for _ in range(5000):
        fixed = fixed[0]
    assert fixed == ["\ufffd"]
