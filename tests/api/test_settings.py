"""``GET``/``PATCH /v1/manage/settings`` (spec R.6), and the redaction default honoured."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from parley import user_settings
from parley.storage import apps as apps_store
from tests.conftest import Api
from tests.waiting import until

SETTINGS = "/v1/manage/settings"


class App:
    """An app of its own, so its settings touch no other test's reads."""

    def __init__(self, api: Api) -> None:
        with api.services.storage.session() as session:
            app, secret = apps_store.create_app(session=session, name="settings")
        self.id, self.api = app.id, api
        token = api.client.post(
            "/oauth2/token:generate", json={"appId": app.id, "appSecret": secret}
        ).json()["accessToken"]
        self.headers = {"x-api-key": token}

    def call(self, method: str, url: str, **kwargs: Any) -> Any:
        return self.api.client.request(method, url, headers=self.headers, **kwargs)

    def patch(self, ops: Any) -> Any:
        return self.call("PATCH", SETTINGS, json=ops)


@pytest.fixture()
def app(api: Api) -> Iterator[App]:
    yield App(api)


def test_only_the_settings_that_were_set_are_answered(app: App) -> None:
    assert app.call("GET", SETTINGS).json() == {"settings": {}}
    ops = [{"op": "add", "path": "/intelligence/bookmarks/duration", "value": 30}]
    response = app.patch(ops)
    assert response.status_code == 200, response.text
    assert response.json() == {"settings": {"intelligence": {"bookmarks": {"duration": 30}}}}
    ops = [
        {"op": "replace", "path": "/intelligence/bookmarks/duration", "value": 45},
        {"op": "add", "path": "/redaction", "value": {"default": True, "type": "obfuscation"}},
        {"op": "replace", "path": "/redaction/type", "value": "default"},
    ]
    assert app.patch(ops).json() == {
        "settings": {
            "intelligence": {"bookmarks": {"duration": 45}},
            "redaction": {"default": True, "type": "default"},
        }
    }
    assert app.call("GET", SETTINGS).json()["settings"]["redaction"]["type"] == "default"
    removed = app.patch([{"op": "remove", "path": "/intelligence/bookmarks/duration"}])
    assert removed.json() == {"settings": {"redaction": {"default": True, "type": "default"}}}
    # the function bookmarks read the duration with
    settings = user_settings.app_settings(app.api.services.storage, app.id)
    assert user_settings.bookmark_duration(settings) is None
    app.patch([{"op": "add", "path": "/intelligence/bookmarks/duration", "value": 20}])
    settings = user_settings.app_settings(app.api.services.storage, app.id)
    assert user_settings.bookmark_duration(settings) == 20


@pytest.mark.parametrize(
    ("ops", "named"),
    [
        ([{"op": "add", "path": "/redaction/colour", "value": "red"}], '"/redaction/colour"'),
        ([{"op": "add", "path": "/notifications", "value": True}], '"/notifications"'),
        ([{"op": "move", "from": "/a", "path": "/redaction/type"}], '"[0].op"'),
        ([{"op": "test", "path": "/redaction/type", "value": "default"}], '"[0].op"'),
        ([{"path": "/redaction/type", "value": "default"}], '"[0].op"'),
        ([{"op": "add", "path": "/redaction/type"}], '"[0].value"'),
        ([{"op": "add", "path": "/redaction/type", "value": "hidden"}], '"/redaction/type"'),
        ([{"op": "add", "path": "/redaction/default", "value": "true"}], '"/redaction/default"'),
        (
            [{"op": "add", "path": "/intelligence/bookmarks/duration", "value": 0}],
            '"/intelligence/bookmarks/duration"',
        ),
        (
            [{"op": "add", "path": "/intelligence/bookmarks/duration", "value": 1.5}],
            '"/intelligence/bookmarks/duration"',
        ),
        (
            [{"op": "add", "path": "/intelligence/bookmarks/duration", "value": True}],
            '"/intelligence/bookmarks/duration"',
        ),
        ([{"op": "add", "path": "/redaction", "value": {"default": 1}}], '"/redaction/default"'),
        ([{"op": "add", "path": "/redaction", "value": {"size": 1}}], '"/redaction/size"'),
        ([{"op": "add", "path": "/redaction", "value": []}], '"/redaction"'),
        ([{"op": "replace", "path": "/redaction/type", "value": "default"}], '"add"'),
        ([{"op": "remove", "path": "/redaction/default"}], "not set"),
        ([{"op": "add", "path": "/redaction/type", "value": "default", "x": 1}], '"[0].x"'),
        ([], "non-empty array"),
        ({"op": "add"}, "non-empty array"),
        (["add"], '"[0]"'),
        ([{"op": "add", "path": "/redaction/default", "value": True}] * 101, "At most 100"),
    ],
)
def test_a_bad_patch_is_400_naming_it(app: App, ops: Any, named: str) -> None:
    response = app.patch(ops)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"message"} and named in response.json()["message"]


def test_a_patch_applies_whole_or_not_at_all(app: App) -> None:
    app.patch([{"op": "add", "path": "/redaction/default", "value": True}])
    ops = [
        {"op": "replace", "path": "/redaction/default", "value": False},
        {"op": "add", "path": "/redaction/type", "value": "loud"},
    ]
    response = app.patch(ops)
    assert response.status_code == 400 and "[1]" not in response.json()["message"]
    assert app.call("GET", SETTINGS).json() == {"settings": {"redaction": {"default": True}}}


def test_the_redaction_default_applies_to_message_reads(app: App) -> None:
    text = "Call Maria Gonzalez on 415-555-0134 about the contract."
    submitted = app.call(
        "POST",
        "/v1/process/text",
        json={"messages": [{"payload": {"content": text}, "from": {"name": "Ann"}}]},
    ).json()
    until(
        lambda: app.call("GET", f"/v1/job/{submitted['jobId']}").json()["status"] == "completed",
        timeout=120,
        what="the text job did not complete",
    )
    messages = f"/v1/conversations/{submitted['conversationId']}/messages"

    def read(**params: str) -> str:
        response = app.call("GET", messages, params=params)
        assert response.status_code == 200, response.text
        return str(response.json()["messages"][0]["text"])

    assert read() == text  # nothing set: as before
    app.patch([{"op": "add", "path": "/redaction/default", "value": True}])
    masked = read()
    assert "415-555-0134" not in masked and "Gonzalez" not in masked and "****" in masked
    assert read(redact="false") == text  # a read that says otherwise wins
    assert read(redact="true") == masked
    app.patch([{"op": "add", "path": "/redaction/type", "value": "default"}])
    typed = read()
    assert "[PHONE_NUMBER]" in typed and "[PERSON_NAME]" in typed and "****" not in typed
    assert "[PHONE_NUMBER]" not in read(redact="true", exclude="PHONE_NUMBER")
    app.patch([{"op": "replace", "path": "/redaction/default", "value": False}])
    assert read() == text
    assert "[PHONE_NUMBER]" in read(redact="true")  # the style stays the app's choice
