"""``@symblai/api-client`` 1.0.17 (npm), unmodified, against a local Parley: its calls for
issue 20's endpoints (token generate, refresh and revoke; a conversation's intents through
``IntentsApi`` and ``ConversationsApi``) deserialise into its own models, and an unknown
conversation or a revoked token is the error Symbl gives. api-client has no entity,
Management or abstract-topic calls (``symbl_rest``'s are in ``tests/test_sdk_surface.py``).

The package is pinned in ``tests/js/api-client/package-lock.json``; ``npm ci`` installs it
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
UNKNOWN_404 = (
    "The conversation and/or it's metadata you asked could not be found, please check the "
    "input provided"
)


def _installed() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed")
    if (HARNESS / "node_modules" / "@symblai" / "api-client").is_dir():
        return
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=HARNESS,
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
