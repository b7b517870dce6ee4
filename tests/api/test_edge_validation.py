"""Every crafted input the issue found: a Symbl-shaped 4xx naming the field, never a 5xx.

Each case is sent to a real server; none of them may create a job.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Api

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000
BIG_INT = "1" * 5000
TEXT_URL = "/v1/process/text"
MESSAGE = {"payload": {"content": "Let's meet tomorrow."}}


def _text(api: Api, params: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    return api.request("POST", TEXT_URL, params=params or {}, json={"messages": [MESSAGE], **body})


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"diarizationSpeakerCount": "nan"}, "diarizationSpeakerCount"),
        ({"diarizationSpeakerCount": "inf"}, "diarizationSpeakerCount"),
        ({"timezoneOffset": "inf"}, "timezoneOffset"),
        ({"timezoneOffset": "-inf"}, "timezoneOffset"),
        ({"timezoneOffset": "nan"}, "timezoneOffset"),
        ({"timezoneOffset": "1e308"}, "timezoneOffset"),
        ({"timezoneOffset": BIG_INT}, "timezoneOffset"),
        ({"confidenceThreshold": "NaN"}, "confidenceThreshold"),
        ({"trackers": DEEP}, "trackers"),
        ({"metadata": '{"a":' * 1000 + "1" + "}" * 1000}, "metadata"),
        ({"customVocabulary": json.dumps(["x" * 300])}, "customVocabulary"),
        ({"name": "n" * 20_000}, "name"),
        ({"webhookUrl": "http://example.com/a\r\nX: y"}, "webhookUrl"),
    ],
)
def test_bad_query_options_are_400_naming_the_option(
    api: Api, params: dict[str, str], field: str
) -> None:
    response = _text(api, params)
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (DEEP, "nested"),
        (DEEP_OBJECT, "nested"),
        ('{"messages": [' + BIG_INT + "]}", "JSON"),
        ('{"messages": [], "x": NaN}', "JSON"),
        ('{"messages": [], "x": Infinity}', "JSON"),
    ],
)
def test_crafted_json_bodies_are_400(api: Api, body: str, needle: str) -> None:
    response = api.request(
        "POST", TEXT_URL, content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert needle in response.json()["message"]


def test_body_values_are_bounded_too(api: Api) -> None:
    for body, needle in (
        ({"timezoneOffset": 1e308}, "timezoneOffset"),
        ({"diarizationSpeakerCount": 10**30}, "diarizationSpeakerCount"),
        ({"name": "n" * 100_000}, "name"),
        ({"messages": [{"payload": {"content": "x" * 5_000_000}}]}, "payload.content"),
        (
            {"messages": [MESSAGE], "metadata": json.loads(DEEP_OBJECT[:3000] + "1" + "}" * 600)},
            "nested",
        ),
        ({"messages": [{**MESSAGE, "from": {"name": "n" * 100_000}}]}, "from"),
        (
            {"messages": [{**MESSAGE, "duration": {"startTime": "0001-01-01T00:00:00+14:00"}}]},
            "startTime",
        ),
    ):
        payload = {"messages": [MESSAGE], **body}
        response = api.request("POST", TEXT_URL, json=payload)
        assert response.status_code == 400, (needle, response.text[:200])
        assert needle in response.json()["message"]


def test_url_with_cr_lf_is_400_before_a_job_exists(api: Api) -> None:
    for url in ("http://example.com/a.wav\r\nX-Evil: 1", "http://exa mple.com/a.wav"):
        response = api.request("POST", "/v1/process/audio/url", json={"url": url})
        assert response.status_code == 400 and '"url"' in response.json()["message"]


@pytest.mark.parametrize(
    "params",
    [
        {"endTime": "0001-01-01T00:00:00Z"},
        {"startTime": "0001-01-01T00:00:00+14:00"},
        {"endTime": "9999-12-31T23:59:59-14:00"},
        {"limit": BIG_INT},
        {"filter": "conversation.metadata.a==x" + " " * 60_000 + "y"},
    ],
)
def test_conversation_list_edge_values_are_400(api: Api, params: dict[str, str]) -> None:
    response = api.get("/v1/conversations", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["message"]


def test_member_and_tracker_names_are_bounded(api: Api) -> None:
    response = api.request(
        "POST", "/v1/manage/tracker", json={"name": "n" * 100_000, "vocabulary": ["a"]}
    )
    assert response.status_code == 400 and "name" in response.json()["message"]


def test_json_bodies_are_capped_with_413(api: Api) -> None:
    big = b'{"type":"application","appId":"a","appSecret":"' + b"s" * (2 << 20) + b'"}'
    response = api.client.post(
        "/oauth2/token:generate", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["message"]
    response = api.request(
        "POST",
        "/v1/process/audio/url",
        content=b'{"url": "' + b"a" * (2 << 20) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_an_unexpected_error_keeps_the_connection_and_hides_the_details(api: Api) -> None:
    """The catch-all answers the generic 500 itself, so keep-alive survives it."""
    from fastapi.testclient import TestClient

    from parley.api.errors import install_error_handlers

    app = __import__("fastapi").FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"message": "Something went wrong! Please try again later."}
    assert response.headers.get("connection") != "close"


def test_job_reasons_never_carry_an_exception_repr() -> None:
    from parley.jobs.worker import fail_reason

    reason = fail_reason("j-1")
    assert "Error" not in reason and "Traceback" not in reason and "j-1" in reason
