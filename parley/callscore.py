"""Call score (spec R.4): criteria and scorecards as Symbl checked them, and a
conversation's call score and its status.

The score itself is computed with the conversation's other insights when a job asks for it
(``features.featureList`` holds ``callScore``; ``parley.insights.callscore``) and stored as
the ``callscore`` insight row, so a read only reads. A transcript under 50 words is not
scored: its status is ``failed`` and ``GET …/callscore`` answers 400 saying so.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from parley.errors import BadRequest, NotFound
from parley.insights.callscore import MANAGED, MIN_WORDS, describe
from parley.options import JobOptions
from parley.storage import Storage
from parley.storage import callscore as store
from parley.storage import conversations as conversations_store
from parley.storage import jobs as jobs_store
from parley.storage.models import CallScoreCriterion, CallScoreScorecard, Job, JobStatus
from parley_client.wire.limits import LIMITS

__all__ = [
    "MANAGED_DESCRIPTIONS",
    "call_score",
    "call_score_status",
    "check_scorecard",
    "criterion_json",
    "insights_status",
    "managed_json",
    "scorecard_json",
    "validated_criterion",
    "validated_scorecard",
]

PRIORITIES = ("high", "medium", "low")
#: What each managed criterion measures ([docs-new] scorecard/criteria), for ``GET`` of one.
MANAGED_DESCRIPTIONS = {
    "Symbl.Communication_And_Engagement": (
        "Agenda setting, alignment, active listening and balanced talk."
    ),
    "Symbl.Question_Handling": "Answering questions and handling objections.",
    "Symbl.Forward_Motion": "Next steps, commitments and progress toward close.",
    "Symbl.Sales_Process": (
        "BANT qualification; scored by default only for sales calls in the qualification stage."
    ),
}
NOT_REQUESTED = (
    "Call score was not requested for this conversation: submit it with "
    '"features": {"featureList": ["callScore"]}.'
)


# -- criteria and scorecards -----------------------------------------------------------


def _text(body: dict[str, Any], key: str, where: str, limit: int, required: bool) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadRequest(f'"{where}{key}" is required and must be a non-empty string')
    if len(value) > limit:
        raise BadRequest(f'"{where}{key}" must be at most {limit} characters')
    return value.strip() if required else value


def _tags(body: dict[str, Any], where: str) -> list[str]:
    tags = body.get("tags")
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(
        isinstance(t, str) and 0 < len(t) <= LIMITS["name"] for t in tags
    ):
        raise BadRequest(f'"{where}tags" must be an array of non-empty strings')
    if len(tags) > LIMITS["tags"]:
        raise BadRequest(f'"{where}tags" must have at most {LIMITS["tags"]} items')
    return tags


def validated_criterion(body: Any, where: str = "") -> dict[str, Any]:
    """A criterion body → the columns to store, or a 400 naming the field."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a criteria object.")
    checklist = body.get("checklist")
    if not isinstance(checklist, list) or not checklist:
        raise BadRequest(f'"{where}checklist" is required: a non-empty array of questions')
    if len(checklist) > LIMITS["checklist"]:
        raise BadRequest(f'"{where}checklist" must have at most {LIMITS["checklist"]} questions')
    items = []
    for i, item in enumerate(checklist):
        if not isinstance(item, dict):
            raise BadRequest(f'"{where}checklist[{i}]" must be an object')
        question = _text(item, "question", f"{where}checklist[{i}].", LIMITS["string"], True)
        priority = item.get("priority", "medium")
        if priority not in PRIORITIES:
            raise BadRequest(
                f'"{where}checklist[{i}].priority" must be one of {", ".join(PRIORITIES)}'
            )
        items.append({"question": question, "priority": priority})
    return {
        "name": _text(body, "name", where, LIMITS["name"], True),
        "description": _text(body, "description", where, LIMITS["string"], False),
        "tags": _tags(body, where),
        "checklist": items,
    }


def validated_scorecard(body: Any, where: str = "") -> dict[str, Any]:
    """A scorecard body → the columns to store (its custom ids checked by
    ``check_scorecard``), or a 400 naming the field."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a scorecard object.")
    criteria = body.get("criteriaList")
    if not isinstance(criteria, list) or not criteria:
        raise BadRequest(f'"{where}criteriaList" is required: a non-empty array of criteria ids')
    if len(criteria) > LIMITS["scorecard_criteria"]:
        raise BadRequest(
            f'"{where}criteriaList" must have at most {LIMITS["scorecard_criteria"]} ids'
        )
    ids: list[str] = []
    for i, value in enumerate(criteria):
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value):
            raise BadRequest(f'"{where}criteriaList[{i}]" must be a criteria id')
        if len(str(value)) > 64:
            raise BadRequest(f'"{where}criteriaList[{i}]" must be at most 64 characters')
        if str(value) in ids:
            raise BadRequest(f'"{where}criteriaList" names {value} twice')
        ids.append(str(value))
    return {
        "name": _text(body, "name", where, LIMITS["name"], True),
        "tags": _tags(body, where),
        "criteria_list": ids,
    }


def check_scorecard(session: Session, app_id: str, item: dict[str, Any]) -> None:
    """400 naming the first id of ``criteriaList`` that is neither a managed criterion
    nor one of the app's criteria."""
    managed = [c for c in item["criteria_list"] if c.startswith("Symbl.")]
    for criterion_id in managed:
        if criterion_id not in MANAGED:
            raise BadRequest(f'"criteriaList": {criterion_id} is not a managed criteria id')
    custom = [c for c in item["criteria_list"] if c not in managed]
    missing = store.missing_criteria(session=session, app_id=app_id, criteria_ids=custom)
    if missing:
        raise BadRequest(f'"criteriaList": criteria {missing[0]} does not exist')


def criterion_json(row: CallScoreCriterion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "tags": row.tags or [],
        "checklist": row.checklist,
    }
    if row.description is not None:
        out["description"] = row.description
    return out


def managed_json(criterion_id: str) -> dict[str, Any]:
    """A managed criterion as ``GET …/criteria/{id}`` shows it (no checklist: it is
    scored from measurements, ``parley.insights.callscore``)."""
    return {
        "id": criterion_id,
        "name": MANAGED[criterion_id],
        "description": MANAGED_DESCRIPTIONS[criterion_id],
        "tags": ["managed"],
        "checklist": [],
    }


def scorecard_json(row: CallScoreScorecard) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "tags": row.tags or [],
        "criteriaList": row.criteria_list,
    }


# -- a conversation's call score -----------------------------------------------------------


def _latest_job(session: Session, app_id: str, conversation_id: str) -> Job:
    conversation = conversations_store.get_conversation(
        session=session, conversation_id=conversation_id, app_id=app_id
    )
    job = jobs_store.latest_in_conversation(session=session, conversation_id=conversation.id)
    if job is None:  # imported without a job
        raise NotFound(NOT_REQUESTED)
    return job


def insights_status(storage: Storage, app_id: str, conversation_id: str) -> dict[str, str]:
    """``…/lm-insights/status``: the insights are computed by every job, so theirs is the
    status of the conversation's latest job."""
    with storage.session() as session:
        job = _latest_job(session, app_id, conversation_id)
        return {"jobId": job.id, "status": job.status}


def call_score_status(storage: Storage, app_id: str, conversation_id: str) -> dict[str, str]:
    """``…/callscore/status``: the latest job's status; ``failed`` when it completed but
    the transcript was too short to score. 404 when no job asked for a call score."""
    with storage.session() as session:
        job = _latest_job(session, app_id, conversation_id)
        if not JobOptions.from_json(job.options or {}).call_score:
            raise NotFound(NOT_REQUESTED)
        status = job.status
        if status == JobStatus.COMPLETED:
            stored = conversations_store.get_insights(
                session=session, conversation_id=conversation_id, kind="callscore"
            )
            if not stored or stored[0].get("status") != "completed":
                status = JobStatus.FAILED
        return {"jobId": job.id, "status": status}


def call_score(storage: Storage, app_id: str, conversation_id: str) -> dict[str, Any]:
    """The stored call score; 404 while it is not computed, 400 for a transcript under
    ``MIN_WORDS`` words (Symbl scores none; Parley makes no score up)."""
    with storage.session() as session:
        job = _latest_job(session, app_id, conversation_id)
        if not JobOptions.from_json(job.options or {}).call_score:
            raise NotFound(NOT_REQUESTED)
        stored = conversations_store.get_insights(
            session=session, conversation_id=conversation_id, kind="callscore"
        )
    if job.status != JobStatus.COMPLETED or not stored:
        state = "failed" if job.status == JobStatus.FAILED else job.status
        raise NotFound(f"The call score is not ready: the job {job.id} is {state}.")
    result: dict[str, Any] = stored[0]
    if result.get("status") != "completed":
        raise BadRequest(
            f"The transcript has {result.get('wordCount', 0)} words: a call score needs at "
            f"least {MIN_WORDS}."
        )
    return describe(result)
