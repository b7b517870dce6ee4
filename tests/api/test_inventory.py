"""No Symbl REST path answers a bare 404: every row of the spec's R.0 inventory
(symbl-streaming.md, "REST surface not yet covered"), one entry per method and path.

What counts as answered (``_answered``): any status but 405 and the 404 of a path no
route serves (``parley.api.errors.NO_ROUTE``); a 404 must name what is missing
("The job could not be found…", "Tracker with id … not found."); every error is in
Symbl's shape (a JSON object with a string ``message``); the only 5xx is a 501 (a named
endpoint Parley does not serve, whose message says what to use instead). The requests
carry the test app's token, ids nobody has and minimal bodies, so an answer is typically
a 2xx (lists), a 400 naming the field, a named 404 or a 501; none changes any data.

Rows another part of issue 20 is building are ``pending``: strict xfails, so the test
fails (XPASS) the day they land and the mark must be removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from parley.api.errors import NO_ROUTE
from tests.conftest import Api

CID = "1234567890123456"  # a conversation nobody has
UNKNOWN = "9999999999999999"  # any other numeric id nobody has
JOB = "00000000-0000-4000-8000-000000000000"
MEMBER = "00000000-0000-4000-8000-000000000001"


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    #: where R.0 found it ("py-rest", "api-client", "go-sdk", "docs", "docs-new", "SDKs")
    source: str
    #: the spec section with its contract
    section: str
    #: the issue 20 item building it, while it is not served yet
    pending: int | None = None
    body: Any = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


C = f"/v1/conversations/{CID}"
INVENTORY: list[Row] = [
    # auth (§1)
    Row("POST", "/oauth2/token:generate", "py-rest, api-client, all SDKs", "§1.1", body={}),
    Row("POST", "/oauth2/token:refresh", "py-rest, api-client", "§1.2", body={}),
    Row("DELETE", "/oauth2/token:revoke", "py-rest, api-client", "§1.2", body={}),
    # Async (§2)
    Row("POST", "/v1/process/audio", "py-rest, go-sdk, docs", "§2"),
    Row("POST", "/v1/process/video", "py-rest, go-sdk, docs", "§2"),
    Row("POST", "/v1/process/audio/url", "py-rest, go-sdk, docs", "§2", body={}),
    Row("POST", "/v1/process/video/url", "py-rest, go-sdk, docs", "§2", body={}),
    Row("PUT", f"/v1/process/audio/{CID}", "py-rest, go-sdk, docs", "§2"),
    Row("PUT", f"/v1/process/video/{CID}", "py-rest, go-sdk, docs", "§2"),
    Row("PUT", f"/v1/process/audio/url/{CID}", "py-rest, go-sdk, docs", "§2", body={}),
    Row("PUT", f"/v1/process/video/url/{CID}", "py-rest, go-sdk, docs", "§2", body={}),
    Row("POST", "/v1/process/text", "py-rest, go-sdk, docs", "§2", body={}),
    Row("PUT", f"/v1/process/text/{CID}", "py-rest, go-sdk, docs", "§2", body={}),
    # Job (§3)
    Row("GET", f"/v1/job/{JOB}", "py-rest, go-sdk", "§3"),
    # Conversation API (§4)
    Row("GET", "/v1/conversations", "go-sdk, docs", "§4.2"),
    Row("GET", C, "py-rest, api-client, go-sdk", "§4.1"),
    Row("PUT", C, "go-sdk", "§4.3", body={}),
    Row("DELETE", C, "py-rest 1.0.11, go-sdk", "§4.4"),
    *(
        Row("GET", f"{C}/{name}", "py-rest, api-client, go-sdk", "§4")
        for name in (
            "messages",
            "members",
            "topics",
            "questions",
            "action-items",
            "follow-ups",
            "analytics",
            "entities",
            "insights",
        )
    ),
    Row("PUT", f"{C}/members/{MEMBER}", "py-rest, go-sdk", "§4.7", body={}),
    Row("PUT", f"{C}/speakers", "py-rest, go-sdk", "§4.8", body={}),
    Row("GET", f"{C}/trackers", "py-rest, go-sdk, docs", "§4.16"),
    Row("GET", f"{C}/trackers-detected", "py-rest, go-sdk, docs", "§4.16"),
    Row("POST", f"{C}/transcript", "py-rest 1.0.11, go-sdk", "§4.17", body={}),
    Row("GET", f"{C}/intents", "py-rest, api-client", "§4.20"),
    Row("GET", f"{C}/summary", "go-sdk, docs", "§4.13"),
    Row("POST", f"{C}/summary", "go-sdk, docs", "§4.13", body={}),
    Row("POST", f"{C}/experiences", "docs", "§4.20", body={}),
    Row(
        "GET",
        "/v1/conversations/experiences/insights/list?includeCallScore=true",
        "go-sdk",
        "§4.20, R.4",
    ),
    Row(
        "GET",
        f"/v1/conversations/experiences/insights/details/{CID}?includeCallScore=true",
        "py-rest 1.0.14, go-sdk",
        "§4.20, R.4",
    ),
    Row("PUT", f"{C}/experiences/url", "go-sdk", "§4.20, R.4", body={}),
    Row("GET", f"{C}/callscore", "py-rest 1.0.14, go-sdk", "R.4"),
    Row("GET", f"{C}/callscore/status", "py-rest 1.0.14, go-sdk", "R.4"),
    Row("GET", f"{C}/lm-insights/status", "go-sdk", "R.4"),
    Row("POST", f"{C}/bookmarks", "go-sdk, docs-new", "R.3", body={}),
    Row("GET", f"{C}/bookmarks", "go-sdk, docs-new", "R.3"),
    Row("POST", f"{C}/bookmarks/bulk", "docs-new", "R.3", body=[]),
    Row("GET", f"{C}/bookmarks/{UNKNOWN}", "go-sdk, docs-new", "R.3"),
    Row("PUT", f"{C}/bookmarks/{UNKNOWN}", "go-sdk, docs-new", "R.3", body={}),
    Row("DELETE", f"{C}/bookmarks/{UNKNOWN}", "go-sdk, docs-new", "R.3"),
    Row("GET", f"{C}/bookmarks/{UNKNOWN}/summary", "go-sdk, docs-new", "R.3"),
    Row("GET", f"{C}/bookmarks-summary", "go-sdk, docs-new", "R.3"),
    Row("GET", f"{C}/abstract-topics", "docs, docs-new (api-labs)", "R.5"),
    Row("GET", f"{C}/comprehensive/action-items", "docs (api-labs)", "§4.19"),
    # groups (§5.4, R.2)
    Row("GET", f"/v1/groups/{UNKNOWN}/conversations", "docs", "§5.4, R.2"),
    # Management API: trackers (§5.1, §5.2)
    Row("POST", "/v1/manage/tracker", "docs", "§5.1", body={}),
    Row("GET", f"/v1/manage/tracker/{UNKNOWN}", "docs", "§5.1"),
    Row("PUT", f"/v1/manage/tracker/{UNKNOWN}", "docs", "§5.1", body={}),
    Row("DELETE", f"/v1/manage/tracker/{UNKNOWN}", "docs", "§5.1"),
    Row("GET", "/v1/manage/trackers", "docs, go-sdk", "§5.1, §5.2"),
    Row("POST", "/v1/manage/trackers", "docs, go-sdk", "§5.1, §5.2", body={}),
    Row("POST", "/v1/manage/trackers/bulk", "go-sdk", "§5.2", body={}),
    Row("GET", f"/v1/manage/trackers/{UNKNOWN}", "go-sdk", "§5.2"),
    Row("PUT", f"/v1/manage/trackers/{UNKNOWN}", "go-sdk", "§5.2", body={}),
    Row("PATCH", f"/v1/manage/trackers/{UNKNOWN}", "go-sdk", "§5.2", body=[]),
    Row("DELETE", f"/v1/manage/trackers/{UNKNOWN}", "go-sdk", "§5.2"),
    # Management API: custom entities (§5.3, R.1)
    Row("POST", "/v1/manage/entity", "docs-new", "R.1", body={}),
    Row("GET", f"/v1/manage/entity/{UNKNOWN}", "docs-new", "R.1"),
    Row("PUT", f"/v1/manage/entity/{UNKNOWN}", "docs-new", "R.1", body={}),
    Row("GET", "/v1/manage/entities", "go-sdk, docs-new", "R.1"),
    Row("POST", "/v1/manage/entities", "docs-new", "R.1", body={}),
    Row("POST", "/v1/manage/entities/bulk", "go-sdk, docs-new", "R.1", body=[]),
    Row("GET", f"/v1/manage/entities/{UNKNOWN}", "go-sdk, docs-new", "R.1"),
    Row("PUT", f"/v1/manage/entities/{UNKNOWN}", "go-sdk, docs-new", "R.1", body={}),
    Row("DELETE", f"/v1/manage/entities/{UNKNOWN}", "go-sdk", "R.1"),
    Row("DELETE", "/v1/manage/entities?subType=NobodysSubType", "go-sdk", "R.1"),
    # Management API: conversation groups (§5.4, R.2)
    Row("POST", "/v1/manage/group", "docs, go-sdk", "§5.4, R.2", body={}),
    Row("GET", f"/v1/manage/group/{UNKNOWN}", "docs, go-sdk", "§5.4, R.2"),
    Row("PUT", f"/v1/manage/group/{UNKNOWN}", "docs, go-sdk", "§5.4, R.2", body={}),
    Row("DELETE", f"/v1/manage/group/{UNKNOWN}", "docs, go-sdk", "§5.4, R.2"),
    Row("GET", "/v1/manage/groups", "docs, go-sdk", "§5.4, R.2"),
    Row("POST", "/v1/manage/groups", "go-sdk", "§5.4, R.2", body=[]),
    # Management API: call score criteria and scorecards (R.4)
    Row("POST", "/v1/manage/callscore/criteria", "docs-new", "R.4", body={}),
    Row("GET", "/v1/manage/callscore/criteria", "docs-new", "R.4"),
    Row("GET", f"/v1/manage/callscore/criteria/{UNKNOWN}", "docs-new", "R.4"),
    Row("PUT", f"/v1/manage/callscore/criteria/{UNKNOWN}", "docs-new", "R.4", body={}),
    Row("PATCH", f"/v1/manage/callscore/criteria/{UNKNOWN}", "docs-new", "R.4", body={}),
    Row("DELETE", f"/v1/manage/callscore/criteria/{UNKNOWN}", "docs-new", "R.4"),
    Row("POST", "/v1/manage/callscore/scorecards", "docs-new", "R.4", body={}),
    Row("GET", "/v1/manage/callscore/scorecards", "docs-new", "R.4"),
    Row("GET", f"/v1/manage/callscore/scorecards/{UNKNOWN}", "docs-new", "R.4"),
    Row("PUT", f"/v1/manage/callscore/scorecards/{UNKNOWN}", "docs-new", "R.4", body={}),
    Row("PATCH", f"/v1/manage/callscore/scorecards/{UNKNOWN}", "docs-new", "R.4", body={}),
    Row("DELETE", f"/v1/manage/callscore/scorecards/{UNKNOWN}", "docs-new", "R.4"),
    # Management API: user settings (R.6)
    Row("GET", "/v1/manage/settings", "docs-new", "R.6"),
    Row("PATCH", "/v1/manage/settings", "docs-new", "R.6", body=[]),
    # telephony (R.7) and legacy (R.8): named 501s
    Row("POST", "/v1/endpoint:connect", "py-rest, api-client, js/py SDKs, docs", "R.7", body={}),
    Row("POST", f"/v1/event/{JOB}", "py-rest, api-client, docs", "R.7", body={}),
    Row("POST", "/v1/insights", "api-client", "R.8", body={}),
    Row("GET", f"/v1/metric/{UNKNOWN}", "py-rest", "R.8"),
    Row("POST", f"/v1/metric/{UNKNOWN}/entry", "py-rest", "R.8", body={}),
    Row("POST", "/v1/model/generate", "go-sdk (api-nebula)", "R.8", body={}),
]
#: Answered by a token check of their own, or none: no 401 for a missing token.
PUBLIC = {"/oauth2/token:generate", "/oauth2/token:refresh", "/oauth2/token:revoke"}


def _param(row: Row) -> Any:
    marks = (
        [pytest.mark.xfail(reason=f"issue 20 item {row.pending}", strict=True)]
        if row.pending
        else []
    )
    return pytest.param(row, id=row.id, marks=marks)


def _answered(status: int, body: Any) -> str | None:
    """Why this answer is not one, or None when it is (see the module's docstring)."""
    if status == 405:
        return "405: no such method on the path"
    if status >= 500 and status != 501:
        return f"{status}: a server error"
    if status < 300:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return f"{status} not in Symbl's error shape: {body!r}"
    if status == 404 and body["message"] == NO_ROUTE:
        return "a bare 404: no route serves this path"
    return None


def _call(api: Api, row: Row, headers: dict[str, str] | None) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if row.body is not None:
        kwargs["json"] = row.body
    response = api.client.request(row.method, row.path, **kwargs)
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    return response.status_code, body


def test_the_inventory_has_one_row_per_method_and_path() -> None:
    ids = [row.id for row in INVENTORY]
    assert len(ids) == len(set(ids))
    assert len(INVENTORY) >= 90
    assert all(row.pending in (None, 1, 2, 3, 4, 5) for row in INVENTORY)


@pytest.mark.parametrize("row", [_param(row) for row in INVENTORY])
def test_every_symbl_path_is_answered(api: Api, row: Row) -> None:
    status, body = _call(api, row, api.auth)
    problem = _answered(status, body)
    assert problem is None, f"{row.id} ({row.section}, {row.source}): {problem}"
    if row.path.split("?")[0] not in PUBLIC:
        # the route really is there: it asks for a token like every other
        status, body = _call(api, row, None)
        assert status == 401 and isinstance(body, dict), (row.id, status, body)


def test_the_rows_parley_cannot_serve_say_what_to_do_instead(api: Api) -> None:
    for row in INVENTORY:
        if row.section not in ("R.7", "R.8"):
            continue
        status, body = _call(api, row, api.auth)
        assert status == 501, (row.id, status, body)
        assert set(body) == {"message"}
        text = body["message"]
        if row.section == "R.7":
            assert "SIP gateway" in text and "/v1/streaming/{connectionId}" in text
            assert "POST /v1/process/audio" in text
        else:
            assert "not" in text and "/v1/" in text


def test_what_counts_as_answered() -> None:
    """The rule itself, so a change to it is seen."""
    assert _answered(200, {"conversations": []}) is None
    assert _answered(204, None) is None
    assert _answered(400, {"message": '"name" is required'}) is None
    assert _answered(404, {"message": "Tracker with id 9 not found."}) is None
    assert _answered(501, {"message": "not served; use …"}) is None
    assert _answered(404, {"message": NO_ROUTE}) is not None
    assert _answered(404, {"detail": "Not Found"}) is not None
    assert _answered(405, {"message": "Method not allowed."}) is not None
    assert _answered(500, {"message": "Something went wrong!"}) is not None
