"""Fixtures for the console: a processed phone call, and headless Chromium (Debian's)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Api

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_VERSION = "4.10.3"
AXE_CACHE = Path("~/.cache/parley-tests").expanduser()


def text_conversation(api: Api, words: str = "We agreed on the budget.") -> str:
    """A quick conversation from text (no audio, no models)."""
    response = api.request(
        "POST",
        "/v1/process/text",
        json={
            "name": "Text chat",
            "messages": [{"payload": {"content": words}, "from": {"name": "Ann", "userId": "a@x"}}],
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert api.wait(created["jobId"])["status"] == "completed"
    return str(created["conversationId"])


def expired_link(api: Api, url: str, lifetime: int) -> str:
    """``url`` (an experience link made with ``summaryURLExpiresIn: lifetime``) as it is
    once its time is up: its own claims, proven to carry that lifetime, signed by the
    server's key with the expiry already past. Waiting out the second on the wall clock
    made the tests slow, and raced the link's whole-second ``iat``."""
    import jwt

    base, _, token = url.rpartition("/")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == lifetime, claims
    claims["exp"] = claims["iat"] - 1
    return f"{base}/{api.services.tokens.sign(claims)}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's built file, installed from the npm registry into a cache directory once.

    npm installs into a folder of this process's own, renamed into place: two test workers
    (pytest-xdist) may both find it missing."""
    target = AXE_CACHE / f"axe-core-{AXE_VERSION}"
    script = target / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is needed to install axe-core for the accessibility check")
        staging = AXE_CACHE / f".axe-core-{AXE_VERSION}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(staging),
                "--no-save",
                "--no-audit",
                "--no-fund",
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        try:
            staging.rename(target)
        except OSError:  # another worker's install got there first
            shutil.rmtree(staging)
    return script.read_text()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """Where screenshots go: ``bench/out/console-screenshots`` (git-ignored), printed so a
    person can look at them; the pytest tmp dir is pruned as other runs start."""
    path = REPO / "bench" / "out" / "console-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nconsole screenshots: {path}")
    return path
