"""The wire format, byte for byte: every answer of the text conversations and the error
responses equals its committed golden file (``tests/golden``).

Scores a model computes may move in their last digit between CPUs
(``golden.SCORE_TOLERANCE``); everything else is compared exactly. A change here is a change
on the wire. When it is meant (a fix named in the commit), regenerate the files with
``python tools/golden.py record --text-only tests/golden`` and commit the diff with the change.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("golden_tool", REPO / "tools" / "golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


golden = _tool()
EXPECTED: dict[str, str] = golden.files_of(GOLDEN)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One in-process server for the module: the text conversations recorded again."""
    out = tmp_path_factory.mktemp("golden")
    index = golden.record(out, text_only=True)
    return {"files": golden.files_of(out), "index": index}


def test_the_same_answers_are_recorded(recorded: dict[str, Any]) -> None:
    assert sorted(recorded["files"]) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_answer_is_unchanged(recorded: dict[str, Any], name: str) -> None:
    got = recorded["files"].get(name)
    assert got is not None, f"{name} was not recorded"
    if not golden.same_answer(EXPECTED[name], got):
        ((_, _, lines),) = golden.differences({name: EXPECTED[name]}, {name: got})
        diff = "\n".join(lines)
        pytest.fail(f"{name} changed on the wire:\n{diff}")


def test_every_route_is_recorded(recorded: dict[str, Any]) -> None:
    """A new route must get a golden file (the text-only recording reaches them all)."""
    assert recorded["index"]["not_covered"] == []
    committed = json.loads((GOLDEN / golden.INDEX).read_text())
    assert recorded["index"]["routes"] == committed["routes"]


def test_only_a_scores_last_digits_may_move() -> None:
    """The tolerance covers a model score's rounding between CPUs, and nothing else."""
    head = "GET /x\nstatus: 200\ncontent-type: application/json\n\n"
    base = head + '{"items":[{"score":0.153,"count":3,"text":"Pricing"}]}'
    assert golden.same_answer(base, head + '{"items":[{"score":0.151,"count":3,"text":"Pricing"}]}')
    for changed in (
        '{"items":[{"score":0.163,"count":3,"text":"Pricing"}]}',  # beyond the tolerance
        '{"items":[{"score":0.153,"count":4,"text":"Pricing"}]}',  # an integer is exact
        '{"items":[{"score":0.153,"count":3,"text":"Prices"}]}',
        '{"items":[{"score":0.153,"count":3}]}',
        '{"items":[{"score":"0.153","count":3,"text":"Pricing"}]}',
    ):
        assert not golden.same_answer(base, head + changed), changed
    assert not golden.same_answer(base, base.replace("status: 200", "status: 201"))
