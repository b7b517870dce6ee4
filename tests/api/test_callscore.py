"""Call score (spec R.4): criteria and scorecards (CRUD, bad input named), a conversation's
call score with its evidence, its status, the 50-word floor, custom criteria from a
scorecard, the Call Summary links, and ``symbl_rest`` reading the score unmodified.

Every test runs in an app of its own, so criteria and scorecards of one test are never
seen by another (they belong to the app).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Api
from tests.helpers import app_client
from tests.insights.callscore_calls import messages

MANAGED = "Symbl.Communication_And_Engagement"
CRITERION = {
    "name": "Issue resolution",
    "description": "Did the agent solve the problem?",
    "tags": ["support"],
    "checklist": [
        {"question": "Was the help desk integration discussed?", "priority": "high"},
        {"question": "Was the weather in Paris discussed?", "priority": "low"},
    ],
}


@pytest.fixture()
def app(api: Api) -> Iterator[Api]:
    """A client of the same server for a fresh app (its own token)."""
    client, _, _ = app_client(api, "callscore")
    yield client
    client.client.close()


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _scored(app: Api, name: str, **options: Any) -> str:
    """A scripted call processed with ``callScore``; its conversation id."""
    body = {"messages": messages(name), "features": {"featureList": ["insights", "callScore"]}}
    submitted = app.request("POST", "/v1/process/text", json=body | options)
    assert submitted.status_code == 201, submitted.text
    assert app.wait(submitted.json()["jobId"])["status"] == "completed"
    return str(submitted.json()["conversationId"])


# -- criteria and scorecards ------------------------------------------------------------


def test_criteria_crud_in_symbls_shapes(app: Api) -> None:
    base = "/v1/manage/callscore/criteria"
    created = _ok(app.request("POST", base, json=CRITERION))
    assert created["id"].isdigit() and {k: created[k] for k in CRITERION} == CRITERION
    assert _ok(app.get(base)) == [created]  # a bare array
    assert _ok(app.get(f"{base}/{created['id']}")) == created
    replaced = _ok(
        app.request(
            "PUT",
            f"{base}/{created['id']}",
            json={"name": "Greeting", "checklist": [{"question": "Hi?"}]},
        )
    )
    assert replaced == {
        "id": created["id"],
        "name": "Greeting",
        "tags": [],
        "checklist": [{"question": "Hi?", "priority": "medium"}],
    }
    patched = _ok(app.request("PATCH", f"{base}/{created['id']}", json={"tags": ["a"]}))
    assert patched == replaced | {"tags": ["a"]}
    assert _ok(app.request("DELETE", f"{base}/{created['id']}")) == {
        "id": created["id"],
        "type": "criteria",
        "deleted": True,
    }
    assert app.get(f"{base}/{created['id']}").status_code == 404
    assert _ok(app.get(base)) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"checklist": [{"question": "q"}]}, '"name"'),
        ({"name": "x"}, '"checklist"'),
        ({"name": "x", "checklist": []}, '"checklist"'),
        ({"name": "x", "checklist": [{"question": ""}]}, '"checklist[0].question"'),
        ({"name": "x", "checklist": [{"question": "q", "priority": "urgent"}]}, "priority"),
        ({"name": "x", "checklist": [{"question": "q"}], "tags": "a"}, '"tags"'),
        ([], "criteria object"),
    ],
)
def test_bad_criteria_are_400s_naming_the_field(app: Api, body: Any, field: str) -> None:
    response = app.request("POST", "/v1/manage/callscore/criteria", json=body)
    assert response.status_code == 400 and field in response.json()["message"]


def test_managed_criteria_are_read_not_written(app: Api) -> None:
    base = "/v1/manage/callscore/criteria"
    managed = _ok(app.get(f"{base}/{MANAGED}"))
    assert managed["name"] == "Communication and Engagement" and managed["id"] == MANAGED
    for method in ("PUT", "PATCH", "DELETE"):
        response = app.request(method, f"{base}/{MANAGED}", json=CRITERION)
        assert response.status_code == 400 and MANAGED in response.json()["message"]


def test_scorecards_name_managed_and_custom_criteria_and_refuse_unknown_ids(app: Api) -> None:
    criterion = _ok(app.request("POST", "/v1/manage/callscore/criteria", json=CRITERION))
    base = "/v1/manage/callscore/scorecards"
    body = {"name": "Support", "tags": ["t"], "criteriaList": [criterion["id"], MANAGED]}
    card = _ok(app.request("POST", base, json=body))
    assert {k: card[k] for k in body} == body
    assert _ok(app.get(base)) == [card]
    assert _ok(app.get(f"{base}/{card['id']}")) == card
    for unknown in ("1234567890123456", "Symbl.Nothing"):
        response = app.request("POST", base, json=body | {"criteriaList": [unknown]})
        assert response.status_code == 400 and unknown in response.json()["message"]
    patched = _ok(app.request("PATCH", f"{base}/{card['id']}", json={"criteriaList": [MANAGED]}))
    assert patched == card | {"criteriaList": [MANAGED]}
    _ok(app.request("PUT", f"{base}/{card['id']}", json=body))
    # a criterion a scorecard names cannot go: 409 naming the scorecard
    used = app.request("DELETE", f"/v1/manage/callscore/criteria/{criterion['id']}")
    assert used.status_code == 409 and card["id"] in used.json()["message"]
    _ok(app.request("DELETE", f"{base}/{card['id']}"))
    _ok(app.request("DELETE", f"/v1/manage/callscore/criteria/{criterion['id']}"))
    assert app.get(f"{base}/{card['id']}").status_code == 404


def test_another_apps_criteria_answer_like_unknown_ids(api: Api, app: Api) -> None:
    mine = _ok(app.request("POST", "/v1/manage/callscore/criteria", json=CRITERION))
    other = api.get(f"/v1/manage/callscore/criteria/{mine['id']}")
    assert other.status_code == 404
    assert mine["id"] not in [c["id"] for c in _ok(api.get("/v1/manage/callscore/criteria"))]
    card = {"name": "x", "criteriaList": [mine["id"]]}
    refused = api.request("POST", "/v1/manage/callscore/scorecards", json=card)
    assert refused.status_code == 400 and mine["id"] in refused.json()["message"]


# -- a conversation's call score -----------------------------------------------------------


def test_call_score_comes_with_evidence_and_feedback(app: Api) -> None:
    cid = _scored(app, "next_steps")
    status = _ok(app.get(f"/v1/conversations/{cid}/callscore/status"))
    assert status["status"] == "completed" and status["jobId"]
    assert _ok(app.get(f"/v1/conversations/{cid}/lm-insights/status")) == status
    score = _ok(app.get(f"/v1/conversations/{cid}/callscore"))
    names = [c["name"] for c in score["criteria"]]
    assert names == ["Communication and Engagement", "Question Handling", "Forward Motion"]
    assert score["score"] == round(sum(c["score"] for c in score["criteria"]) / 3)
    ids = {m["id"] for m in _ok(app.get(f"/v1/conversations/{cid}/messages"))["messages"]}
    for criterion in score["criteria"]:
        assert 0 <= criterion["score"] <= 100 and criterion["summary"]
        assert criterion["feedback"]["positive"]["summary"]
        assert criterion["feedback"]["negative"]["summary"]
        assert all(set(e["messageIds"]) <= ids for e in criterion["evidence"])
    forward = score["criteria"][2]
    positive = [e for e in forward["evidence"] if e["effect"] == "positive"]
    assert positive and forward["score"] >= 60
    texts = _ok(app.get(f"/v1/conversations/{cid}/messages"))["messages"]
    cited = {m["text"] for m in texts if m["id"] in positive[0]["messageIds"]}
    assert any("by Friday" in t for t in cited)


def test_no_call_score_without_the_feature(app: Api) -> None:
    submitted = app.request("POST", "/v1/process/text", json={"messages": messages("dialogue")})
    assert app.wait(submitted.json()["jobId"])["status"] == "completed"
    cid = submitted.json()["conversationId"]
    for path in ("callscore", "callscore/status"):
        response = app.get(f"/v1/conversations/{cid}/{path}")
        assert response.status_code == 404 and "callScore" in response.json()["message"]
    assert _ok(app.get(f"/v1/conversations/{cid}/lm-insights/status"))["status"] == "completed"


def test_fewer_than_50_words_are_not_scored(app: Api) -> None:
    body = {
        "messages": messages("dialogue")[:3],
        "features": {"featureList": ["callScore"]},
    }
    submitted = app.request("POST", "/v1/process/text", json=body).json()
    assert app.wait(submitted["jobId"])["status"] == "completed"
    cid = submitted["conversationId"]
    status = _ok(app.get(f"/v1/conversations/{cid}/callscore/status"))
    assert status == {"jobId": submitted["jobId"], "status": "failed"}
    response = app.get(f"/v1/conversations/{cid}/callscore")
    assert response.status_code == 400 and "at least 50" in response.json()["message"]


def test_a_scorecard_scores_its_custom_criteria(app: Api) -> None:
    criterion = _ok(app.request("POST", "/v1/manage/callscore/criteria", json=CRITERION))
    card = _ok(
        app.request(
            "POST",
            "/v1/manage/callscore/scorecards",
            json={"name": "Support", "criteriaList": ["Symbl.Forward_Motion", criterion["id"]]},
        )
    )
    cid = _scored(app, "next_steps", scorecardId=card["id"])
    score = _ok(app.get(f"/v1/conversations/{cid}/callscore"))
    assert [c["name"] for c in score["criteria"]] == ["Forward Motion", "Issue resolution"]
    custom = score["criteria"][1]
    assert custom["id"] == criterion["id"]
    # the high-priority question is shown by the call, the low one (Paris weather) is not
    effects = [e["effect"] for e in custom["evidence"]]
    assert effects == ["positive", "negative"]
    assert custom["score"] == 75  # 3 of 3 + 1 points


def test_sales_qualification_scores_the_sales_process_and_bad_options_are_400s(
    app: Api,
) -> None:
    cid = _scored(
        app,
        "next_steps",
        conversationType="sales",
        metadata={"salesStage": "qualification", "prospectName": "Sam Patel"},
    )
    score = _ok(app.get(f"/v1/conversations/{cid}/callscore"))
    assert score["criteria"][-1]["name"] == "Sales Process"
    features = {"featureList": ["callScore"]}
    for extra, field in (
        ({"metadata": {"salesStage": "closing"}}, "salesStage"),
        ({"conversationType": "chat"}, "conversationType"),
        ({"scorecardId": "9999999999999999"}, "scorecardId"),
    ):
        body = {"messages": messages("dialogue"), "features": features} | extra
        response = app.request("POST", "/v1/process/text", json=body)
        assert response.status_code == 400 and field in response.json()["message"]


def test_call_summary_links_and_media_url(app: Api) -> None:
    cid = _scored(app, "dialogue")
    details = _ok(
        app.get(f"/v1/conversations/experiences/insights/details/{cid}?includeCallScore=true")
    )
    page = app.client.get(details["url"].replace(app.base_url, "") + "/data")
    assert page.status_code == 200 and page.json()["conversation"]["id"] == cid
    assert page.json()["callScore"] == _ok(app.get(f"/v1/conversations/{cid}/callscore"))
    listed = _ok(app.get("/v1/conversations/experiences/insights/list?includeCallScore=true"))
    assert listed["url"].startswith(app.base_url)
    url = "https://media.example.com/call.mp3"
    assert _ok(app.request("PUT", f"/v1/conversations/{cid}/experiences/url", json={"url": url}))
    bad = app.request("PUT", f"/v1/conversations/{cid}/experiences/url", json={"url": "x"})
    assert bad.status_code == 400 and '"url"' in bad.json()["message"]


def test_symbl_rest_reads_the_call_score_unmodified(app: Api) -> None:
    import symbl_rest

    cid = _scored(app, "dialogue")
    config = symbl_rest.Configuration()
    config.host = app.base_url
    config.api_key["x-api-key"] = app.token()
    conversations = symbl_rest.ConversationsApi(symbl_rest.ApiClient(config))
    status = conversations.get_call_score_status_by_conversation_id(cid)
    assert status.status == "completed" and status.job_id
    score = conversations.get_call_score_by_conversation_id(cid)
    assert isinstance(score, symbl_rest.CallScoreResponse)
    assert 0 < score.score <= 100 and score.summary
    assert score.criteria[0].name == "Communication and Engagement"
    assert score.criteria[0].feedback.positive.summary
