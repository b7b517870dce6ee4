"""Stored custom entities found in messages: exactly, whole words, longest first, and at a
cost that does not grow with the number of values."""

from __future__ import annotations

import time
from typing import Any

import pytest

from parley.insights import EntitySpec, InsightOptions, Message, compute_insights
from parley.insights.custom_entities import detect, validate_values
from parley_client.wire.limits import LIMITS
from tests.insights.conftest import MONDAY, make_messages

TESLA = EntitySpec("1111111111111111", "Vehicle", "TeslaModel", ("Model X", "Model S", "Model 3"))


def _found(items: list[dict[str, Any]]) -> list[tuple[str, str, list[tuple[str, int]]]]:
    """(entity id, detected value, [(message id, offset)]) of each match."""
    return [
        (item["id"], m["detectedValue"], [(r["id"], r["offset"]) for r in m["messageRefs"]])
        for item in items
        for m in item["matches"]
    ]


def _one(text: str, *specs: EntitySpec) -> list[tuple[str, str, list[tuple[str, int]]]]:
    return _found(detect([Message("m", text, 0.0, 1.0)], specs or (TESLA,)))


def test_values_match_case_sensitively_and_as_whole_words() -> None:
    assert _one("a model x and a MODEL S") == []
    assert _one("the Model Standard and the Model 3s") == []
    assert _one("My Model X.") == [(TESLA.id, "Model X", [("m", 3)])]
    brand = EntitySpec("2", "Company", "Car", ("Ford", "Tesla"))
    assert _one("Stanford afforded it", brand) == []
    assert _one("Tesla's and (Ford)", brand) == [
        ("2", "Tesla", [("m", 0)]),
        ("2", "Ford", [("m", 13)]),
    ]


def test_punctuation_inside_a_value_must_be_there_and_spacing_may_differ() -> None:
    lang = EntitySpec("3", "Language", "Code", ("C++", "e-mail", "U.S."))
    assert _one("I write C++, e-mail the U.S. team", lang) == [
        ("3", "C++", [("m", 8)]),
        ("3", "e-mail", [("m", 13)]),
        ("3", "U.S.", [("m", 24)]),
    ]
    assert _one("I write C, email the U S team", lang) == []
    assert _one("e - mail", lang) == []  # spaces where the value has none
    assert _one("It is a Model\u00a0 X now") == [(TESLA.id, "Model X", [("m", 8)])]


def test_the_longest_value_wins_and_every_entity_with_it_is_found() -> None:
    plaid = EntitySpec("4", "Vehicle", "Trim", ("Model S Plaid",))
    toy = EntitySpec("5", "Toy", "TeslaModel", ("Model S",))
    found = _one("A Model S Plaid, then a Model S.", TESLA, plaid, toy)
    assert found == [  # in order of first mention
        ("4", "Model S Plaid", [("m", 2)]),
        (TESLA.id, "Model S", [("m", 24)]),
        ("5", "Model S", [("m", 24)]),
    ]


def test_items_carry_the_newer_and_the_legacy_fields() -> None:
    messages = make_messages(
        ("Dana", "We sell the Model X."), ("Sam", "And the Model 3 and the Model X.")
    )
    (item,) = detect(messages, [TESLA], MONDAY)
    assert {k: item[k] for k in ("id", "type", "subType", "category", "value", "text")} == {
        "id": TESLA.id,
        "type": "Vehicle",
        "subType": "TeslaModel",
        "category": "Custom",
        "value": "Model X",
        "text": "Model X",
    }
    assert item["messageRefs"] == [
        {"id": "1000", "text": "We sell the Model X.", "offset": 12},
        {"id": "1001", "text": "And the Model 3 and the Model X.", "offset": 8},
        {"id": "1001", "text": "And the Model 3 and the Model X.", "offset": 24},
    ]
    x, three = item["matches"]
    assert x["detectedValue"] == "Model X" and three["detectedValue"] == "Model 3"
    assert x["messageRefs"][0] == {
        "id": "1000",
        "text": "We sell the Model X.",
        "offset": 12,
        "startTime": "2024-03-11T15:00:00.000Z",
        "endTime": "2024-03-11T15:00:03.000Z",
    }
    assert [r["id"] for r in x["messageRefs"]] == ["1000", "1001"]


def test_only_with_detect_entities_and_after_the_built_in_ones() -> None:
    messages = make_messages(("Dana", "Ann from Acme bought a Model X on Friday."))
    off = compute_insights(messages, InsightOptions(entity_specs=(TESLA,)))
    assert off.entities == []
    on = compute_insights(
        messages, InsightOptions(detect_entities=True, entity_specs=(TESLA,), reference_time=MONDAY)
    )
    assert [e["category"] for e in on.entities][-1] == "Custom"
    assert {e["category"] for e in on.entities[:-1]} == {"Managed"}
    assert on.entities[-1]["id"] == TESLA.id


def test_cost_does_not_grow_with_the_number_of_values() -> None:
    """100,000 values (an app's most) against 200,000 characters: a regex alternation or a
    search per value would take minutes; the trie walks each word once."""
    many = [
        EntitySpec(str(i), "T", f"S{i}", tuple(f"Model {i} {j}" for j in range(1000)))
        for i in range(LIMITS["entity_values_total"] // 1000)
    ]
    text = "The Model 7 3 and the Model 99 999 and Model words go on. " * 3400
    started = time.thread_time()
    found = detect([Message("m", text, 0.0, 1.0)], many)
    spent = time.thread_time() - started
    assert [(i["id"], len(i["messageRefs"])) for i in found] == [("7", 3400), ("99", 3400)]
    assert spent < 10.0, spent  # 1.2 s here (2026-12-07), 0.9 s of it building the trie


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("Model X", '"values" must be an array of strings'),
        ([], '"values" must contain between 1 and 1000 values, got 0'),
        (["x"] * 1001, '"values" must contain between 1 and 1000 values, got 1001'),
        (["ok", None], '"values[1]" must be a string'),
        (["ok", " \t"], '"values[1]" is not allowed to be empty'),
        (["x" * 201], '"values[0]" is longer than 200 characters'),
        (["Model X", "Model X"], "\"values\" contains the duplicate value 'Model X'"),
    ],
)
def test_values_are_validated(values: Any, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        validate_values(values)
    assert str(raised.value) == message


def test_values_are_kept_as_given() -> None:
    assert validate_values(["Model X", "model x", " Model  Y "]) == (
        "Model X",
        "model x",
        " Model  Y ",
    )
