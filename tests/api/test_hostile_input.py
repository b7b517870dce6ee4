"""Strings and numbers that Python refuses only deep inside: each is a 4xx at the edge.

A lone surrogate (JSON ``"\\ud800"``) or a NUL in any string of a JSON body, in a query
parameter or in the path; ``"²"`` (``isdigit`` but not ``int``), ``"٣"`` and 4,301-digit
integers in query parameters, ``exclude`` and ``Range``; JSON nested past the
recursion limit; tracker patches of the wrong types. And a row stored before these
checks existed still reads.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import APP_ID, Api
from tests.helpers import silent_wav

SURROGATE = "\\ud800"  # as written in JSON text: decodes to a lone surrogate
NUL = "\\u0000"
HUGE = "1" * 4301  # past Python's int-string limit (4,300 digits)
SUPERSCRIPT = "\u00b2"  # "²": str.isdigit() is True, int() raises
ARABIC_THREE = "\u0663"  # "٣": int() reads it as 3; not an ASCII digit
OK_MESSAGE = '{"payload": {"content": "Fine words."}}'
_names = itertools.count()


def _conversation(api: Api, **values: Any) -> str:
    """A conversation stored directly (no job, no worker), with ``values`` set on it."""
    from parley.storage import conversations as store

    with api.services.storage.session() as session:
        conversation = store.create_conversation(session=session, app_id=APP_ID, name="Edge")
        for key, value in values.items():
            setattr(conversation, key, value)
        return conversation.id


@pytest.fixture(scope="module")
def cid(api: Api) -> str:
    return _conversation(api)


def _send(api: Api, method: str, url: str, body: str, *, auth: bool = True) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if not auth:
        return api.client.request(method, url, content=body.encode(), headers=headers)
    return api.request(method, url, content=body.encode(), headers=headers)


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        (
            "POST",
            "/oauth2/token:generate",
            f'{{"type": "application", "appId": "a{SURROGATE}", "appSecret": "x"}}',
            '"appId"',
        ),
        (
            "POST",
            "/oauth2/token:generate",
            f'{{"appId": "{APP_ID}", "appSecret": "x{NUL}"}}',
            '"appSecret"',
        ),
        (
            "POST",
            "/v1/process/text",
            f'{{"messages": [{{"payload": {{"content": "Hello {SURROGATE}"}}}}]}}',
            '"messages[0].payload.content"',
        ),
        (
            "POST",
            "/v1/process/text",
            f'{{"messages": [{{"payload": {{"content": "Hello {NUL} there"}}}}]}}',
            '"messages[0].payload.content"',
        ),
        (
            "POST",
            "/v1/process/text",
            f'{{"messages": [{{"payload": {{"content": "Hi"}}, "from": {{"name": "{NUL}"}}}}]}}',
            '"messages[0].from.name"',
        ),
        (
            "POST",
            "/v1/process/text",
            f'{{"name": "n{SURROGATE}", "messages": [{OK_MESSAGE}]}}',
            '"name"',
        ),
        (
            "POST",
            "/v1/process/text",
            f'{{"metadata": {{"k": "{SURROGATE}"}}, "messages": [{OK_MESSAGE}]}}',
            '"metadata.k"',
        ),
        (
            "POST",
            "/v1/process/audio/url",
            f'{{"url": "https://example.com/a.wav", "customVocabulary": ["x{SURROGATE}"]}}',
            '"customVocabulary[0]"',
        ),
        (
            "POST",
            "/v1/manage/tracker",
            f'{{"name": "t{SURROGATE}", "vocabulary": ["a"]}}',
            '"name"',
        ),
        (
            "PUT",
            "/v1/conversations/{cid}",
            f'{{"metadata": {{"foo": "{SURROGATE}"}}}}',
            '"metadata.foo"',
        ),
        (
            "PUT",
            "/v1/conversations/{cid}",
            f'{{"metadata": {{"foo": "a{NUL}"}}}}',
            '"metadata.foo"',
        ),
        ("PUT", "/v1/conversations/{cid}", f'{{"metadata": {{"{SURROGATE}": "x"}}}}', '"metadata"'),
        (
            "PUT",
            "/v1/conversations/{cid}/members/m1",
            f'{{"id": "m1", "name": "{SURROGATE}"}}',
            '"name"',
        ),
    ],
)
def test_a_lone_surrogate_or_nul_in_a_json_body_is_400_naming_the_field(
    api: Api, cid: str, method: str, url: str, body: str, field: str
) -> None:
    response = _send(api, method, url.format(cid=cid), body, auth="oauth2" not in url)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert field in message and "not allowed" in message, message


def test_the_conversation_and_the_list_still_answer_after_a_refused_update(
    api: Api, cid: str
) -> None:
    body = f'{{"metadata": {{"foo": "{SURROGATE}"}}}}'
    assert _send(api, "PUT", f"/v1/conversations/{cid}", body).status_code == 400
    assert api.get(f"/v1/conversations/{cid}").status_code == 200
    assert api.get("/v1/conversations").status_code == 200


def test_a_row_stored_before_the_check_still_reads(api: Api) -> None:
    """A surrogate already in stored metadata (as the old code stored it) is served as
    U+FFFD; neither the conversation nor the app's whole list answers 500."""
    bad = _conversation(api, meta={"foo": "a\ud800"})
    one = api.get(f"/v1/conversations/{bad}")
    assert one.status_code == 200, one.text
    assert one.json()["metadata"] == {"foo": "a\ufffd"}
    listed = api.get("/v1/conversations", params={"limit": 1000})
    assert listed.status_code == 200
    assert bad in {c["id"] for c in listed.json()["conversations"]}


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/v1/conversations", {"query": "pricing\x00"}, '"query"'),
        ("/v1/conversations", {"filter": "conversation.metadata.a==\x00"}, '"filter"'),
        ("/v1/manage/trackers", {"name": "\x00"}, '"name"'),
        ("/v1/webhooks/deliveries", {"jobId": "j\x00"}, '"jobId"'),
    ],
)
def test_a_nul_in_a_query_parameter_is_400_naming_it(
    api: Api, url: str, params: dict[str, str], field: str
) -> None:
    response = api.get(url, params=params)
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]


def test_a_nul_in_a_query_option_of_a_job_is_400_and_creates_no_job(api: Api) -> None:
    response = api.request(
        "POST",
        "/v1/process/text",
        params={"name": "a\x00b"},
        json={"messages": [json.loads(OK_MESSAGE)]},
    )
    assert response.status_code == 400, response.text
    assert '"name"' in response.json()["message"]


def test_a_nul_in_the_path_is_400(api: Api) -> None:
    response = api.get("/v1/conversations/abc%00def")
    assert response.status_code == 400, response.text
    assert "path" in response.json()["message"]


@pytest.mark.parametrize("value", [SUPERSCRIPT, ARABIC_THREE, HUGE, "+5", "5_0", "-1"])
@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/v1/jobs", "limit"),
        ("/v1/webhooks/deliveries", "limit"),
        ("/v1/webhooks/deliveries", "offset"),
        ("/v1/conversations", "limit"),
        ("/v1/conversations", "offset"),
    ],
)
def test_integers_are_ascii_digits_of_bounded_length(
    api: Api, url: str, name: str, value: str
) -> None:
    response = api.get(url, params={name: value})
    assert response.status_code == 400, (value[:10], response.text[:200])
    assert f'"{name}"' in response.json()["message"]


@pytest.mark.parametrize("value", [SUPERSCRIPT, HUGE, ARABIC_THREE])
def test_a_delivery_id_that_is_not_ascii_digits_names_no_delivery(api: Api, value: str) -> None:
    assert api.get(f"/v1/webhooks/deliveries/{value}").status_code == 404
    assert api.request("POST", f"/v1/webhooks/deliveries/{value}/replay").status_code == 404


@pytest.mark.parametrize(
    ("exclude", "needle"),
    [
        ("[" + HUGE + "]", "exclude"),
        ("[" * 1500 + "]" * 1500, "nested"),
        ('[{"a": 1}]', "exclude"),
        ('["PERSON_NAME", ["x"]]', "exclude"),
        ('["' + SURROGATE + '"]', "exclude[0]"),
    ],
)
def test_crafted_exclude_is_400(api: Api, cid: str, exclude: str, needle: str) -> None:
    response = api.get(
        f"/v1/conversations/{cid}/messages", params={"redact": "true", "exclude": exclude}
    )
    assert response.status_code == 400, response.text[:300]
    assert needle in response.json()["message"]


@pytest.fixture(scope="module")
def stored_media(api: Api, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, int]:
    """A conversation with one completed audio job and its stored file, made in storage
    directly (no transcription), and a share link to it: (media url, shared url, size)."""
    from parley.storage import jobs as jobs_store
    from parley.storage.models import JobStatus

    wav = silent_wav(tmp_path_factory.mktemp("media") / "one.wav", 1.0).read_bytes()
    cid = _conversation(api)
    audio = api.services.storage.audio
    staged, out = audio.new_upload()
    with out:
        out.write(wav)
    with api.services.storage.session() as session:
        job = jobs_store.create_job(
            session=session,
            job_id=f"media-{cid}",
            app_id=APP_ID,
            conversation_id=cid,
            kind="audio",
            source="file",
            options={},
        )
        job.status = JobStatus.COMPLETED.value
        audio.commit(staged, cid, job.id)
        job_id = job.id
    made = api.request(
        "POST", f"/v1/conversations/{cid}/experiences", json={"name": "audio-summary"}
    )
    assert made.status_code == 200, made.text
    token = made.json()["url"].rstrip("/").rsplit("/", 1)[-1]
    return (
        f"/v1/conversations/{cid}/media/{job_id}",
        f"/experiences/{token}/media/{job_id}",
        len(wav),
    )


@pytest.mark.parametrize("shared", [False, True], ids=["api", "share-link"])
def test_range_headers_with_odd_numbers_never_fail(
    api: Api, stored_media: tuple[str, str, int], shared: bool
) -> None:
    media, link, size = stored_media
    get = (
        (lambda h: api.client.get(link, headers=h))
        if shared
        else (lambda h: api.get(media, headers=h))
    )
    assert get({}).status_code == 200
    for header in (f"bytes={SUPERSCRIPT}-", f"bytes=0-{SUPERSCRIPT}", f"bytes={HUGE}-"):
        response = get({"Range": header.encode("latin-1")})
        assert response.status_code == 416, (header[:20], response.status_code)
        assert response.headers["content-range"] == f"bytes */{size}"
    for header in (f"bytes=0-{HUGE}", f"bytes=-{HUGE}", f"bytes=0000{'0' * 4300}-"):
        response = get({"Range": header.encode("latin-1")})
        assert response.status_code == 206, (header[:20], response.status_code)
        assert response.headers["content-range"] == f"bytes 0-{size - 1}/{size}"


def _tracker(api: Api) -> str:
    response = api.request(
        "POST",
        "/v1/manage/tracker",
        json={"name": f"Edge {next(_names)}", "vocabulary": ["alpha", "beta"]},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["tracker"]["id"])


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ([{"op": "replace", "path": ["/name"], "value": "x"}], '"[0].path"'),
        ([{"op": "remove", "path": "/vocabulary", "value": {}}], '"[0].value"'),
        ([{"op": "remove", "path": "/vocabulary", "value": [[1]]}], '"[0].value"'),
        ([{"op": "add", "path": "/categories", "value": [{}]}], '"[0].value"'),
    ],
)
def test_tracker_patches_of_the_wrong_types_are_400(
    api: Api, patch: list[dict[str, Any]], needle: str
) -> None:
    response = api.request("PATCH", f"/v1/manage/trackers/{_tracker(api)}", json=patch)
    assert response.status_code == 400, response.text
    assert needle in response.json()["message"]


def test_a_tracker_patch_still_removes_words(api: Api) -> None:
    tid = _tracker(api)
    response = api.request(
        "PATCH",
        f"/v1/manage/trackers/{tid}",
        json=[{"op": "remove", "path": "/vocabulary", "value": "alpha"}],
    )
    assert response.status_code == 200, response.text
    assert response.json()["tracker"]["vocabulary"] == ["beta"]


def test_content_length_in_other_digits_is_left_to_the_stream(tmp_path: Path) -> None:
    """The declared length is read as ASCII digits only (the server normally refuses any
    other value first); the streamed count is what binds."""
    from starlette.requests import Request

    from parley.api.routes.bodies import _declared_too_large

    def request(length: str) -> Request:
        return Request({"type": "http", "headers": [(b"content-length", length.encode())]})

    assert _declared_too_large(request("2048"), 1024)
    assert not _declared_too_large(request("512"), 1024)
    assert not _declared_too_large(request("²"), 1024)
    assert _declared_too_large(request(HUGE), 1024)  # more than the limit, read no further


@pytest.mark.services
def test_nul_never_reaches_postgresql(tmp_path: Path, pg_database: str) -> None:
    """PostgreSQL refuses a NUL in any text (a 500 before): in a search query, a name,
    message content and metadata it is a 400 at the edge; the database still answers."""
    from tests.conftest import running_server

    with running_server(tmp_path, database_url=pg_database, workers=0) as pg:
        cid = _conversation(pg)
        assert pg.get("/v1/conversations", params={"query": "a\x00b"}).status_code == 400
        for method, url, body in (
            (
                "POST",
                "/v1/process/text",
                f'{{"messages": [{{"payload": {{"content": "a{NUL}"}}}}]}}',
            ),
            ("POST", "/v1/process/text", f'{{"name": "a{NUL}", "messages": [{OK_MESSAGE}]}}'),
            ("PUT", f"/v1/conversations/{cid}", f'{{"metadata": {{"k": "a{NUL}"}}}}'),
            ("PUT", f"/v1/conversations/{cid}", f'{{"metadata": {{"k": "a{SURROGATE}"}}}}'),
        ):
            response = _send(pg, method, url, body)
            assert response.status_code == 400, (url, response.text)
        assert pg.get("/v1/conversations", params={"query": "pricing"}).status_code == 200
        assert pg.get(f"/v1/conversations/{cid}").json()["metadata"] == {}
