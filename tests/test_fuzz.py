"""Schemathesis against the OpenAPI document, on a real server: no 5xx, answers that
match the document (status codes, content types, bodies).

The fast suite sends each operation its documented examples and ``PARLEY_FUZZ_EXAMPLES``
(5 by default) generated cases, valid and invalid: about 280 cases in seconds. Raise it
for a longer hunt. ``PARLEY_FUZZ_COVERAGE=1`` adds schemathesis's coverage phase, which
the slow suite runs: every boundary and every kind of invalid value of each parameter and
body field, and the undocumented methods; about 7,000 cases, over a minute (it was 95% of
this module's time when the fast suite ran it). The last test prints the totals (run with
``-s`` to see them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.transport.requests import ManagedCookiesSession

from tests.conftest import APP_ID, APP_SECRET, REPO, Api, start_server

EXAMPLES = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "5"))
#: The coverage phase builds its cases as its tests are collected, deselected or not.
COVERAGE = os.environ.get("PARLEY_FUZZ_COVERAGE") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SEEN: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()
#: One keep-alive connection for all cases, the session schemathesis's own runner makes:
#: a new connection per case took longer than the server's answer.
SESSION = ManagedCookiesSession()
SESSION.trust_env = False  # a loopback server: no proxy settings or .netrc to read per case


def _document() -> dict[str, Any]:
    """The document the server serves (built without starting anything)."""
    from parley.api.app import create_app
    from parley.api.openapi import build_openapi
    from parley.config import Settings

    return build_openapi(create_app(Settings()))


# What Parley does not serve answers 501 to everything (a 5xx by design): tests/api/
# test_inventory.py checks those answers instead.
schema = schemathesis.openapi.from_dict(
    _document(),
    config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": COVERAGE}}}),
).exclude(tag="not served")

# Media bodies are raw bytes: send what is generated as it is.
schemathesis.serializer.alias(
    ["audio/wav", "audio/mpeg", "audio/mp3", "audio/flac"],
    "application/octet-stream",
)
schemathesis.serializer.alias(
    ["video/mp4", "video/webm", "video/quicktime"],
    "application/octet-stream",
)


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server of its own with no workers: the jobs fuzzing submits only queue (up to the
    concurrency limit, then 429), and no other test sees its data."""
    from parley.api.app import create_app
    from parley.config import Settings
    from parley.services import build_services

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz"),
        app_id=APP_ID,
        app_secret=APP_SECRET,
        workers=0,
        token_failures_per_minute=10**6,
        max_upload_bytes=1 << 20,
    )
    services = build_services(settings)
    server, thread, url = start_server(create_app(settings, services=services))
    client = Api(url, services)
    yield client
    client.client.close()
    SESSION.close()
    server.should_exit = True
    thread.join(30)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_answers_as_documented(case: Any, fuzz_api: Api) -> None:
    response = case.call_and_validate(
        base_url=fuzz_api.base_url,
        headers=fuzz_api.auth,
        checks=CHECKS,
        timeout=60,
        session=SESSION,
    )
    SEEN[case.operation.label] += 1
    STATUSES[response.status_code] += 1


def test_the_served_document_is_the_one_fuzzed(fuzz_api: Api) -> None:
    assert fuzz_api.client.get("/openapi.json").json() == _document()


def test_fuzz_totals() -> None:
    if not SEEN:
        pytest.skip("the fuzz cases did not run (deselected)")
    total = sum(SEEN.values())
    print(
        f"\nschemathesis: {len(SEEN)} operations, {total} cases, statuses "
        f"{dict(sorted(STATUSES.items()))}, 5xx {sum(n for s, n in STATUSES.items() if s >= 500)}"
    )
    assert all(status < 500 for status in STATUSES)
    assert len(SEEN) >= 45


@pytest.mark.slow
def test_api_answers_as_documented_with_the_coverage_phase() -> None:
    """The fast tests above again, with ``PARLEY_FUZZ_COVERAGE=1``, in a pytest of their
    own (the variable decides what is built when this module is collected)."""
    options = ["-m", "not slow", "-q", "-s", "-p", "no:cacheprovider"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, *options],
        cwd=REPO,
        env=os.environ | {"PARLEY_FUZZ_COVERAGE": "1"},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    totals = next(line for line in run.stdout.splitlines() if line.startswith("schemathesis:"))
    operations, cases = (int(n) for n in re.findall(r"(\d+) (?:operations|cases)", totals))
    assert cases > 20 * operations, f"the coverage phase did not run: {totals}"
