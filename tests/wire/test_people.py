"""One function for a participant on the wire: the insight stage stores and the API serves
the same ``from`` (``userId`` null without an e-mail), ``assignee`` and member shapes."""

from __future__ import annotations

from parley.api.present import member_json, with_people
from parley.insights.people import person_json as insight_person_json
from parley.storage.models import Member
from parley_client.wire import ActionItemList, QuestionList, person_json


def _member(email: str | None) -> Member:
    return Member(id="m-1", conversation_id="c", name="Omar", email=email)


def test_the_insight_stage_and_the_api_use_the_same_function() -> None:
    assert insight_person_json is person_json


def test_a_served_from_carries_user_id_null_without_an_email() -> None:
    stored = [{"id": "q", "from": {"id": "m-1", "name": "Old name", "userId": None}}]
    (served,) = with_people(stored, {"m-1": _member(None)})
    assert served["from"] == {"id": "m-1", "name": "Omar", "userId": None}


def test_a_served_from_and_assignee_with_an_email() -> None:
    stored = [{"from": {"id": "m-1"}, "assignee": {"id": "m-1", "name": "x"}}]
    (served,) = with_people(stored, {"m-1": _member("o@example.com")})
    assert served["from"] == {"id": "m-1", "name": "Omar", "userId": "o@example.com"}
    assert served["assignee"] == {"id": "m-1", "name": "Omar", "email": "o@example.com"}


def test_a_member_has_no_email_key_without_one() -> None:
    assert member_json(_member(None)) == {"id": "m-1", "name": "Omar"}


def test_the_models_keep_a_null_user_id_and_leave_out_what_was_not_set() -> None:
    body = {
        "questions": [
            {
                "id": "q",
                "text": "Why?",
                "type": "question",
                "score": 1,
                "messageIds": ["m"],
                "from": {"id": "m-1", "name": "Omar", "userId": None},
            }
        ]
    }
    dumped = QuestionList.model_validate(body).model_dump(mode="json", exclude_unset=True)
    assert dumped == body  # "score": 1 stays an int, userId null stays
    assert list(dumped["questions"][0]) == list(body["questions"][0])
    empty = ActionItemList.model_validate({"actionItems": []})
    assert empty.model_dump(by_alias=True) == {"actionItems": []}
