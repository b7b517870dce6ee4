"""The calls ``symbl_rest`` 1.0.14 has for issue 20's endpoints, unmodified (issue 20's
proof): a conversation's entities (built-in, the job's ``entities`` option and the app's
Management-API custom entities) and its intents, through both generated classes that
carry each call, deserialised into the SDK's own models; an unknown conversation is the
SDK's ``ApiException`` with Symbl's 404. Token refresh and revoke through ``symbl_rest``
are in ``tests/api/test_token_lifecycle.py``; call score is issue 20 item 4's. ``symbl_rest``
has no Management (entities, groups, settings) or abstract-topics calls.

``@symblai/api-client`` 1.0.17 (npm) is replayed by ``tests/test_sdk_js.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Api
from tests.helpers import app_client

symbl_rest = pytest.importorskip("symbl_rest")

#: A value no other test says: the app's entity list belongs to this module's own app.
CUSTOM = {
    "type": "Product",
    "subType": "Quorblex",
    "category": "Custom",
    "values": ["Quorblex Nine"],
}
LINES = [
    ("Maria", "Hi Tom, this is Maria Lopez from Acme."),
    ("Maria", "Our Quorblex Nine rollout starts next Friday."),
    ("Tom", "Great, the Parley Pro plan costs $40 per seat."),
]


@pytest.fixture(scope="module")
def app(api: Api) -> Iterator[Api]:
    client, _, _ = app_client(api, "sdk-surface")
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def rest(app: Api) -> Any:
    """symbl_rest's ApiClient pointed at the test server, as its README configures it."""
    config = symbl_rest.Configuration()
    config.host = app.base_url
    config.api_key["x-api-key"] = app.token()
    return symbl_rest.ApiClient(config)


@pytest.fixture(scope="module")
def conversation(app: Api, rest: Any) -> str:
    """Submitted through symbl_rest's ``AsyncApi.add_text``, with a dict body: its
    ``AsyncTextParameters`` model has no ``detectEntities`` and an ``entities`` model
    without fields, so a user who wants entities passes the JSON as Symbl documents it."""
    created = app.request("POST", "/v1/manage/entities", json=CUSTOM)
    assert created.status_code == 200, created.text
    body = {
        "messages": [{"payload": {"content": t}, "from": {"name": n}} for n, t in LINES],
        "detectEntities": True,
        "entities": [{"customType": "Plan", "text": "Parley Pro"}],
    }
    submitted = symbl_rest.AsyncApi(rest).add_text(body=body)
    assert submitted.job_id and submitted.conversation_id
    assert app.wait(submitted.job_id)["status"] == "completed"
    return str(submitted.conversation_id)


def _raw(app: Api, path: str) -> Any:
    response = app.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def _view(entity: Any) -> tuple[Any, ...]:
    """What an EntitiesTag holds, comparable with the JSON it was read from."""
    return (entity.type, entity.text, entity.value, entity.custom_type, entity.message_refs)


def test_entities_deserialise_into_the_sdk_models(app: Api, rest: Any, conversation: str) -> None:
    raw = _raw(app, f"/v1/conversations/{conversation}/entities")["entities"]
    messages = _raw(app, f"/v1/conversations/{conversation}/messages")["messages"]
    for api_class in (symbl_rest.EntitiesApi, symbl_rest.ConversationsApi):
        read = api_class(rest).get_entities_by_conversation_id(conversation)
        assert isinstance(read, symbl_rest.EntitiesListResponse)
        assert all(isinstance(e, symbl_rest.EntitiesTag) for e in read.entities)
        expected = [
            (
                e["type"],
                e["text"],
                e.get("value") if e.get("value") is None else str(e["value"]),
                e.get("customType"),
                e["messageRefs"],
            )
            for e in raw
        ]
        assert [_view(e) for e in read.entities] == expected
        by_text = {e.text: e for e in read.entities}
        # the app's Management entity, the job option's and a built-in person
        assert by_text["Quorblex Nine"].type == "Product"
        assert by_text["Quorblex Nine"].message_refs[0]["id"] == messages[1]["id"]
        assert by_text["Parley Pro"].custom_type == "Plan"
        assert by_text["Parley Pro"].message_refs[0]["id"] == messages[2]["id"]
        assert any(e.type == "person" and "Maria" in e.text for e in read.entities), raw


def test_intents_deserialise_into_the_sdk_models(app: Api, rest: Any, conversation: str) -> None:
    """Parley detects no intents (spec §4.20, optional): the wrapper is there and empty,
    which the SDK's strict model accepts."""
    assert _raw(app, f"/v1/conversations/{conversation}/intents") == {"intents": []}
    for api_class in (symbl_rest.IntentsApi, symbl_rest.ConversationsApi):
        read = api_class(rest).get_intents_by_conversation_id(conversation)
        assert isinstance(read, symbl_rest.IntentListResponse)
        assert read.intents == []


@pytest.mark.parametrize(
    ("api_class", "method"),
    [
        ("EntitiesApi", "get_entities_by_conversation_id"),
        ("ConversationsApi", "get_entities_by_conversation_id"),
        ("IntentsApi", "get_intents_by_conversation_id"),
        ("ConversationsApi", "get_intents_by_conversation_id"),
    ],
)
def test_an_unknown_conversation_is_the_sdks_404(rest: Any, api_class: str, method: str) -> None:
    call = getattr(getattr(symbl_rest, api_class)(rest), method)
    with pytest.raises(symbl_rest.rest.ApiException) as raised:
        call("1234567890123458")
    assert raised.value.status == 404
    assert "could not be found" in json.loads(raised.value.body)["message"]
