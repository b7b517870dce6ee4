"""Conversation-level operations shared by the worker and the API.

Insights are a function of the whole conversation (all appended inputs), its
members and the app's trackers, so they are recomputed here from the stored
sentences: after each job, after a member rename or speaker events, and on
request, without transcribing again.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parley.config import Settings
from parley.options import JobOptions
from parley.storage import conversations as store
from parley.storage.models import Conversation, Tracker

__all__ = [
    "INSIGHT_KINDS",
    "apply_speaker_events",
    "ensure_summary",
    "llm_from_settings",
    "refresh_insights",
    "update_member",
]

log = logging.getLogger(__name__)

#: The insight kinds stored per conversation (one row each).
INSIGHT_KINDS = (
    "questions",
    "action_items",
    "follow_ups",
    "topics",
    "entities",
    "trackers",
    "summary",
)


def llm_from_settings(settings: Settings) -> Any | None:
    """The optional LLM endpoint for insights, from settings (None = offline only)."""
    if not settings.llm_base_url:
        return None
    from parley.insights import LlmSettings

    return LlmSettings(
        base_url=settings.llm_base_url, model=settings.llm_model, api_key=settings.llm_api_key
    )


def _trackers(session: Session, app_id: str, options: JobOptions) -> list[Any]:
    from parley.insights import TrackerSpec

    specs: dict[str, TrackerSpec] = {}
    stored = {t.id: t for t in session.scalars(select(Tracker).where(Tracker.app_id == app_id))}
    if options.enable_all_trackers:
        for t in stored.values():
            specs[t.id] = TrackerSpec(id=t.id, name=t.name, vocabulary=tuple(t.vocabulary))
    for index, item in enumerate(options.trackers):
        if "id" in item:
            tracker = stored.get(str(item["id"]))
            if tracker is not None:
                specs[tracker.id] = TrackerSpec(
                    id=tracker.id, name=tracker.name, vocabulary=tuple(tracker.vocabulary)
                )
            continue
        by_name = next((t for t in stored.values() if t.name == item["name"]), None)
        tracker_id = by_name.id if by_name else f"{index + 1:016d}"
        specs[tracker_id] = TrackerSpec(
            id=tracker_id, name=item["name"], vocabulary=tuple(item["vocabulary"])
        )
    return list(specs.values())


def refresh_insights(
    *, session: Session, conversation: Conversation, llm: Any | None = None
) -> None:
    """Recompute and store every insight kind, plus message phrases and sentiment."""
    from parley.insights import CustomEntity, InsightOptions, Member, Message, compute_insights

    options = JobOptions.from_json(conversation.insight_options or {})
    members = {
        m.id: Member(id=m.id, name=m.name, email=m.email)
        for m in store.list_members(session=session, conversation_id=conversation.id)
    }
    rows = store.list_messages(session=session, conversation_id=conversation.id)
    messages = [
        Message(id=r.id, text=r.text, start=r.start, end=r.end, member=members.get(r.member_id))
        for r in rows
    ]
    insight_options = InsightOptions(
        confidence_threshold=options.confidence_threshold,
        detect_entities=options.detect_entities,
        detect_phrases=options.detect_phrases,
        enable_summary=options.enable_summary,
        custom_entities=tuple(
            CustomEntity(custom_type=e["customType"], text=e["text"], value=e.get("value"))
            for e in options.entities
        ),
        trackers=tuple(_trackers(session, conversation.app_id, options)),
        reference_time=conversation.start_time,
        timezone_offset_minutes=options.timezone_offset,
        llm=llm,
    )
    result = compute_insights(messages, insight_options)
    for row in rows:
        row.phrases = result.phrases.get(row.id, [])
        row.sentiment = result.sentiments.get(row.id)
    store.set_insights(
        session=session,
        conversation_id=conversation.id,
        insights={kind: getattr(result, kind) for kind in INSIGHT_KINDS},
    )


# -- members and speakers ----------------------------------------------------------------


def update_member(
    *,
    session: Session,
    conversation: Conversation,
    member_id: str,
    name: str,
    email: str | None,
    llm: Any | None = None,
) -> None:
    """Rename a member; if ``email`` belongs to another member, merge into that one.

    Merging moves every message to the other member and removes this one, which
    is how a "Speaker 1" of an appended file becomes a known person.
    """
    from parley.errors import NotFound
    from parley.storage.models import Member, Message

    members = store.list_members(session=session, conversation_id=conversation.id)
    member = next((m for m in members if m.id == member_id), None)
    if member is None:
        raise NotFound(f"Member with id: {member_id} not found in this conversation.")
    target = next(
        (
            m
            for m in members
            if email and m.email and m.email.lower() == email.lower() and m.id != member.id
        ),
        None,
    )
    if target is not None:
        for message in session.scalars(
            select(Message).where(
                Message.conversation_id == conversation.id, Message.member_id == member.id
            )
        ):
            message.member_id = target.id
        target.name = name or target.name
        session.delete(session.get(Member, member.id))
    else:
        member.name = name
        member.email = email if email is not None else member.email
    session.flush()
    refresh_insights(session=session, conversation=conversation, llm=llm)


def apply_speaker_events(
    *,
    session: Session,
    conversation: Conversation,
    events: list[dict[str, Any]],
    llm: Any | None = None,
) -> None:
    """Attribute each message to the user speaking most during it (Symbl speaker events).

    ``events`` are validated ``{"type", "user": {"id"?, "name"?, "email"?},
    "offset": seconds}`` dicts. Turns without a stop run to the end.
    """
    from parley import ids
    from parley.storage.models import Member

    members = store.list_members(session=session, conversation_id=conversation.id)
    turns: dict[str, list[list[float]]] = {}
    users: dict[str, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: e["offset"]):
        user = event["user"]
        key = user.get("id") or user.get("email") or user.get("name")
        users[key] = user
        spans = turns.setdefault(key, [])
        if event["type"] == "started_speaking":
            if not spans or spans[-1][1] != float("inf"):
                spans.append([event["offset"], float("inf")])
        elif spans and spans[-1][1] == float("inf"):
            spans[-1][1] = event["offset"]
    resolved: dict[str, Member] = {}
    for key, user in users.items():
        member = next(
            (
                m
                for m in members
                if (user.get("id") and m.id == user["id"])
                or (user.get("email") and m.email and m.email.lower() == user["email"].lower())
            ),
            None,
        )
        if member is None:
            member = Member(
                id=user.get("id") or ids.uuid_id(),
                conversation_id=conversation.id,
                name=user.get("name") or user.get("email") or "Unknown",
                email=user.get("email"),
                position=len(members) + len(resolved) + 1,
            )
            session.add(member)
        else:
            member.name = user.get("name") or member.name
            member.email = user.get("email") or member.email
        resolved[key] = member
    for message in store.list_messages(session=session, conversation_id=conversation.id):
        best, best_overlap = None, 0.0
        for key, spans in turns.items():
            overlap = sum(
                max(0.0, min(message.end, end) - max(message.start, start)) for start, end in spans
            )
            if overlap > best_overlap:
                best, best_overlap = key, overlap
        if best is not None:
            message.member_id = resolved[best].id
    session.flush()
    refresh_insights(session=session, conversation=conversation, llm=llm)


def ensure_summary(
    *, session: Session, conversation: Conversation, llm: Any | None = None
) -> list[Any]:
    """The stored summary, generated on first request if the job did not ask for one."""
    summary = store.get_insights(session=session, conversation_id=conversation.id, kind="summary")
    if summary or not store.message_count(session=session, conversation_id=conversation.id):
        return summary
    conversation.insight_options = {**(conversation.insight_options or {}), "enable_summary": True}
    refresh_insights(session=session, conversation=conversation, llm=llm)
    return store.get_insights(session=session, conversation_id=conversation.id, kind="summary")
