"""Bookmarks (spec R.3): every route's shape, both ways of choosing the content (a window
of whole seconds, or sequential messages), PUT clearing what it leaves out, the default
duration from the app's settings (R.6), the summaries, ``bookmarkReference`` on the
conversation's summary, and the 400/404 answers that name the field.

The tests run in an app of their own, so its settings (the default duration) touch no
other test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from parley.storage.models import Bookmark
from tests.conftest import Api
from tests.helpers import app_client

#: (speaker, text, start second, end second): a call with a known time for every sentence.
CALL = [
    ("Sam", "Hi Dana, do you support single sign-on?", 0, 5),
    ("Dana", "Yes, we support single sign-on with every identity provider we know.", 6, 10),
    ("Dana", "I will send you the contract by Friday.", 10, 15),
    ("Sam", "Our team of forty people needs the enterprise plan this year.", 15, 20),
    ("Dana", "It is forty dollars a seat, with discounts above one hundred seats.", 20, 25),
    ("Sam", "That sounds reasonable for our budget this quarter.", 25, 30),
]
USER = {"name": "Jane", "userId": "jane@example.com", "email": "jane@example.com"}


@pytest.fixture(scope="module")
def app(api: Api) -> Iterator[Api]:
    """A client of the same server for a fresh app (its own token and settings)."""
    client, _, _ = app_client(api, "bookmarks")
    yield client
    client.client.close()


def _conversation(app: Api) -> tuple[str, list[str]]:
    """A processed text conversation of ``CALL``: its id and its message ids in order."""

    def at(second: int) -> str:
        return f"2024-03-05T10:00:{second:02d}.000Z"

    body = {
        "messages": [
            {
                "payload": {"content": text},
                "from": {"name": name},
                "duration": {"startTime": at(start), "endTime": at(end)},
            }
            for name, text, start, end in CALL
        ]
    }
    response = app.request("POST", "/v1/process/text", json=body)
    assert response.status_code == 201, response.text
    assert app.wait(response.json()["jobId"])["status"] == "completed"
    cid = str(response.json()["conversationId"])
    messages = app.get(f"/v1/conversations/{cid}/messages").json()["messages"]
    assert [m["timeOffset"] for m in messages] == [float(c[2]) for c in CALL]
    return cid, [m["id"] for m in messages]


@pytest.fixture(scope="module")
def call(app: Api) -> tuple[str, list[str]]:
    return _conversation(app)


def _bookmark(**fields: Any) -> dict[str, Any]:
    return {"label": "Pricing", "description": "Customer asks about price", "user": USER, **fields}


def _created(app: Api, cid: str, body: Any) -> dict[str, Any]:
    response = app.request("POST", f"/v1/conversations/{cid}/bookmarks", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def _refs(ids: list[str]) -> list[dict[str, str]]:
    return [{"id": i} for i in ids]


# -- create, read, update, delete ------------------------------------------------------------


def test_a_window_holds_every_message_with_a_part_inside(app: Api, call: Any) -> None:
    cid, mids = call
    made = _created(app, cid, _bookmark(beginTimeOffset=12, duration=9))
    assert list(made) == [
        "id",
        "label",
        "description",
        "user",
        "beginTimeOffset",
        "duration",
        "messageRefs",
    ]
    assert made["id"].isdigit() and len(made["id"]) == 16
    assert (made["label"], made["description"], made["user"]) == (
        "Pricing",
        "Customer asks about price",
        USER,
    )
    assert (made["beginTimeOffset"], made["duration"]) == (12, 9)
    # 10-15 and 15-20 overlap 12-21, 20-25 starts inside it; 6-10 ends before it
    assert made["messageRefs"] == _refs(mids[2:5])


def test_message_refs_choose_the_content_and_give_the_window(app: Api, call: Any) -> None:
    cid, mids = call
    made = _created(app, cid, _bookmark(messageRefs=_refs(mids[1:3])))
    assert made["messageRefs"] == _refs(mids[1:3])
    assert (made["beginTimeOffset"], made["duration"]) == (6, 9)
    # both, consistent (what a client sends back after reading one): accepted
    both = _created(
        app, cid, _bookmark(beginTimeOffset=5, duration=11, messageRefs=_refs(mids[1:3]))
    )
    assert both["messageRefs"] == _refs(mids[1:3])
    assert (both["beginTimeOffset"], both["duration"]) == (5, 11)


def test_whole_seconds_written_as_floats_are_integers(app: Api, call: Any) -> None:
    cid, _ = call
    made = _created(app, cid, _bookmark(beginTimeOffset=20.0, duration=5.0))
    assert (made["beginTimeOffset"], made["duration"]) == (20, 5)
    assert isinstance(made["beginTimeOffset"], int) and isinstance(made["duration"], int)


def test_get_list_put_delete(app: Api, call: Any) -> None:
    cid, mids = call
    made = _created(app, cid, _bookmark(messageRefs=_refs(mids[3:5])))
    path = f"/v1/conversations/{cid}/bookmarks/{made['id']}"
    assert app.get(path).json() == made  # bare, like the create's answer
    listed = app.get(f"/v1/conversations/{cid}/bookmarks")
    assert listed.status_code == 200
    assert set(listed.json()) == {"bookmarks"}
    assert made in listed.json()["bookmarks"]

    # a full replace: user's userId/email and messageRefs left out are cleared, so the
    # content is now the window's
    body = {"label": "Price", "description": "new", "user": {"name": "Jo"}, "beginTimeOffset": 0}
    app.request(
        "PATCH",
        "/v1/manage/settings",
        json=[{"op": "add", "path": "/intelligence/bookmarks/duration", "value": 6}],
    )
    try:
        replaced = app.request("PUT", path, json=body)
    finally:
        app.request(
            "PATCH", "/v1/manage/settings", json=[{"op": "remove", "path": "/intelligence"}]
        )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == {
        "id": made["id"],
        "label": "Price",
        "description": "new",
        "user": {"name": "Jo"},
        "beginTimeOffset": 0,
        "duration": 6,
        "messageRefs": _refs(mids[0:1]),
    }
    assert app.get(path).json() == replaced.json()
    # a client sending back what it read changes nothing
    again = app.request("PUT", path, json=replaced.json())
    assert again.status_code == 200 and again.json() == replaced.json()
    wrong_id = app.request("PUT", path, json={**replaced.json(), "id": "1"})
    assert wrong_id.status_code == 400 and '"id"' in wrong_id.json()["message"]

    deleted = app.request("DELETE", path)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert app.get(path).status_code == 404
    assert made["id"] not in app.get(f"/v1/conversations/{cid}/bookmarks").text
    assert app.request("DELETE", path).status_code == 404


def test_bulk_takes_an_array_or_an_envelope(app: Api, call: Any) -> None:
    cid, mids = call
    url = f"/v1/conversations/{cid}/bookmarks/bulk"
    items = [
        _bookmark(label="a", beginTimeOffset=0, duration=5),
        _bookmark(label="b", messageRefs=_refs(mids[5:])),
    ]
    as_array = app.request("POST", url, json=items)
    assert as_array.status_code == 200, as_array.text
    made = as_array.json()["bookmarks"]
    assert [b["label"] for b in made] == ["a", "b"]
    assert made[1]["messageRefs"] == _refs(mids[5:])
    as_envelope = app.request("POST", url, json={"bookmarks": items[:1]})
    assert as_envelope.status_code == 200, as_envelope.text
    assert [b["label"] for b in as_envelope.json()["bookmarks"]] == ["a"]

    before = len(app.get(f"/v1/conversations/{cid}/bookmarks").json()["bookmarks"])
    bad = app.request("POST", url, json=[items[0], _bookmark(label="")])
    assert bad.status_code == 400
    assert bad.json() == {"message": '"[1].label" is not allowed to be empty'}
    # all or none
    assert len(app.get(f"/v1/conversations/{cid}/bookmarks").json()["bookmarks"]) == before
    assert app.request("POST", url, json=[]).status_code == 400


def test_the_default_duration_is_the_apps_setting(app: Api, call: Any) -> None:
    cid, mids = call
    url = f"/v1/conversations/{cid}/bookmarks"
    missing = app.request("POST", url, json=_bookmark(beginTimeOffset=0))
    assert missing.status_code == 400
    assert missing.json()["message"].startswith('"duration" is required')
    patch = [{"op": "add", "path": "/intelligence/bookmarks/duration", "value": 11}]
    assert app.request("PATCH", "/v1/manage/settings", json=patch).status_code == 200
    try:
        made = _created(app, cid, _bookmark(beginTimeOffset=0))
        given = _created(app, cid, _bookmark(beginTimeOffset=0, duration=4))
    finally:
        app.request(
            "PATCH", "/v1/manage/settings", json=[{"op": "remove", "path": "/intelligence"}]
        )
    assert made["duration"] == 11 and made["messageRefs"] == _refs(mids[:3])
    assert given["duration"] == 4 and given["messageRefs"] == _refs(mids[:1])


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"description": ""}, '"description" is not allowed to be empty'),
        ({"label": None}, '"label" is required'),
        ({"label": 7}, '"label" must be a string'),
        ({"user": None}, '"user" is required'),
        ({"user": "jane"}, '"user" must be an object'),
        ({"user": {"name": 5}}, '"user.name" must be a string'),
        ({"beginTimeOffset": 1.5, "duration": 5}, '"beginTimeOffset" must be a whole number'),
        ({"beginTimeOffset": -1, "duration": 5}, '"beginTimeOffset" must be a whole number'),
        ({"beginTimeOffset": True, "duration": 5}, '"beginTimeOffset" must be a whole number'),
        ({"beginTimeOffset": 0, "duration": 0}, '"duration" must be a whole number'),
        ({"beginTimeOffset": 0, "duration": "5"}, '"duration" must be a whole number'),
        (
            {"beginTimeOffset": 30, "duration": 5},
            '"beginTimeOffset" 30 is outside the conversation',
        ),
        (
            {"beginTimeOffset": 900, "duration": 5},
            '"beginTimeOffset" 900 is outside the conversation',
        ),
        ({}, '"beginTimeOffset" or "messageRefs" is required'),
        ({"messageRefs": {"id": "1"}}, '"messageRefs" must be an array'),
        ({"messageRefs": [{"id": 1}]}, '"messageRefs[0].id" is required and must be a string'),
        ({"messageRefs": [{}]}, '"messageRefs[0].id" is required'),
    ],
)
def test_bad_bodies_are_400_naming_the_field(
    app: Api, call: Any, fields: dict[str, Any], message: str
) -> None:
    cid, _ = call
    body = {k: v for k, v in _bookmark(**fields).items() if v is not None}
    response = app.request("POST", f"/v1/conversations/{cid}/bookmarks", json=body)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"message"}
    assert response.json()["message"].startswith(message), response.json()


def test_an_empty_description_is_symbls_exact_message(app: Api, call: Any) -> None:
    cid, _ = call
    response = app.request(
        "POST",
        f"/v1/conversations/{cid}/bookmarks",
        json=_bookmark(description="", beginTimeOffset=0, duration=5),
    )
    assert response.status_code == 400
    assert response.json() == {"message": '"description" is not allowed to be empty'}


def test_message_refs_must_be_sequential_messages_of_this_conversation(app: Api, call: Any) -> None:
    cid, mids = call
    url = f"/v1/conversations/{cid}/bookmarks"

    def refused(ids: list[str], **fields: Any) -> str:
        response = app.request("POST", url, json=_bookmark(messageRefs=_refs(ids), **fields))
        assert response.status_code == 400, response.text
        message: str = response.json()["message"]
        return message

    gap = refused([mids[0], mids[2]])
    assert gap.startswith('"messageRefs" must name sequential messages') and mids[2] in gap
    assert refused([mids[1], mids[0]]).startswith('"messageRefs" must name sequential')
    assert refused([mids[1], mids[1]]).startswith('"messageRefs" must name sequential')
    other_cid, other_mids = _conversation(app)
    assert other_cid != cid
    foreign = refused([mids[0], other_mids[1]])
    assert foreign == f'"messageRefs[1].id" {other_mids[1]} is not a message of this conversation'
    outside = refused(mids[0:2], beginTimeOffset=20, duration=5)
    assert outside.startswith('"beginTimeOffset" and "duration" must cover every message')


def test_unknown_conversations_and_bookmarks_are_404(app: Api, call: Any) -> None:
    cid, _ = call
    body = _bookmark(beginTimeOffset=0, duration=5)
    nobody = "/v1/conversations/1234567890123456"
    for method, url, payload in [
        ("POST", f"{nobody}/bookmarks", body),
        ("POST", f"{nobody}/bookmarks/bulk", [body]),
        ("GET", f"{nobody}/bookmarks", None),
        ("GET", f"{nobody}/bookmarks-summary", None),
    ]:
        response = app.request(method, url, json=payload)
        assert response.status_code == 404, (method, url, response.text)
        assert "conversation" in response.json()["message"]
    unknown = f"/v1/conversations/{cid}/bookmarks/9999999999999999"
    for method, url, payload in [
        ("GET", unknown, None),
        ("PUT", unknown, body),
        ("DELETE", unknown, None),
        ("GET", f"{unknown}/summary", None),
    ]:
        response = app.request(method, url, json=payload)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json() == {"message": "Bookmark with id 9999999999999999 not found."}


def test_another_conversations_bookmark_is_404(app: Api, call: Any) -> None:
    cid, _ = call
    other_cid, _ = _conversation(app)
    made = _created(app, other_cid, _bookmark(beginTimeOffset=0, duration=5))
    assert app.get(f"/v1/conversations/{cid}/bookmarks/{made['id']}").status_code == 404
    assert app.get(f"/v1/conversations/{other_cid}/bookmarks/{made['id']}").status_code == 200


# -- summaries -------------------------------------------------------------------------------


def test_a_bookmarks_summary_is_drawn_from_its_messages(app: Api) -> None:
    cid, mids = _conversation(app)
    pricing = _created(app, cid, _bookmark(beginTimeOffset=15, duration=15))
    intro = _created(app, cid, _bookmark(label="Intro", messageRefs=_refs(mids[:3])))
    response = app.get(f"/v1/conversations/{cid}/bookmarks/{pricing['id']}/summary")
    assert response.status_code == 200, response.text
    summary = response.json()["summary"]
    assert summary, response.text
    inside = {r["id"] for r in pricing["messageRefs"]}
    for item in summary:
        assert {"id", "text", "messageRefs"} <= set(item)
        assert {r["id"] for r in item["messageRefs"]} <= inside
    texts = {CALL[mids.index(r["id"])][1] for item in summary for r in item["messageRefs"]}
    assert texts and all(t in {c[1] for c in CALL[3:]} for t in texts)

    # every bookmark's, with the query go-sdk appends (malformed) ignored
    both = app.get(f"/v1/conversations/{cid}/bookmarks-summary?filter=label==x&&")
    assert both.status_code == 200, both.text
    found = both.json()["bookmarksSummary"]
    assert [b["bookmarkId"] for b in found] == [pricing["id"], intro["id"]]
    assert found[0]["summary"] == summary
    intro_ids = {r["id"] for r in intro["messageRefs"]}
    assert found[1]["summary"]
    assert all({r["id"] for r in i["messageRefs"]} <= intro_ids for i in found[1]["summary"])


def test_a_conversation_without_bookmarks_has_an_empty_bookmarks_summary(app: Api) -> None:
    cid, _ = _conversation(app)
    response = app.get(f"/v1/conversations/{cid}/bookmarks-summary")
    assert response.json() == {"bookmarksSummary": []}
    assert app.get(f"/v1/conversations/{cid}/bookmarks").json() == {"bookmarks": []}


def test_summary_items_within_a_bookmark_name_it(app: Api) -> None:
    cid, mids = _conversation(app)
    before = app.get(f"/v1/conversations/{cid}/summary").json()["summary"]
    assert before and not any("bookmarkReference" in item for item in before)
    first = before[0]
    refs = [r["id"] for r in first["messageRefs"]]
    positions = [mids.index(r) for r in refs]
    made = _created(
        app, cid, _bookmark(messageRefs=_refs(mids[min(positions) : max(positions) + 1]))
    )
    after = app.get(f"/v1/conversations/{cid}/summary").json()["summary"]
    inside = {r["id"] for r in made["messageRefs"]}
    for old, new in zip(before, after, strict=True):
        item_refs = {r["id"] for r in old["messageRefs"]}
        if item_refs <= inside:
            assert new == {**old, "bookmarkReference": {"id": made["id"]}}
        else:
            assert new == old
    assert after[0]["bookmarkReference"] == {"id": made["id"]}


# -- the conversation's end ------------------------------------------------------------------


def test_deleting_the_conversation_deletes_its_bookmarks(app: Api) -> None:
    cid, _ = _conversation(app)
    made = _created(app, cid, _bookmark(beginTimeOffset=0, duration=5))
    assert app.request("DELETE", f"/v1/conversations/{cid}").status_code == 200
    with app.services.storage.session() as session:
        assert session.get(Bookmark, made["id"]) is None
        left = session.scalars(select(Bookmark).where(Bookmark.conversation_id == cid)).all()
        assert left == []
    assert app.get(f"/v1/conversations/{cid}/bookmarks").status_code == 404
