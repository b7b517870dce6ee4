"""Conversation groups (spec §5.4, R.2): the Management API's CRUD shapes, criteria checked
on write with a 400 that names the problem, and ``/v1/groups/{id}/conversations`` matched
in the database with the list's paging, order, window and filter."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from parley.storage import apps as apps_store
from parley.storage import conversations as store
from parley.storage.models import Conversation
from tests.conftest import APP_ID, Api

MESSAGE = {"payload": {"content": "Shall we meet on Monday?"}, "from": {"name": "Ann"}}


def _criteria(**terms: str) -> str:
    return " and ".join(f"conversation.metadata.{k}=={v}" for k, v in terms.items())


def _group(api: Api, criteria: str, name: str = "Calls made by John") -> dict[str, Any]:
    response = api.request(
        "POST", "/v1/manage/group", json={"name": name, "description": "d", "criteria": criteria}
    )
    assert response.status_code == 200, response.text
    group: dict[str, Any] = response.json()["group"]
    return group


def _stored(
    api: Api, metadata: dict[str, str], *, ago: timedelta, name: str = "", app_id: str = APP_ID
) -> str:
    """A conversation written through the storage layer, started ``ago`` before now."""
    with api.services.storage.session() as session:
        conversation = store.create_conversation(session=session, app_id=app_id, name=name or None)
        conversation.start_time = datetime.now(UTC) - ago
        store.set_metadata(session=session, conversation=conversation, metadata=metadata)
        return conversation.id


def _ids(api: Api, group_id: str, **params: Any) -> list[str]:
    response = api.get(f"/v1/groups/{group_id}/conversations", params=params)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["conversations"]]


def test_crud_answers_in_symbls_shapes(api: Api) -> None:
    criteria = "conversation.metadata.agentId==crud-agent"
    group = _group(api, criteria)
    assert set(group) == {"id", "name", "description", "criteria"}
    assert group["id"].isdigit() and len(group["id"]) == 16
    assert (group["name"], group["criteria"]) == ("Calls made by John", criteria)
    gid = group["id"]
    assert api.get(f"/v1/manage/group/{gid}").json() == {"group": group}
    assert group in api.get("/v1/manage/groups").json()["groups"]

    changed = {"id": gid, "name": "John's_calls - 2", "criteria": criteria + ";x.y==1"}
    assert api.request("PUT", f"/v1/manage/group/{gid}", json=changed).status_code == 400
    changed["criteria"] = "conversation.metadata.agentId==other"
    updated = api.request("PUT", f"/v1/manage/group/{gid}", json=changed)
    assert updated.status_code == 400  # ' is not a character a name may hold
    assert "name" in updated.json()["message"]
    changed["name"] = 'John "J" calls - 2_b'
    updated = api.request("PUT", f"/v1/manage/group/{gid}", json=changed)
    assert updated.status_code == 200, updated.text
    assert updated.json() == {
        "group": {
            "id": gid,
            "name": changed["name"],
            "description": "",
            "criteria": changed["criteria"],
        }
    }
    assert api.get(f"/v1/manage/group/{gid}").json()["group"]["criteria"] == changed["criteria"]

    deleted = api.request("DELETE", f"/v1/manage/group/{gid}")
    assert deleted.json() == {"id": gid, "type": "group", "deleted": True}
    assert api.get(f"/v1/manage/group/{gid}").status_code == 404
    assert api.request("DELETE", f"/v1/manage/group/{gid}").status_code == 404
    assert api.get(f"/v1/groups/{gid}/conversations").status_code == 404


def test_bulk_create_takes_an_array_and_answers_groups(api: Api) -> None:
    body = [
        {"name": "Agent A", "criteria": "conversation.metadata.agentId==bulk-a"},
        {
            "name": "Agent B",
            "description": "b",
            "criteria": "conversation.metadata.agentId==bulk-b",
        },
    ]
    response = api.request("POST", "/v1/manage/groups", json=body)
    assert response.status_code == 200, response.text
    groups = response.json()["groups"]
    assert [g["name"] for g in groups] == ["Agent A", "Agent B"]
    assert [g["description"] for g in groups] == ["", "b"]
    listed = {g["id"] for g in api.get("/v1/manage/groups").json()["groups"]}
    assert {g["id"] for g in groups} <= listed
    assert api.request("POST", "/v1/manage/groups", json=body[0]).status_code == 400
    assert api.request("POST", "/v1/manage/groups", json=[]).status_code == 400
    bad = api.request("POST", "/v1/manage/groups", json=[body[0], {"name": "x", "criteria": "a,b"}])
    assert bad.status_code == 400 and '"[1].criteria"' in bad.json()["message"]
    assert {g["id"] for g in api.get("/v1/manage/groups").json()["groups"]} == listed  # none added


@pytest.mark.parametrize(
    ("criteria", "problem"),
    [
        ("conversation.metadata.a==1,conversation.metadata.b==2", "OR"),
        ("conversation.metadata.a==1 or conversation.metadata.b==2", "OR"),
        ("conversation.metadata.a==1 OR conversation.metadata.b==2", "OR"),
        (_criteria(a="1", b="2", c="3"), "3 conditions"),
        ("conversation.metadata.a==1;conversation.metadata.b==2;conversation.metadata.c==3", "3"),
        ("conversation.metadata.a!=1", "only the == operator"),
        ("conversation.metadata.a=gt=1", "only the == operator"),
        ("conversation.name==Weekly", "only test conversation metadata"),
        ("conversation.metadata.a==", "no value"),
        ("conversation.metadata.a==two words", "must be quoted"),
        ("conversation.metadata.a=='open", "never closed"),
        ("conversation.metadata.a==1 and", "empty condition"),
        ("conversation.metadata.a==1 and conversation.metadata.a==2", "twice"),
        ("conversation.metadata.a b==1", "invalid metadata key"),
        ("   ", "must not be empty"),
        ("conversation.metadata.a==" + "x" * 2000, "at most 1024 characters"),
    ],
)
def test_bad_criteria_is_a_400_naming_the_problem(api: Api, criteria: str, problem: str) -> None:
    response = api.request("POST", "/v1/manage/group", json={"name": "g", "criteria": criteria})
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert '"group.criteria"' in message and problem in message, message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"criteria": "conversation.metadata.a==1"}, "group.name"),
        ({"name": "", "criteria": "conversation.metadata.a==1"}, "group.name"),
        ({"name": "a/b", "criteria": "conversation.metadata.a==1"}, "group.name"),
        ({"name": "x" * 129, "criteria": "conversation.metadata.a==1"}, "group.name"),
        (
            {"name": "n", "description": "x" * 513, "criteria": "conversation.metadata.a==1"},
            "group.description",
        ),
        (
            {"name": "n", "description": 5, "criteria": "conversation.metadata.a==1"},
            "group.description",
        ),
        ({"name": "n"}, "group.criteria"),
        ({"name": "n", "criteria": ["conversation.metadata.a==1"]}, "group.criteria"),
    ],
)
def test_bad_group_fields_are_400s_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = api.request("POST", "/v1/manage/group", json=body)
    assert response.status_code == 400, response.text
    assert f'"{field}"' in response.json()["message"]


def test_put_refuses_another_id_in_the_body(api: Api) -> None:
    group = _group(api, "conversation.metadata.agentId==put-id")
    body = {"id": "1234567890123456", "name": "n", "criteria": group["criteria"]}
    response = api.request("PUT", f"/v1/manage/group/{group['id']}", json=body)
    assert response.status_code == 400 and '"id"' in response.json()["message"]
    assert api.get(f"/v1/manage/group/{group['id']}").json() == {"group": group}


def test_membership_follows_metadata_set_through_the_api(api: Api) -> None:
    agent = f"agent-{secrets.token_hex(4)}"
    submitted = api.request("POST", "/v1/process/text", json={"messages": [MESSAGE]}).json()
    assert api.wait(submitted["jobId"])["status"] == "completed"
    cid = submitted["conversationId"]
    group = _group(
        api, f"conversation.metadata.agentId=={agent} and conversation.metadata.tier==gold"
    )
    assert _ids(api, group["id"]) == []
    metadata = {"metadata": {"agentId": agent, "tier": "silver"}}
    assert api.request("PUT", f"/v1/conversations/{cid}", json=metadata).status_code == 200
    assert _ids(api, group["id"]) == []  # one term of two is not membership
    metadata = {"metadata": {"tier": "gold"}}  # a PUT merges: agentId stays
    assert api.request("PUT", f"/v1/conversations/{cid}", json=metadata).status_code == 200
    found = api.get(f"/v1/groups/{group['id']}/conversations").json()["conversations"]
    assert found == [api.get(f"/v1/conversations/{cid}").json()]  # the list's JSON, members too
    assert found[0]["members"][0]["name"] == "Ann"
    assert api.request("DELETE", f"/v1/conversations/{cid}").status_code == 200
    assert _ids(api, group["id"]) == []


def test_paging_order_window_sort_and_filter(api: Api) -> None:
    agent = f"agent-{secrets.token_hex(4)}"
    hours = [
        _stored(api, {"agentId": agent, "n": str(h)}, ago=timedelta(hours=h), name=f"c{h}")
        for h in (5, 1, 3, 2, 4)
    ]
    by_age = dict(zip((5, 1, 3, 2, 4), hours, strict=True))
    old = _stored(api, {"agentId": agent}, ago=timedelta(days=8), name="c-old")
    _stored(api, {"agentId": agent + "-other"}, ago=timedelta(hours=1))
    gid = _group(api, f"conversation.metadata.agentId=={agent}")["id"]

    oldest_first = [by_age[h] for h in (5, 4, 3, 2, 1)]
    assert _ids(api, gid) == oldest_first  # default: asc on startTime, last 7 days
    assert _ids(api, gid, order="desc") == oldest_first[::-1]
    assert _ids(api, gid, limit=2, offset=1) == oldest_first[1:3]
    assert _ids(api, gid, limit=0) == []
    assert _ids(api, gid, offset=5) == []
    since = (datetime.now(UTC) - timedelta(days=9)).isoformat()
    assert _ids(api, gid, startTime=since) == [old, *oldest_first]
    until = (datetime.now(UTC) - timedelta(hours=2, minutes=30)).isoformat()
    assert _ids(api, gid, endTime=until) == [by_age[5], by_age[4], by_age[3]]
    assert _ids(api, gid, sort="conversation.name", order="desc") == [
        by_age[h] for h in (5, 4, 3, 2, 1)
    ]
    assert _ids(api, gid, filter="conversation.metadata.n==3") == [by_age[3]]
    assert _ids(api, gid, filter=f"conversation.metadata.agentId=={agent}") == oldest_first
    assert _ids(api, gid, filter="conversation.metadata.agentId==someone-else") == []

    for params, name in (
        ({"filter": "conversation.metadata.n==1,conversation.metadata.n==2"}, '"filter"'),
        ({"filter": _criteria(a="1", b="2", c="3")}, '"filter"'),
        ({"order": "sideways"}, '"order"'),
        ({"sort": "conversation.id"}, '"sort"'),
        ({"limit": 65537}, "limit"),
        ({"limit": -1}, "limit"),
        ({"startTime": "yesterday"}, "startTime"),
    ):
        response = api.get(f"/v1/groups/{gid}/conversations", params=params)
        assert response.status_code == 400, (params, response.text)
        assert name in response.json()["message"], (params, response.text)


def test_another_apps_group_answers_like_an_unknown_id(api: Api) -> None:
    agent = f"agent-{secrets.token_hex(4)}"
    mine = _stored(api, {"agentId": agent}, ago=timedelta(hours=1))
    group = _group(api, f"conversation.metadata.agentId=={agent}")
    with api.services.storage.session() as session:
        other, secret = apps_store.create_app(session=session, name="groups-b")
    token = api.client.post(
        "/oauth2/token:generate", json={"appId": other.id, "appSecret": secret}
    ).json()["accessToken"]
    b = {"x-api-key": token}
    theirs = _stored(api, {"agentId": agent}, ago=timedelta(hours=2), app_id=other.id)
    for method, path in (
        ("GET", "/v1/manage/group/{}"),
        ("DELETE", "/v1/manage/group/{}"),
        ("GET", "/v1/groups/{}/conversations"),
    ):
        as_b = api.client.request(method, path.format(group["id"]), headers=b)
        unknown = api.client.request(method, path.format("1234567890123456"), headers=b)
        assert as_b.status_code == unknown.status_code == 404
        assert as_b.json()["message"].replace(group["id"], "ID") == unknown.json()[
            "message"
        ].replace("1234567890123456", "ID")
    put = {"id": group["id"], "name": "taken", "criteria": group["criteria"]}
    assert api.client.put(f"/v1/manage/group/{group['id']}", json=put, headers=b).status_code == 404
    assert group["id"] not in api.client.get("/v1/manage/groups", headers=b).text
    # the same criteria in B's own group sees only B's conversation, and A's only A's
    b_group = api.client.post(
        "/v1/manage/group", json={"name": "b", "criteria": group["criteria"]}, headers=b
    ).json()["group"]
    seen_by_b = api.client.get(f"/v1/groups/{b_group['id']}/conversations", headers=b).json()
    assert [c["id"] for c in seen_by_b["conversations"]] == [theirs]
    assert _ids(api, group["id"]) == [mine]
    assert api.get(f"/v1/manage/group/{group['id']}").json() == {"group": group}


def test_conversation_list_filter_is_matched_in_the_database(api: Api) -> None:
    """The list's ``filter`` shares the SQL matching: paging counts matches only."""
    tag = f"t-{secrets.token_hex(4)}"
    made = [_stored(api, {"tag": tag}, ago=timedelta(minutes=m)) for m in (30, 20, 10)]
    params = {"filter": f"conversation.metadata.tag=={tag}", "limit": 2, "offset": 1}
    found = api.get("/v1/conversations", params=params).json()["conversations"]
    assert [c["id"] for c in found] == made[1:]
    with api.services.storage.session() as session:
        rows = session.query(Conversation).filter(Conversation.id.in_(made)).all()
        assert all(r.meta == {"tag": tag} for r in rows)
