"""Custom entities (Management API, spec R.1): both path generations, their answers' shapes,
the bad-input answers, and detection in conversations, again after the list changes.

Every test runs in an app of its own, so its entities are detected in no other test's
conversations (entities belong to the app).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from parley_client.wire.limits import LIMITS
from tests.conftest import Api
from tests.helpers import app_client

TESLA = {
    "type": "Vehicle",
    "subType": "TeslaModel",
    "category": "Custom",
    "values": ["Model X", "Model S", "Model 3", "Model Y"],
}


@pytest.fixture()
def app(api: Api) -> Iterator[Api]:
    """A client of the same server for a fresh app (its own token)."""
    client, _, _ = app_client(api, "entities")
    yield client
    client.client.close()


def _entity(**changes: Any) -> dict[str, Any]:
    return {**TESLA, **changes}


def _created(app: Api, path: str, body: Any) -> Any:
    response = app.request("POST", path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


# -- create, read, update, delete --------------------------------------------------------


def test_create_answers_the_bare_entity_on_both_paths(app: Api) -> None:
    one = _created(app, "/v1/manage/entity", TESLA)
    assert set(one) == {"id", "type", "subType", "category", "values"}
    assert one["id"].isdigit() and len(one["id"]) == 16
    assert {k: one[k] for k in TESLA} == TESLA
    two = _created(app, "/v1/manage/entities", _entity(subType="FordModel", values=["Mustang"]))
    assert set(two) == set(one) and two["subType"] == "FordModel"
    assert two["id"] != one["id"]


def test_an_array_to_entities_or_bulk_creates_several(app: Api) -> None:
    older = _created(
        app,
        "/v1/manage/entities",
        [_entity(subType="A", values=["alpha"]), _entity(subType="B", values=["beta"])],
    )
    assert list(older) == ["entities"]
    assert [e["subType"] for e in older["entities"]] == ["A", "B"]
    bulk = _created(app, "/v1/manage/entities/bulk", [_entity(type="Fruit", subType="A")])
    assert [(e["type"], e["subType"]) for e in bulk["entities"]] == [("Fruit", "A")]
    listed = app.request("GET", "/v1/manage/entities").json()
    assert [e["id"] for e in listed["entities"]] == [
        *(e["id"] for e in older["entities"]),
        bulk["entities"][0]["id"],
    ]


def test_get_answers_bare_put_answers_an_envelope_on_both_paths(app: Api) -> None:
    created = _created(app, "/v1/manage/entities", TESLA)
    for prefix in ("/v1/manage/entities/", "/v1/manage/entity/"):
        response = app.request("GET", prefix + created["id"])
        assert response.status_code == 200 and response.json() == created
    changed = _entity(values=["Cybertruck"], id="ignored")
    response = app.request("PUT", f"/v1/manage/entity/{created['id']}", json=changed)
    assert response.status_code == 200, response.text
    assert response.json() == {"entity": {**created, "values": ["Cybertruck"]}}
    response = app.request(
        "PUT", f"/v1/manage/entities/{created['id']}", json=_entity(subType="Tesla")
    )
    assert response.json()["entity"]["subType"] == "Tesla"
    assert app.request("GET", f"/v1/manage/entities/{created['id']}").json()["subType"] == "Tesla"


def test_delete_by_id_on_both_paths_then_404(app: Api) -> None:
    first = _created(app, "/v1/manage/entities", TESLA)
    second = _created(app, "/v1/manage/entity", _entity(subType="Other"))
    for prefix, entity in (("/v1/manage/entities/", first), ("/v1/manage/entity/", second)):
        response = app.request("DELETE", prefix + entity["id"])
        assert response.status_code == 200
        assert response.json() == {"id": entity["id"], "type": "entity", "deleted": True}
        again = app.request("DELETE", prefix + entity["id"])
        assert again.status_code == 404 and entity["id"] in again.json()["message"]
        assert app.request("GET", prefix + entity["id"]).status_code == 404
    assert app.request("GET", "/v1/manage/entities").json() == {"entities": []}


def test_delete_by_sub_type(app: Api) -> None:
    car = _created(app, "/v1/manage/entities", TESLA)
    toy = _created(app, "/v1/manage/entities", _entity(type="Toy"))
    kept = _created(app, "/v1/manage/entities", _entity(subType="Kept"))
    only_toy = app.request(
        "DELETE", "/v1/manage/entities", params={"subType": "TeslaModel", "type": "Toy"}
    )
    assert only_toy.json() == {"subType": "TeslaModel", "ids": [toy["id"]], "deleted": True}
    both = app.request("DELETE", "/v1/manage/entities", params={"subType": "TeslaModel"})
    assert both.status_code == 200 and both.json()["ids"] == [car["id"]]
    none = app.request("DELETE", "/v1/manage/entities", params={"subType": "TeslaModel"})
    assert none.status_code == 404 and "TeslaModel" in none.json()["message"]
    missing = app.request("DELETE", "/v1/manage/entities")
    assert missing.status_code == 400 and "subType" in missing.json()["message"]
    assert [e["id"] for e in app.request("GET", "/v1/manage/entities").json()["entities"]] == [
        kept["id"]
    ]


def test_unknown_ids_are_404(app: Api) -> None:
    for method, path in (
        ("GET", "/v1/manage/entities/9999999999999999"),
        ("GET", "/v1/manage/entity/9999999999999999"),
        ("PUT", "/v1/manage/entities/9999999999999999"),
        ("DELETE", "/v1/manage/entities/9999999999999999"),
    ):
        response = app.request(method, path, json=TESLA if method == "PUT" else None)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json() == {"message": "Entity with id 9999999999999999 not found."}


# -- bad input -----------------------------------------------------------------------------


def test_a_sub_type_is_unique_within_its_type(app: Api) -> None:
    first = _created(app, "/v1/manage/entities", TESLA)
    again = app.request("POST", "/v1/manage/entity", json=_entity(values=["other"]))
    assert again.status_code == 409
    assert again.json()["message"] == (
        'An entity of type "Vehicle" with subType "TeslaModel" already exists.'
    )
    # case-sensitive, and another type may use the same subType
    _created(app, "/v1/manage/entities", _entity(subType="teslamodel"))
    other = _created(app, "/v1/manage/entities", _entity(type="Toy"))
    in_one_request = app.request("POST", "/v1/manage/entities/bulk", json=[_entity(type="X")] * 2)
    assert in_one_request.status_code == 409
    renamed = app.request("PUT", f"/v1/manage/entities/{other['id']}", json=TESLA)
    assert renamed.status_code == 409
    listed = app.request("GET", "/v1/manage/entities").json()["entities"]
    assert len(listed) == 3 and listed[0] == first  # nothing of the refused requests stored


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({k: v for k, v in TESLA.items() if k != "type"}, '"type" is required'),
        ({k: v for k, v in TESLA.items() if k != "subType"}, '"subType" is required'),
        ({k: v for k, v in TESLA.items() if k != "category"}, '"category" is required'),
        ({k: v for k, v in TESLA.items() if k != "values"}, '"values" is required'),
        (_entity(category="Managed"), '"category" must be "Custom"'),
        (_entity(type="  "), '"type" is required'),
        (_entity(subType=7), '"subType" is required'),
        (_entity(values="Model X"), '"values" must be an array of strings'),
        (_entity(values=[]), '"values" must contain between 1 and'),
        (_entity(values=["ok", ""]), '"values[1]" is not allowed to be empty'),
        (_entity(values=["ok", 3]), '"values[1]" must be a string'),
        (_entity(values=["a", "a"]), '"values" contains the duplicate value'),
        (_entity(values=["x" * (LIMITS["entity_value_chars"] + 1)]), '"values[0]" is longer'),
        (_entity(type="t" * 256), '"type" must be at most 255 characters'),
        ([TESLA], '"entity" must be an object'),
    ],
)
def test_malformed_entities_are_400_naming_the_field(app: Api, body: Any, named: str) -> None:
    response = app.request("POST", "/v1/manage/entity", json=body)
    assert response.status_code == 400, response.text
    assert named in response.json()["message"]
    assert app.request("GET", "/v1/manage/entities").json() == {"entities": []}


def test_bulk_errors_name_the_item(app: Api) -> None:
    response = app.request("POST", "/v1/manage/entities/bulk", json=[TESLA, _entity(values=None)])
    assert response.status_code == 400
    assert response.json()["message"].startswith('[1]."values" must be an array')
    assert app.request("POST", "/v1/manage/entities/bulk", json=TESLA).status_code == 400
    assert app.request("POST", "/v1/manage/entities", json=[]).status_code == 400


def test_ten_thousand_values_are_refused_naming_values(app: Api) -> None:
    values = [f"value {i}" for i in range(10_000)]
    response = app.request("POST", "/v1/manage/entities", json=_entity(values=values))
    assert response.status_code == 400
    assert response.json()["message"] == (
        f'"values" must contain between 1 and {LIMITS["entity_values"]} values, got 10000'
    )


def test_a_body_over_one_megabyte_is_413(app: Api) -> None:
    values = ["x" * 150 + str(i) for i in range(8000)]  # > 1 MB of JSON
    response = app.request("POST", "/v1/manage/entities/bulk", json=[_entity(values=values)])
    assert response.status_code == 413
    assert "message" in response.json()


# -- detection -----------------------------------------------------------------------------

CALL = [
    ("Dana", "I drove the Model S Plaid to the meeting, and our fleet has a Model X."),
    ("Sam", "Stanford wants a model x too, and their Model Standard is different."),
    ("Dana", "Then it is the Model 3 for them; Tesla's prices dropped."),
]


def _conversation(app: Api, *, detect: bool = True) -> str:
    body = {
        "messages": [{"payload": {"content": t}, "from": {"name": n}} for n, t in CALL],
        "detectEntities": detect,
    }
    response = app.request("POST", "/v1/process/text", json=body)
    assert response.status_code == 201, response.text
    job = response.json()["jobId"]
    assert app.wait(job)["status"] == "completed"
    return str(response.json()["conversationId"])


def _custom(app: Api, cid: str) -> list[dict[str, Any]]:
    response = app.request("GET", f"/v1/conversations/{cid}/entities")
    assert response.status_code == 200, response.text
    return [e for e in response.json()["entities"] if e["category"] == "Custom"]


def _at(message: int, text: str) -> int:
    return CALL[message][1].index(text)


def _found(entity: dict[str, Any]) -> dict[str, list[int]]:
    """detected value → its offsets, in the order found."""
    return {m["detectedValue"]: [r["offset"] for r in m["messageRefs"]] for m in entity["matches"]}


def test_stored_entities_are_detected_exactly(app: Api) -> None:
    tesla = _created(app, "/v1/manage/entities", _entity(values=["Model X", "Model S", "Model 3"]))
    brand = _created(
        app, "/v1/manage/entity", _entity(type="Company", subType="Car", values=["Tesla", "Ford"])
    )
    cid = _conversation(app)
    found = _custom(app, cid)
    assert [e["id"] for e in found] == [tesla["id"], brand["id"]]
    car = found[0]
    assert (car["type"], car["subType"], car["category"]) == ("Vehicle", "TeslaModel", "Custom")
    # "model x" (case), "Model Standard" (a longer word) and "Stanford" are not mentions
    assert _found(car) == {
        "Model S": [_at(0, "Model S")],
        "Model X": [_at(0, "Model X")],
        "Model 3": [_at(2, "Model 3")],
    }
    assert (car["value"], car["text"]) == ("Model S", "Model S")
    messages = app.request("GET", f"/v1/conversations/{cid}/messages").json()["messages"]
    refs = car["matches"][0]["messageRefs"][0]
    assert refs["id"] == messages[0]["id"] and refs["text"] == CALL[0][1]
    assert refs["startTime"] == messages[0]["startTime"]
    assert [r["id"] for r in car["messageRefs"]] == [messages[i]["id"] for i in (0, 0, 2)]
    assert _found(found[1]) == {"Tesla": [_at(2, "Tesla's")]}  # a mention of Tesla


def test_not_detected_without_detect_entities(app: Api) -> None:
    _created(app, "/v1/manage/entities", TESLA)
    cid = _conversation(app, detect=False)
    assert _custom(app, cid) == []


def test_a_change_to_the_list_is_detected_again(app: Api) -> None:
    entity = _created(app, "/v1/manage/entities", _entity(values=["Model X"]))
    cid = _conversation(app)
    before = app.request("GET", f"/v1/conversations/{cid}/entities").json()["entities"]
    assert [_found(e) for e in before if e["category"] == "Custom"] == [
        {"Model X": [_at(0, "Model X")]}
    ]
    builtin = [e for e in before if e["category"] != "Custom"]

    app.request("PUT", f"/v1/manage/entities/{entity['id']}", json=_entity(values=["Model 3"]))
    assert [_found(e) for e in _custom(app, cid)] == [{"Model 3": [_at(2, "Model 3")]}]
    added = _created(app, "/v1/manage/entity", _entity(type="Company", values=["Stanford"]))
    assert [(e["id"], _found(e)) for e in _custom(app, cid)] == [  # in order of first mention
        (added["id"], {"Stanford": [0]}),
        (entity["id"], {"Model 3": [_at(2, "Model 3")]}),
    ]
    app.request("DELETE", f"/v1/manage/entities/{entity['id']}")
    after = app.request("GET", f"/v1/conversations/{cid}/entities").json()["entities"]
    assert [e["id"] for e in after if e["category"] == "Custom"] == [added["id"]]
    # only the custom entities were detected again: the built-in ones are as they were
    assert [e for e in after if e["category"] != "Custom"] == builtin
    app.request("DELETE", "/v1/manage/entities", params={"subType": "TeslaModel"})
    assert _custom(app, cid) == []


def test_a_refresh_detects_with_the_current_list(app: Api) -> None:
    cid = _conversation(app)
    assert _custom(app, cid) == []
    entity = _created(app, "/v1/manage/entities", _entity(values=["Model S Plaid"]))
    response = app.request("POST", f"/v1/conversations/{cid}/refresh")
    assert response.status_code == 200, response.text
    found = _custom(app, cid)
    assert [(e["id"], _found(e)) for e in found] == [
        (entity["id"], {"Model S Plaid": [_at(0, "Model S Plaid")]})
    ]


def test_another_apps_entities_are_not_detected(app: Api, api: Api) -> None:
    _created(app, "/v1/manage/entities", TESLA)
    response = api.request(
        "POST",
        "/v1/process/text",
        json={
            "messages": [{"payload": {"content": CALL[0][1]}, "from": {"name": "Dana"}}],
            "detectEntities": True,
        },
    )
    assert api.wait(response.json()["jobId"])["status"] == "completed"
    cid = response.json()["conversationId"]
    entities = api.get(f"/v1/conversations/{cid}/entities").json()["entities"]
    assert not [e for e in entities if e.get("subType") == "TeslaModel"]


def test_symbl_rest_reads_the_detected_entities(app: Api) -> None:
    """symbl_rest 1.0.14's EntitiesApi (``type``, ``text``, ``messageRefs`` required and
    non-null) deserialises custom entities unmodified."""
    import symbl_rest

    _created(app, "/v1/manage/entities", _entity(values=["Model X"]))
    cid = _conversation(app)
    config = symbl_rest.Configuration()
    config.host = app.base_url
    config.api_key["x-api-key"] = app.token()
    read = symbl_rest.EntitiesApi(symbl_rest.ApiClient(config)).get_entities_by_conversation_id(cid)
    custom = [e for e in read.entities if e.type == "Vehicle"]
    assert [(e.text, e.value) for e in custom] == [("Model X", "Model X")]
    assert custom[0].message_refs[0]["offset"] == _at(0, "Model X")
