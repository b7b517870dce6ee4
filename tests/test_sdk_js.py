"""``@symblai/api-client`` 1.0.17 (npm), unmodified, against a local Parley: its calls for
issue 20's endpoints (token generate, refresh and revoke; a conversation's intents through
``IntentsApi`` and ``ConversationsApi``) deserialise into its own models, and an unknown
conversation or a revoked token is the error Symbl gives. api-client has no entity,
Management or abstract-topic calls (``symbl_rest``'s are in ``tests/test_sdk_surface.py``).

``@symblai/symbl-js`` 1.4.10, Symbl's official Node SDK, streams a recording to the
Streaming API unmodified (issue 19).

Each package is pinned in its ``tests/js/*/package-lock.json``; ``npm ci`` installs it
on first run (it needs the npm registry), hence ``slow``. Skipped where there is no Node.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api
from tests.helpers import app_client

pytestmark = pytest.mark.slow

HARNESS = Path(__file__).resolve().parent / "js" / "api-client"
STREAMER = Path(__file__).resolve().parent / "js" / "symbl-js"
UNKNOWN_404 = (
    "The conversation and/or it's metadata you asked could not be found, please check the "
    "input provided"
)


def _installed(harness: Path = HARNESS, package: str = "api-client") -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed")
    if (harness / "node_modules" / "@symblai" / package).is_dir():
        return
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=harness,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"


def _replayed(api: Api) -> dict[str, Any]:
    """Run replay.js for a fresh app (it revokes the app's tokens) and its conversation."""
    client, app_id, secret = app_client(api, "api-client")
    try:
        text = {"messages": [{"payload": {"content": "Can we talk pricing?"}, "from": {}}]}
        submitted = client.request("POST", "/v1/process/text", json=text).json()
        assert client.wait(submitted["jobId"])["status"] == "completed"
        env = {
            **os.environ,
            "PARLEY_URL": api.base_url,
            "APP_ID": app_id,
            "APP_SECRET": secret,
            "CONVERSATION_ID": submitted["conversationId"],
        }
        done = subprocess.run(
            ["node", "replay.js"], cwd=HARNESS, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        client.client.close()
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_api_client_tokens_and_intents_work_unmodified(api: Api) -> None:
    _installed()
    out = _replayed(api)

    assert out["generate"] == {
        "status": 200,
        "model": True,
        "accessToken": True,
        "refershToken": True,  # the generated model's spelling, which Parley also sends
        "expiresIn": out["generate"]["expiresIn"],
    }
    assert isinstance(out["generate"]["expiresIn"], int) and out["generate"]["expiresIn"] > 0

    for name in ("IntentsApi", "ConversationsApi"):
        read = out["intents"][name]
        assert (read["status"], read["error"], read["model"]) == (200, None, True), read
        assert read["intents"] == []  # Parley detects no intents (spec §4.20, optional)
        assert read["unknown"] == {"status": 404, "body": {"message": UNKNOWN_404}}

    refresh = out["refresh"]
    assert (refresh["status"], refresh["error"], refresh["model"]) == (200, None, True), refresh
    assert refresh["newAccessToken"] is True
    assert refresh["renewedWorks"] == 200

    revoke = out["revoke"]
    assert (revoke["status"], revoke["error"], revoke["data"]) == (204, None, None), revoke
    assert revoke["afterwards"]["status"] == 401


def test_symbl_js_streams_a_recording_unmodified(api: Api, testdata: Path, tmp_path: Path) -> None:
    """``@symblai/symbl-js`` 1.4.10 (npm), unmodified: ``sdk.init({accessToken, basePath})``,
    ``startRealtimeRequest``, ``sendAudio``, ``stop()`` (its token offered as the WebSocket
    sub-protocol and in ``X-API-KEY``): interim captions, finals, messages, insights and a
    conversation id the REST API then serves."""
    import av

    _installed(STREAMER, "symbl-js")
    pcm = tmp_path / "jfk.pcm"
    with av.open(str(testdata / "read/jfk/jfk.flac")) as container, pcm.open("wb") as out:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
        for frame in container.decode(audio=0):
            for piece in resampler.resample(frame):
                out.write(piece.to_ndarray().tobytes())
    env = {
        **os.environ,
        "PARLEY_URL": api.base_url,
        "ACCESS_TOKEN": api.token(),
        "PCM_FILE": str(pcm),
    }
    done = subprocess.run(
        ["node", "stream.js"], cwd=STREAMER, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout)

    assert seen["interim"] and seen["finals"]
    assert seen["stopped"]["conversationId"] == seen["conversationId"]
    text = " ".join(m["payload"]["content"] for m in seen["messages"]).lower()
    assert "fellow americans" in text and "country" in text
    assert seen["insights"] and all(i["text"] == i["payload"]["content"] for i in seen["insights"])
    assert seen["topics"]
    assert any(f["type"] == "tracker_response" for f in seen["trackers"])
    stored = api.get(f"/v1/conversations/{seen['conversationId']}/messages").json()["messages"]
    assert [m["id"] for m in stored] == [m["id"] for m in seen["messages"]]
