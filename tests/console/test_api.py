"""The HTTP side of the console: media with Range, the Experience API, search, the jobs list."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import Api
from tests.console.conftest import expired_link, text_conversation


def _media(api: Api, call: dict[str, str]) -> dict:
    [file] = api.get(f"/v1/conversations/{call['conversationId']}/media").json()["media"]
    return file


def test_media_lists_the_file_and_serves_ranges(
    api: Api, phone_call: dict[str, str], testdata: Path
) -> None:
    original = (testdata / "diarization" / "pyannote_sample" / "sample.wav").read_bytes()
    file = _media(api, phone_call)
    assert file["jobId"] == phone_call["jobId"] and file["offset"] == 0.0
    assert file["contentType"] == "audio/wav" and file["size"] == len(original)
    assert abs(file["duration"] - 30.0) < 0.1

    whole = api.get(file["url"])
    assert whole.status_code == 200 and whole.content == original
    assert whole.headers["accept-ranges"] == "bytes"
    part = api.get(file["url"], headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == original[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(original)}"
    tail = api.get(file["url"], headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == original[-10:]
    open_ended = api.get(file["url"], headers={"Range": f"bytes={len(original) - 5}-"})
    assert open_ended.content == original[-5:]
    outside = api.get(file["url"], headers={"Range": f"bytes={len(original)}-"})
    assert outside.status_code == 416 and "outside" in outside.json()["message"]
    assert outside.headers["content-range"] == f"bytes */{len(original)}"

    # the player's way in: ?access_token=, and nothing without a token
    token = api.token()
    assert api.client.get(f"{file['url']}?access_token={token}").status_code == 200
    refused = api.client.get(file["url"])
    assert refused.status_code == 401 and set(refused.json()) == {"message"}
    missing = api.get(f"/v1/conversations/{phone_call['conversationId']}/media/nope")
    assert missing.status_code == 404 and "No stored audio" in missing.json()["message"]


def test_appended_files_play_as_one_timeline(api: Api, testdata: Path) -> None:
    first = testdata / "diarization" / "ami_lhotse_ES2011a"
    wav = next(first.glob("*.wav"))
    created = api.submit_file(wav, content_type="audio/wav")
    api.wait(created["jobId"])
    again = api.submit_file(
        wav, conversation_id=created["conversationId"], content_type="audio/wav"
    )
    assert api.wait(again["jobId"])["status"] == "completed"
    files = api.get(f"/v1/conversations/{created['conversationId']}/media").json()["media"]
    assert [f["jobId"] for f in files] == [created["jobId"], again["jobId"]]
    assert files[1]["offset"] == pytest.approx(files[0]["duration"], abs=0.01)
    # the second file's sentences sit on the same timeline, after the first file
    messages = api.get(f"/v1/conversations/{created['conversationId']}/messages").json()
    starts = [m["timeOffset"] for m in messages["messages"]]
    assert max(starts) >= files[1]["offset"] - 1.0


def test_an_experience_link_opens_without_signing_in(api: Api, phone_call: dict[str, str]) -> None:
    cid = phone_call["conversationId"]
    made = api.request(
        "POST",
        f"/v1/conversations/{cid}/experiences",
        json={
            "name": "audio-summary",
            "readOnly": True,
            "logo": "https://example.com/logo.png",
            "color": {"background": "#fef3c7", "topicsFilter": "#7c3aed"},
            "font": {"family": "Georgia"},
        },
    )
    assert made.status_code == 200, made.text
    body = made.json()
    assert body["name"] == "audio-summary" and "/experiences/" in body["url"]
    token = body["url"].rsplit("/", 1)[1]

    page = httpx.get(body["url"], timeout=60)
    assert page.status_code == 200 and "/console/app.js" in page.text
    data = httpx.get(f"{body['url']}/data", timeout=60).json()
    assert data["conversation"]["id"] == cid
    assert data["experience"]["readOnly"] is True
    assert data["experience"]["color"]["background"] == "#fef3c7"
    assert data["experience"]["logo"] == "https://example.com/logo.png"
    assert data["experience"]["expiresAt"] > time.time() + 29 * 86400  # 30 days by default
    assert len(data["messages"]) > 5 and data["messages"][0]["words"]
    assert {m["name"] for m in data["members"]} == {m["from"]["name"] for m in data["messages"]}
    [file] = data["media"]
    audio = httpx.get(api.base_url + file["url"], headers={"Range": "bytes=0-99"}, timeout=60)
    assert audio.status_code == 206 and audio.content[:4] == b"RIFF"

    # read-only: no renaming; and the link is no access token for the API
    member = data["members"][0]
    refused = httpx.put(f"{body['url']}/members/{member['id']}", json={"name": "Eve"}, timeout=60)
    assert refused.status_code == 403 and refused.json() == {
        "message": "This shared page is read-only."
    }
    as_token = httpx.get(
        f"{api.base_url}/v1/conversations/{cid}", headers={"x-api-key": token}, timeout=60
    )
    assert as_token.status_code == 401
    tampered = httpx.get(f"{body['url'][:-3]}abc/data", timeout=60)
    assert tampered.status_code == 401 and set(tampered.json()) == {"message"}


def test_experience_options_expiry_editing_and_revocation(api: Api) -> None:
    cid = text_conversation(api, "Please send the contract to Bob tomorrow.")
    url = f"/v1/conversations/{cid}/experiences"
    for bad, word in [
        ({"name": "dashboard"}, '"name"'),
        ({"name": "video-summary", "summaryURLExpiresIn": -1}, "summaryURLExpiresIn"),
        ({"name": "video-summary", "readOnly": "yes"}, "readOnly"),
        ({"name": "video-summary", "color": {"background": "red;} body{"}}, "color.background"),
        ({"name": "video-summary", "logo": "javascript:alert(1)"}, '"logo"'),
        ({"name": "video-summary", "font": {"family": "<b>"}}, "font.family"),
    ]:
        response = api.request("POST", url, json=bad)
        assert response.status_code == 400 and word in response.json()["message"], bad
    assert (
        api.request(
            "POST", "/v1/conversations/1/experiences", json={"name": "audio-summary"}
        ).status_code
        == 404
    )

    never = api.request("POST", url, json={"name": "video-summary", "summaryURLExpiresIn": 0})
    editable = httpx.get(never.json()["url"] + "/data", timeout=60).json()
    assert editable["experience"]["expiresAt"] is None
    assert editable["experience"]["readOnly"] is False
    member = editable["members"][0]
    renamed = httpx.put(
        f"{never.json()['url']}/members/{member['id']}", json={"name": "Ann Lee"}, timeout=60
    )
    assert renamed.status_code == 200
    assert api.get(f"/v1/conversations/{cid}/members").json()["members"][0]["name"] == "Ann Lee"

    short = api.request(
        "POST", url, json={"name": "verbose-text-summary", "summaryURLExpiresIn": 1}
    )
    expired = httpx.get(expired_link(api, short.json()["url"], 1) + "/data", timeout=60)
    assert expired.status_code == 401 and expired.json() == {"message": "This link has expired."}

    assert api.request("DELETE", f"/v1/conversations/{cid}").status_code == 200
    revoked = httpx.get(never.json()["url"] + "/data", timeout=60)
    assert revoked.status_code == 404 and "deleted" in revoked.json()["message"]


def test_search_endpoint_finds_said_words_with_times(api: Api, phone_call: dict[str, str]) -> None:
    cid = phone_call["conversationId"]
    found = api.get("/v1/conversations", params={"query": "Chicago"}).json()["conversations"]
    hit = next(c for c in found if c["id"] == cid)
    assert hit["matches"] and all("chicago" in m["text"].lower() for m in hit["matches"])
    assert all(m["timeOffset"] >= 0 and m["startTime"] for m in hit["matches"])
    assert api.get("/v1/conversations", params={"query": "zebra"}).json() == {"conversations": []}
    assert (
        api.get("/v1/conversations", params={"query": "Chicago", "limit": "x"}).status_code == 400
    )


def test_jobs_list_is_newest_first(api: Api, phone_call: dict[str, str]) -> None:
    jobs = api.get("/v1/jobs", params={"limit": 100}).json()["jobs"]
    assert phone_call["jobId"] in {j["id"] for j in jobs}
    created = [j["createdAt"] for j in jobs]
    assert created == sorted(created, reverse=True)
    assert api.get("/v1/jobs", params={"limit": 0}).status_code == 400
