"""Custom entities stored through the Management API, found in a conversation's messages.

Symbl's rule is that an entity's ``values`` "match only exactly". Here that means:

* **Case-sensitive.** The values are a list, so a user who wants "tesla" and "Tesla"
  lists both; a case-blind match would tag the pronoun "us" for a value "US", "it" for
  "IT", "may" for "May", "bill" for "Bill", and nothing could switch that off.
* **Whole words.** "Ford" is not found in "Stanford", nor "Model S" in "Model Standard":
  a value starts and ends at a word's edge (a value that begins or ends with punctuation,
  "C++", "#launch", is bounded by that character). Trailing punctuation and a possessive
  in the message do not hide a mention: "Model X." and "Tesla's" are found.
* **Nothing else loosened**: no plural, no stemming, no paraphrase (the job option
  ``entities`` and trackers do those). Only a run of spaces stands for one, as
  transcripts and typed text differ there and the difference is invisible.

Where values overlap at one place, the longest wins ("New York Times" over "New York"),
and a mention is not searched for again inside a longer one; every entity that lists
that same value gets the mention. Matching walks a token trie of all values, so a
conversation costs its length times the longest value's words, however many values the
app stores.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from parley.insights.entities import match_ref, message_ref
from parley.insights.schema import EntitySpec, Item, Message
from parley_client.wire.limits import LIMITS

__all__ = ["CATEGORY", "detect", "validate_values"]

#: The category of a user-defined entity (``Managed`` is the built-in ones').
CATEGORY = "Custom"

#: A word (letters, digits, underscore) or one other visible character.
_TOKEN = re.compile(r"\w+|[^\w\s]")


def validate_values(values: object) -> tuple[str, ...]:
    """An entity's ``values``: 1 to LIMITS["entity_values"] distinct non-blank strings of
    at most LIMITS["entity_value_chars"] characters, kept as given. Raises ValueError
    naming the problem."""
    most, longest = LIMITS["entity_values"], LIMITS["entity_value_chars"]
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise ValueError('"values" must be an array of strings')
    if not 1 <= len(values) <= most:
        raise ValueError(f'"values" must contain between 1 and {most} values, got {len(values)}')
    seen: set[str] = set()
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise ValueError(f'"values[{i}]" must be a string')
        if not value.strip():
            raise ValueError(f'"values[{i}]" is not allowed to be empty')
        if len(value) > longest:
            raise ValueError(f'"values[{i}]" is longer than {longest} characters')
        if value in seen:
            raise ValueError(f'"values" contains the duplicate value {value!r}')
        seen.add(value)
    return tuple(values)


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int
    #: Whether whitespace separates it from the token before.
    spaced: bool

    @property
    def key(self) -> str:
        """The trie key of a token after a value's first: a space marks a gap."""
        return " " + self.text if self.spaced else self.text


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    for m in _TOKEN.finditer(text):
        spaced = bool(out) and m.start() > out[-1].end
        out.append(_Token(m.group(), m.start(), m.end(), spaced))
    return out


@dataclass(slots=True)
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    #: Indexes (into the specs) of the entities a value ending here belongs to.
    ends: list[int] = field(default_factory=list)
    #: That value, as stored (the first stored, if two differ only in spacing).
    value: str = ""


def _trie(specs: Sequence[EntitySpec]) -> _Node:
    root = _Node()
    for index, spec in enumerate(specs):
        for value in spec.values:
            tokens = _tokens(value)
            if not tokens:
                continue
            node = root.children.setdefault(tokens[0].text, _Node())
            for token in tokens[1:]:
                node = node.children.setdefault(token.key, _Node())
            if index not in node.ends:
                node.ends.append(index)
            node.value = node.value or value
    return root


def _mentions(text: str, root: _Node) -> list[tuple[int, _Node]]:
    """(offset, the value's trie node) of each longest, non-overlapping value in ``text``."""
    tokens = _tokens(text)
    found: list[tuple[int, _Node]] = []
    i = 0
    while i < len(tokens):
        node = root.children.get(tokens[i].text)
        best: tuple[int, _Node] | None = None
        j = i
        while node is not None:
            if node.ends:
                best = (j, node)
            j += 1
            if j == len(tokens):
                break
            node = node.children.get(tokens[j].key)
        if best is None:
            i += 1
            continue
        last, end_node = best
        found.append((tokens[i].start, end_node))
        i = last + 1
    return found


def detect(
    messages: Sequence[Message],
    specs: Sequence[EntitySpec],
    reference_time: datetime | None = None,
) -> list[Item]:
    """One item per stored entity that is mentioned, in order of first mention: Symbl's
    newer shape (``type``, ``subType``, ``category: "Custom"``, ``matches`` per value
    found, ``detectedValue`` as stored) with the legacy fields (``value``, ``text``,
    ``messageRefs``) that older clients require. Its ``id`` is the stored entity's, so a
    client can join on it."""
    if not specs:
        return []
    root = _trie(specs)
    items: dict[int, Item] = {}
    for message in messages:
        for start, node in _mentions(message.text, root):
            detected = node.value
            for index in node.ends:
                spec = specs[index]
                item = items.get(index)
                if item is None:
                    item = items[index] = {
                        "id": spec.id,
                        "type": spec.type,
                        "subType": spec.sub_type,
                        "category": CATEGORY,
                        "value": detected,
                        "text": detected,
                        "messageRefs": [],
                        "matches": [],
                    }
                item["messageRefs"].append(message_ref(message, start))
                match = next((m for m in item["matches"] if m["detectedValue"] == detected), None)
                if match is None:
                    match = {"detectedValue": detected, "messageRefs": []}
                    item["matches"].append(match)
                match["messageRefs"].append(match_ref(message, start, reference_time))
    return list(items.values())
