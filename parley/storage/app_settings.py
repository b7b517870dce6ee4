"""An app's user settings, one JSON document per app (``/v1/manage/settings``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.storage.models import AppSettings

__all__ = ["get_settings", "put_settings"]


def get_settings(*, session: Session, app_id: str, for_update: bool = False) -> dict[str, Any]:
    """The app's settings (``{}`` when none were set); ``for_update`` locks the row on
    PostgreSQL, so two PATCHes of one app apply one after the other."""
    query = select(AppSettings.settings).where(AppSettings.app_id == app_id)
    if for_update:
        query = query.with_for_update()
    found = session.execute(query).scalar_one_or_none()
    return dict(found) if found else {}


def put_settings(*, session: Session, app_id: str, settings: dict[str, Any]) -> None:
    """Store the app's whole settings document."""
    row = session.get(AppSettings, app_id)
    if row is None:
        session.add(AppSettings(app_id=app_id, settings=settings))
    else:
        row.settings = settings
    session.flush()
