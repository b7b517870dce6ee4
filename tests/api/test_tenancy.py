"""Tenant isolation, generated from the app's route table.

Every operation that takes an id is called with app B's token and app A's ids, then with
ids nobody has: the two answers must be the same 404 (after putting the ids back), so a new
endpoint that forgets its ownership check fails here without anyone writing a test for it.
Lists must not show A's ids to B. A's data must be intact afterwards.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from parley.api.openapi import Operation, operations
from parley.storage import apps as apps_store
from tests.conftest import Api
from tests.receiver import receiver

MESSAGE = {"payload": {"content": "Can you send the report by Friday?"}, "from": {"name": "Ann"}}
#: A value no test's conversation says: the entity is detected in the app's conversations.
ENTITY = {"type": "Tenancy", "subType": "A", "category": "Custom", "values": ["Zyxwv Qutsr"]}
BOOKMARK = {"label": "a", "description": "A's", "user": {"name": "Ann"}}
UNKNOWN = {
    "conversation_id": "1234567890123456",
    "job_id": "00000000-0000-4000-8000-000000000000",
    "member_id": "00000000-0000-4000-8000-000000000001",
    "tracker_id": "9999999999999999",
    "entity_id": "9999999999999998",
    "delivery_id": "999999999",
    "group_id": "9999999999999997",
    "bookmark_id": "9999999999999995",
    "criteria_id": "9999999999999993",
    "scorecard_id": "9999999999999994",
    # routes Parley does not serve (501 whoever asks): nothing of A's to find
    "connection_id": "00000000-0000-4000-8000-000000000002",
    "metric_id": "9999999999999996",
}


def _body(op: Operation, ids: dict[str, str]) -> dict[str, Any]:
    """A body that would be valid for the owner, so only the ownership check can refuse."""
    path, method = op.path, op.method
    if path.startswith("/v1/process/") and "/url/" in path:
        return {"json": {"url": "http://example.com/a.wav"}}
    if path.startswith("/v1/process/text/"):
        return {"json": {"messages": [MESSAGE]}}
    if path.startswith("/v1/process/"):
        return {"content": b"RIFF" + b"\0" * 64, "headers": {"Content-Type": "audio/wav"}}
    if path.endswith("/members/{member_id}"):
        return {"json": {"id": ids["member_id"], "name": "Renamed"}}
    if path.endswith("/speakers"):
        user = {"name": "Derek"}
        return {
            "json": {
                "speakerEvents": [
                    {"type": "started_speaking", "user": user, "offset": {"seconds": 0}},
                    {"type": "stopped_speaking", "user": user, "offset": {"seconds": 1}},
                ]
            }
        }
    if path.endswith("/transcript"):
        if method == "GET":
            return {"params": {"contentType": "text/markdown"}}
        return {"json": {"contentType": "text/markdown"}}
    if path == "/v1/manage/group/{group_id}" and method == "PUT":
        criteria = "conversation.metadata.owner==b"
        return {"json": {"id": ids["group_id"], "name": "taken-over", "criteria": criteria}}
    if path.startswith(("/v1/manage/entity/", "/v1/manage/entities/")) and method == "PUT":
        return {"json": {**ENTITY, "values": ["taken-over"]}}
    if path.endswith("/bookmarks/bulk"):
        return {"json": [{**BOOKMARK, "label": "taken-over", "beginTimeOffset": 0, "duration": 1}]}
    if "/bookmarks" in path and method in ("POST", "PUT"):
        return {"json": {**BOOKMARK, "label": "taken-over", "beginTimeOffset": 0, "duration": 1}}
    if path.startswith("/v1/manage/") and method == "PATCH":
        return {"json": [{"op": "replace", "path": "/name", "value": "taken-over"}]}
    if path.startswith("/v1/manage/") and method == "PUT":
        return {"json": {"name": "taken-over", "vocabulary": ["report"]}}
    if path.endswith("/experiences/url"):
        return {"json": {"url": "https://example.com/b.mp3"}}
    if method == "PUT" and path == "/v1/conversations/{conversation_id}":
        return {"json": {"metadata": {"owner": "b"}}}
    return {}


def _normalised(response: httpx.Response, ids: dict[str, str]) -> tuple[int, str]:
    text = response.text
    for name, value in ids.items():
        text = text.replace(value, "{" + name + "}")
    return response.status_code, text


@pytest.fixture(scope="module")
def tenants(api: Api) -> dict[str, Any]:
    """App A's resources (one of each kind) and app B's token."""
    with receiver() as hook:
        submitted = api.request(
            "POST", "/v1/process/text", json={"messages": [MESSAGE], "webhookUrl": hook.url}
        ).json()
        assert api.wait(submitted["jobId"])["status"] == "completed"
        hook.wait_for(3)
    cid, job_id = submitted["conversationId"], submitted["jobId"]
    members = api.get(f"/v1/conversations/{cid}/members").json()["members"]
    tracker = api.request(
        "POST", "/v1/manage/tracker", json={"name": f"a-{cid}", "vocabulary": ["report"]}
    ).json()["tracker"]
    entity = api.request("POST", "/v1/manage/entity", json=ENTITY).json()
    delivery = api.get("/v1/webhooks/deliveries", params={"jobId": job_id}).json()["deliveries"]
    assert api.request(
        "PUT", f"/v1/conversations/{cid}", json={"metadata": {"owner": "a"}}
    ).is_success
    group = api.request(
        "POST", "/v1/manage/group", json={"name": "a", "criteria": "conversation.metadata.owner==a"}
    ).json()["group"]
    message = api.get(f"/v1/conversations/{cid}/messages").json()["messages"][0]
    bookmark = api.request(
        "POST",
        f"/v1/conversations/{cid}/bookmarks",
        json={**BOOKMARK, "messageRefs": [{"id": message["id"]}]},
    ).json()
    criteria = api.request(
        "POST",
        "/v1/manage/callscore/criteria",
        json={"name": "a", "checklist": [{"question": "Was the report sent?"}]},
    ).json()
    scorecard = api.request(
        "POST",
        "/v1/manage/callscore/scorecards",
        json={"name": "a", "criteriaList": [criteria["id"]]},
    ).json()
    ids = {
        "criteria_id": criteria["id"],
        "scorecard_id": scorecard["id"],
        "conversation_id": cid,
        "job_id": job_id,
        "member_id": members[0]["id"],
        "tracker_id": tracker["id"],
        "entity_id": entity["id"],
        "delivery_id": delivery[0]["id"],
        "group_id": group["id"],
        "bookmark_id": bookmark["id"],
        "message_id": message["id"],
        "connection_id": "6f1c8f2c-0b5e-4d0a-9d0b-3f1b2f9c7a10",
        "metric_id": "4476908732794496",
    }
    with api.services.storage.session() as session:
        other, secret = apps_store.create_app(session=session, name="tenant-b")
    token = api.client.post(
        "/oauth2/token:generate", json={"appId": other.id, "appSecret": secret}
    ).json()["accessToken"]
    return {"ids": ids, "b": {"x-api-key": token}}


def test_every_route_with_an_id_answers_b_like_an_unknown_id(
    api: Api, tenants: dict[str, Any]
) -> None:
    from parley.api.app import create_app

    ids, b = tenants["ids"], tenants["b"]
    ops = operations(create_app(api.services.settings, services=api.services))
    with_ids = [op for op in ops if op.path_params]
    assert len(with_ids) >= 35  # the table really is the app's
    tried = []
    for op in with_ids:
        path_a = op.path.format(**{k: ids[k] for k in op.path_params})
        path_u = op.path.format(**{k: UNKNOWN[k] for k in op.path_params})
        as_b = api.client.request(op.method, path_a, **_with_headers(_body(op, ids), b))
        unknown = api.client.request(op.method, path_u, **_with_headers(_body(op, UNKNOWN), b))
        a_view = _normalised(as_b, {k: ids[k] for k in op.path_params})
        u_view = _normalised(unknown, {k: UNKNOWN[k] for k in op.path_params})
        assert a_view == u_view, (op.method, op.path, a_view, u_view)
        # an operation Parley does not serve answers its 501 to anyone, after the token check
        expected = 501 if "not served" in op.tags else 404
        assert as_b.status_code == expected, (op.method, op.path, as_b.status_code, as_b.text)
        tried.append(f"{op.method} {op.path}")
    assert len(tried) == len(with_ids)


def test_lists_do_not_show_another_apps_ids(api: Api, tenants: dict[str, Any]) -> None:
    from parley.api.app import create_app

    ids, b = tenants["ids"], tenants["b"]
    ops = operations(create_app(api.services.settings, services=api.services))
    lists = [op for op in ops if not op.path_params and op.method == "GET"]
    assert len(lists) >= 3
    for op in lists:
        response = api.client.get(op.path, headers=b)
        assert response.status_code == 200, op.path
        # whole tokens: a short id ("7") is in any port number or count, not a leak
        shown = [
            v
            for v in ids.values()
            if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", response.text)
        ]
        assert not shown, (op.path, shown)


def test_deletes_by_query_reach_only_the_callers_own(api: Api, tenants: dict[str, Any]) -> None:
    """Routes that name what they delete in the query, not the path: B's call with A's
    subType is B's own 404 (and the test below finds A's entity intact)."""
    as_b = api.client.delete(
        "/v1/manage/entities", params={"subType": ENTITY["subType"]}, headers=tenants["b"]
    )
    assert as_b.status_code == 404, as_b.text
    assert as_b.json() == {"message": f"No entity with subType {ENTITY['subType']} found."}


def test_settings_are_per_app(api: Api, tenants: dict[str, Any]) -> None:
    """An app's settings (no id in the path) are its own: B neither sees nor changes A's."""
    b = tenants["b"]
    patch = [{"op": "add", "path": "/intelligence/bookmarks/duration", "value": 45}]
    mine = api.request("PATCH", "/v1/manage/settings", json=patch)
    assert mine.status_code == 200, mine.text
    try:
        assert api.client.get("/v1/manage/settings", headers=b).json() == {"settings": {}}
        theirs = [{"op": "add", "path": "/redaction/default", "value": True}]
        answer = api.client.patch("/v1/manage/settings", json=theirs, headers=b)
        assert answer.json() == {"settings": {"redaction": {"default": True}}}
        assert api.get("/v1/manage/settings").json() == {
            "settings": {"intelligence": {"bookmarks": {"duration": 45}}}
        }
    finally:
        api.request(
            "PATCH", "/v1/manage/settings", json=[{"op": "remove", "path": "/intelligence"}]
        )


def test_a_still_has_everything_afterwards(api: Api, tenants: dict[str, Any]) -> None:
    ids = tenants["ids"]
    assert api.get(f"/v1/conversations/{ids['conversation_id']}").status_code == 200
    members = api.get(f"/v1/conversations/{ids['conversation_id']}/members").json()["members"]
    assert [m["name"] for m in members] == ["Ann"]
    tracker = api.get(f"/v1/manage/trackers/{ids['tracker_id']}").json()["tracker"]
    assert tracker["name"].startswith("a-")
    assert api.get(f"/v1/manage/entities/{ids['entity_id']}").json()["values"] == ["Zyxwv Qutsr"]
    assert api.get(f"/v1/job/{ids['job_id']}").json()["status"] == "completed"
    group = api.get(f"/v1/manage/group/{ids['group_id']}").json()["group"]
    assert group["criteria"] == "conversation.metadata.owner==a"
    members = api.get(f"/v1/groups/{ids['group_id']}/conversations").json()["conversations"]
    assert ids["conversation_id"] in [c["id"] for c in members]
    bookmark = api.get(f"/v1/conversations/{ids['conversation_id']}/bookmarks/{ids['bookmark_id']}")
    assert bookmark.json()["label"] == "a"
    assert bookmark.json()["messageRefs"] == [{"id": ids["message_id"]}]
    criteria = api.get(f"/v1/manage/callscore/criteria/{ids['criteria_id']}").json()
    assert criteria["checklist"] == [{"question": "Was the report sent?", "priority": "medium"}]
    scorecard = api.get(f"/v1/manage/callscore/scorecards/{ids['scorecard_id']}").json()
    assert scorecard["criteriaList"] == [ids["criteria_id"]]


def _with_headers(kwargs: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    return {**kwargs, "headers": {**kwargs.get("headers", {}), **headers}}


def test_unknown_ids_table_covers_every_path_parameter(api: Api) -> None:
    from parley.api.app import create_app

    ops = operations(create_app(api.services.settings, services=api.services))
    names = {name for op in ops for name in op.path_params}
    assert names <= set(UNKNOWN), names - set(UNKNOWN)
    assert all(re.fullmatch(r"[a-z_]+", n) for n in names)
