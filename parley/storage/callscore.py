"""Stored call-score criteria and scorecards (the Management API), each owned by one app.

Rows hold what was validated (``parley.callscore``); this module only finds, counts and
writes them. A criterion named by a scorecard cannot be deleted (409), so a stored
scorecard always names criteria that exist.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parley import ids
from parley.errors import BadRequest, Conflict, NotFound
from parley.storage.models import CallScoreCriterion, CallScoreScorecard
from parley_client.wire.limits import LIMITS

__all__ = [
    "create_criterion",
    "create_scorecard",
    "delete_criterion",
    "delete_scorecard",
    "get_criterion",
    "get_scorecard",
    "list_criteria",
    "list_scorecards",
    "missing_criteria",
    "update",
]

Row = TypeVar("Row", CallScoreCriterion, CallScoreScorecard)


def list_criteria(*, session: Session, app_id: str) -> list[CallScoreCriterion]:
    return list(
        session.scalars(
            select(CallScoreCriterion)
            .where(CallScoreCriterion.app_id == app_id)
            .order_by(CallScoreCriterion.created_at, CallScoreCriterion.id)
        )
    )


def list_scorecards(*, session: Session, app_id: str) -> list[CallScoreScorecard]:
    return list(
        session.scalars(
            select(CallScoreScorecard)
            .where(CallScoreScorecard.app_id == app_id)
            .order_by(CallScoreScorecard.created_at, CallScoreScorecard.id)
        )
    )


def get_criterion(*, session: Session, app_id: str, criterion_id: str) -> CallScoreCriterion:
    """The app's criterion, or NotFound (also for another app's)."""
    row = session.get(CallScoreCriterion, criterion_id)
    if row is None or row.app_id != app_id:
        raise NotFound(f"Criteria with id {criterion_id} not found.")
    return row


def get_scorecard(*, session: Session, app_id: str, scorecard_id: str) -> CallScoreScorecard:
    """The app's scorecard, or NotFound (also for another app's)."""
    row = session.get(CallScoreScorecard, scorecard_id)
    if row is None or row.app_id != app_id:
        raise NotFound(f"Scorecard with id {scorecard_id} not found.")
    return row


def _create(
    session: Session, model: type[Row], app_id: str, item: dict[str, Any], what: str
) -> Row:
    """A new row of ``model`` for the app, within the per-app bound."""
    count = session.scalar(select(func.count()).where(model.app_id == app_id)) or 0
    if count + 1 > LIMITS["callscore_items"]:
        raise BadRequest(f"An account can have at most {LIMITS['callscore_items']} {what}.")
    row = model(id=ids.numeric_id(), app_id=app_id, **item)
    session.add(row)
    session.flush()
    return row


def create_criterion(*, session: Session, app_id: str, item: dict[str, Any]) -> CallScoreCriterion:
    return _create(session, CallScoreCriterion, app_id, item, "call-score criteria")


def create_scorecard(*, session: Session, app_id: str, item: dict[str, Any]) -> CallScoreScorecard:
    return _create(session, CallScoreScorecard, app_id, item, "scorecards")


def update(*, session: Session, row: Row, item: dict[str, Any]) -> Row:
    """Replace the row's fields with validated ``item``."""
    for key, value in item.items():
        setattr(row, key, value)
    session.flush()
    return row


def missing_criteria(*, session: Session, app_id: str, criteria_ids: list[str]) -> list[str]:
    """Which of these custom criterion ids the app has not stored."""
    if not criteria_ids:
        return []
    found = set(
        session.scalars(
            select(CallScoreCriterion.id).where(
                CallScoreCriterion.app_id == app_id, CallScoreCriterion.id.in_(criteria_ids)
            )
        )
    )
    return [c for c in criteria_ids if c not in found]


def delete_criterion(*, session: Session, row: CallScoreCriterion) -> None:
    """Delete a criterion no scorecard names (409 naming the scorecard otherwise)."""
    for card in list_scorecards(session=session, app_id=row.app_id):
        if row.id in (card.criteria_list or []):
            raise Conflict(f"Criteria {row.id} is used by scorecard {card.id}; remove it first.")
    session.delete(row)


def delete_scorecard(*, session: Session, row: CallScoreScorecard) -> None:
    session.delete(row)
