"""Schemathesis against the OpenAPI document, on a real server: no 5xx, answers that
match the document (status codes, content types, bodies).

The example count is bounded (``PARLEY_FUZZ_EXAMPLES``, 5 per operation by default) so
this stays in the fast suite; raise it for a longer hunt. The last test prints the totals
(run with ``-s`` to see them).
"""

from __future__ import annotations

import os
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

from tests.conftest import APP_ID, APP_SECRET, Api, start_server

EXAMPLES = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SEEN: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()


def _document() -> dict[str, Any]:
    """The document the server serves (built without starting anything)."""
    from parley.api.app import create_app
    from parley.api.openapi import build_openapi
    from parley.config import Settings

    return build_openapi(create_app(Settings()))


# What Parley does not serve answers 501 to everything (a 5xx by design): tests/api/
# test_inventory.py checks those answers instead.
schema = schemathesis.openapi.from_dict(_document()).exclude(tag="not served")

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
        base_url=fuzz_api.base_url, headers=fuzz_api.auth, checks=CHECKS, timeout=60
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
