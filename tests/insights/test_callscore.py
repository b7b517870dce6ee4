"""Call score (spec R.4): the scripted calls keep their intended ordering when processed
through ``POST /v1/process/text``; the scorer's rules one by one; the LLM judging a
checklist, and falling back to the sentence model when it answers garbage."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parley.insights import CallScoreSpec, ChecklistQuestion, CriterionSpec, LlmSettings
from parley.insights.callscore import MIN_WORDS, score
from tests.conftest import Api
from tests.insights.callscore_calls import CALLS, ORDERING, messages

from .conftest import FakeLlm, make_messages


@pytest.fixture(scope="module")
def scores(api: Api) -> dict[str, dict[str, Any]]:
    """Each scripted call's ``GET …/callscore``, all submitted before any is waited on."""
    jobs = {}
    for name in CALLS:
        body = {"messages": messages(name), "features": {"featureList": ["callScore"]}}
        response = api.request("POST", "/v1/process/text", json=body)
        assert response.status_code == 201, response.text
        jobs[name] = response.json()
    out = {}
    for name, job in jobs.items():
        assert api.wait(job["jobId"])["status"] == "completed"
        answer = api.get(f"/v1/conversations/{job['conversationId']}/callscore")
        assert answer.status_code == 200, answer.text
        out[name] = answer.json()
    return out


def _value(result: dict[str, Any], criterion: str | None) -> float:
    if criterion is None:
        return float(result["score"])
    return float(next(c["score"] for c in result["criteria"] if c["name"] == criterion))


@pytest.mark.parametrize(
    ("better", "worse", "criterion"), ORDERING, ids=[f"{a}>{b}:{c}" for a, b, c in ORDERING]
)
def test_scripted_calls_keep_their_ordering(
    scores: dict[str, dict[str, Any]], better: str, worse: str, criterion: str | None
) -> None:
    assert _value(scores[better], criterion) > _value(scores[worse], criterion)


def test_the_evidence_names_what_cost_points(scores: dict[str, dict[str, Any]]) -> None:
    def negative(call: str, name: str) -> str:
        criterion = next(c for c in scores[call]["criteria"] if c["name"] == name)
        return str(criterion["feedback"]["negative"]["summary"])

    assert "monologue" in negative("monologue", "Communication and Engagement")
    assert "interrupted" in negative("interrupting", "Communication and Engagement")
    assert "No next steps" in negative("no_next_steps", "Forward Motion")
    assert "unanswered" in negative("objections_ignored", "Question Handling")
    assert "did not know" in negative("no_next_steps", "Question Handling")


# -- the scorer itself -------------------------------------------------------------------


LONG = make_messages(
    ("Ann", "Thanks for joining, Bob. Today we want to review the pilot results together."),
    ("Bob", "Great, the pilot went well and the team liked the new dashboards a lot."),
    ("Ann", "What was the hardest part of the rollout for your analysts?"),
    ("Bob", "Connecting the old warehouse took a week because of the permissions model."),
    ("Ann", "I will send you the pricing for the full rollout by Friday."),
    ("Bob", "Sounds good, and I will share it with our finance lead next week."),
)


def test_fewer_than_50_words_get_no_score() -> None:
    short = make_messages(("Ann", "Hello there."), ("Bob", "Hi, how are you?"))
    assert score(short, CallScoreSpec()) == {"status": "insufficient_words", "wordCount": 6}
    assert MIN_WORDS == 50


def test_sales_process_only_for_sales_qualification_calls() -> None:
    general = score(LONG, CallScoreSpec())
    assert [c["id"] for c in general["criteria"]] == [
        "Symbl.Communication_And_Engagement",
        "Symbl.Question_Handling",
        "Symbl.Forward_Motion",
    ]
    sales = score(LONG, CallScoreSpec(conversation_type="sales", sales_stage="qualification"))
    bant = sales["criteria"][-1]
    assert bant["id"] == "Symbl.Sales_Process"
    # budget ("pricing"), need ("hardest part" is not a BANT word: only budget here) …
    reasons = [e["reason"] for e in bant["evidence"]]
    assert "Budget was discussed" in reasons and bant["score"] % 25 == 0
    assert general["score"] == round(sum(c["score"] for c in general["criteria"]) / 3)


CHECKLIST = CriterionSpec(
    id="42",
    name="Pilot review",
    checklist=(
        ChecklistQuestion("Were the pilot results reviewed?", "high"),
        ChecklistQuestion("Was the weather in Paris discussed?", "low"),
    ),
)


def test_checklist_judged_by_the_sentence_model() -> None:
    result = score(LONG, CallScoreSpec(managed=("Symbl.Forward_Motion",), custom=(CHECKLIST,)))
    custom = result["criteria"][1]
    assert [e["effect"] for e in custom["evidence"]] == ["positive", "negative"]
    assert custom["evidence"][0]["messageIds"] == [LONG[0].id]
    assert custom["score"] == 75


def test_checklist_judged_by_the_llm(llm_server: str) -> None:
    FakeLlm.replies = [
        json.dumps(
            {
                "answers": [
                    {"index": 0, "answer": "no", "messageIds": []},
                    {"index": 1, "answer": "yes", "messageIds": [LONG[3].id, "made-up"]},
                ]
            }
        )
    ]
    settings = LlmSettings(llm_server, "tiny", timeout=5)
    spec = CallScoreSpec(managed=("Symbl.Forward_Motion",), custom=(CHECKLIST,))
    custom = score(LONG, spec, llm_settings=settings)["criteria"][1]
    assert (
        "Were the pilot results reviewed?" in FakeLlm.requests[0]["body"]["messages"][1]["content"]
    )
    assert custom["score"] == 25  # the LLM's verdicts, not the model's
    # a "no" without messages costs points with no evidence; an unknown id is dropped
    assert custom["evidence"] == [
        {
            "effect": "positive",
            "reason": '"Was the weather in Paris discussed?": yes (judged by LLM)',
            "messageIds": [LONG[3].id],
        }
    ]
    assert "pilot results" in custom["feedback"]["negative"]["summary"]


def test_llm_garbage_falls_back_to_the_sentence_model(llm_server: str) -> None:
    FakeLlm.replies = ["sorry, I cannot help"]
    settings = LlmSettings(llm_server, "tiny", timeout=5)
    spec = CallScoreSpec(managed=(), custom=(CHECKLIST,))  # a scorecard of one criterion
    result = score(LONG, spec, llm_settings=settings)
    assert len(FakeLlm.requests) == 1
    assert [c["id"] for c in result["criteria"]] == ["42"]
    assert result["criteria"][0]["score"] == result["score"] == 75


def test_a_long_call_keeps_its_evidence_and_feedback_bounded() -> None:
    lines = []
    for i in range(120):
        lines.append(("Ann", f"Question number {i}, what do you think about option {i}?"))
        lines.append(("Bob", "Hmm."))
    call = make_messages(*lines)
    asked = [{"messageIds": [m.id]} for m in call[::2]]
    spec = CallScoreSpec(managed=("Symbl.Question_Handling",))
    (handling,) = score(call, spec, questions=asked)["criteria"]
    assert handling["score"] == 15  # nothing answered: only the asking counts
    assert len(handling["evidence"]) == 50
    assert handling["feedback"]["negative"]["summary"].endswith("more.")
