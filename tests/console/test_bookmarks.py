"""The console's bookmark logic without a browser: ``parley/console/bookmarks.js`` (the
part of the bookmarks panel that touches no DOM) run in Node, and the body it builds
accepted by the API as it is. The panel itself is walked in Chromium in
``test_console.py``."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.conftest import REPO, Api
from tests.console.conftest import text_conversation

MODULE = REPO / "parley" / "console" / "bookmarks.js"
NODE = shutil.which("node")


def _run(expression: str) -> Any:
    """``expression`` evaluated in Node with the module's exports as ``b``, as JSON."""
    if NODE is None:
        pytest.skip("Node.js is not installed")
    script = (
        f"import * as b from {json.dumps(MODULE.as_uri())};\n"
        f"process.stdout.write(JSON.stringify({expression}));\n"
    )
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_default_duration_is_the_apps_setting_or_thirty_seconds() -> None:
    assert _run("b.defaultDuration({settings: {intelligence: {bookmarks: {duration: 45}}}})") == 45
    for answer in [
        "{settings: {}}",
        "{}",
        "null",
        "{settings: {intelligence: {bookmarks: {duration: 1.5}}}}",
    ]:
        assert _run(f"b.defaultDuration({answer})") == 30, answer


def test_a_body_is_whole_seconds_from_the_player_time_within_the_conversation() -> None:
    body = _run(
        "b.bookmarkBody({at: 12.7, label: ' Price ', description: ' asks ', duration: 30,"
        " length: 40, user: {name: 'Parley console'}})"
    )
    assert body == {
        "label": "Price",
        "description": "asks",
        "user": {"name": "Parley console"},
        "beginTimeOffset": 12,
        "duration": 28,  # ends with the conversation (40 s)
    }
    short = _run("b.bookmarkBody({at: 0, label: 'a', description: 'b', duration: 7, length: 40})")
    assert (short["beginTimeOffset"], short["duration"]) == (0, 7)
    # past the end (a player beyond the transcript): the server says so, the body does not hide it
    late = _run("b.bookmarkBody({at: 50.2, label: 'a', description: 'b', duration: 7, length: 40})")
    assert (late["beginTimeOffset"], late["duration"]) == (50, 7)


def test_bookmarks_are_listed_in_time_order() -> None:
    marks = (
        "[{label: 'b', beginTimeOffset: 9}, {label: 'a', beginTimeOffset: 9},"
        " {label: 'c', beginTimeOffset: 2}]"
    )
    assert [m["label"] for m in _run(f"b.inOrder({marks})")] == ["c", "a", "b"]


def test_the_api_takes_the_body_the_panel_builds(api: Api) -> None:
    cid = text_conversation(api, "We agreed on the budget for the next quarter.")
    length = api.get(f"/v1/conversations/{cid}/messages").json()["messages"][0]
    end = length["timeOffset"] + length["duration"]
    body = _run(
        "b.bookmarkBody({at: 0.4, label: 'Budget', description: 'agreed', duration: 30,"
        f" length: {end}, user: {{name: 'Parley console'}}}})"
    )
    made = api.request("POST", f"/v1/conversations/{cid}/bookmarks", json=body)
    assert made.status_code == 200, made.text
    assert made.json()["beginTimeOffset"] == 0
    assert made.json()["messageRefs"] == [{"id": length["id"]}]
