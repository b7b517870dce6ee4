"""Conversation-level operations shared by the worker and the API.

Insights are a function of the whole conversation (all appended inputs), its members and
the app's trackers and custom entities, so they are recomputed from the stored sentences:
after each job, after a member rename or speaker events, and on request, without
transcribing again. A change to the app's custom entities re-detects them in a
conversation when its entities are next read (``current_entities``).

Every recomputation runs in three steps, so no database transaction is held while spaCy,
the sentence encoder or an LLM endpoint work:

1. ``gather``: read what the insights need, in one short read;
2. ``compute``: run the detectors, with no session open;
3. ``apply``: write phrases, sentiment and the insight rows, in one short transaction.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parley import ids
from parley.errors import NotFound
from parley.insights import (
    CallScoreSpec,
    ChecklistQuestion,
    ConversationInsights,
    CriterionSpec,
    CustomEntity,
    EntitySpec,
    InsightOptions,
    LlmSettings,
    Message,
    TrackerSpec,
    compute_insights,
    redaction,
)
from parley.insights import Member as InsightMember
from parley.insights import abstract_topics as abstract_topic_detector
from parley.insights import custom_entities as custom_entity_detector
from parley.insights.context import parse
from parley.insights.pool import InsightPool
from parley.options import JobOptions
from parley.pipeline.schema import Sentence
from parley.storage import Storage
from parley.storage import callscore as callscore_store
from parley.storage import conversations as store
from parley.storage import entities as entities_store
from parley.storage import jobs as jobs_store
from parley.storage.models import CallScoreScorecard, Conversation, Member, Tracker
from parley.storage.models import Message as MessageRow

__all__ = [
    "INSIGHT_KINDS",
    "InsightInput",
    "InsightModels",
    "abstract_topics",
    "apply",
    "apply_speaker_events",
    "compute",
    "current_entities",
    "ensure_summary",
    "gather",
    "redaction_candidates",
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
#: Every kind ``apply`` stores by default: the call score too (an empty row when the job
#: did not ask for one).
STORED_KINDS = (*INSIGHT_KINDS, "callscore")


@dataclass(frozen=True)
class InsightModels:
    """How this deployment computes insights, built once from the settings by
    ``parley.services``: the optional LLM endpoint and the sentence model's path."""

    llm: LlmSettings | None = None
    sentence_model: Path | None = None
    #: Where ``compute`` runs: the API's insight process, or (None, in a worker process
    #: whose purpose is this work) the calling thread.
    pool: InsightPool | None = None


#: The insight row that records which version of the app's custom-entity list the
#: conversation's entities were detected with: ``[version]``.
ENTITIES_VERSION_KIND = "entities_version"


@dataclass(frozen=True)
class InsightInput:
    """Everything ``compute`` needs, read in one go: plain data, no session."""

    conversation_id: str
    messages: tuple[Message, ...]
    options: InsightOptions
    #: The app's custom-entity list version that ``options.entity_specs`` are.
    entities_version: int = 0


def _tracker_specs(session: Session, app_id: str, options: JobOptions) -> list[TrackerSpec]:
    specs: dict[str, TrackerSpec] = {}
    stored = {t.id: t for t in session.scalars(select(Tracker).where(Tracker.app_id == app_id))}

    def spec(tracker: Tracker) -> TrackerSpec:
        return TrackerSpec(id=tracker.id, name=tracker.name, vocabulary=tuple(tracker.vocabulary))

    if options.enable_all_trackers:
        for t in stored.values():
            specs[t.id] = spec(t)
    for index, item in enumerate(options.trackers):
        if "id" in item:
            tracker = stored.get(str(item["id"]))
            if tracker is not None:
                specs[tracker.id] = spec(tracker)
            continue
        by_name = next((t for t in stored.values() if t.name == item["name"]), None)
        tracker_id = by_name.id if by_name else f"{index + 1:016d}"
        specs[tracker_id] = TrackerSpec(
            id=tracker_id, name=item["name"], vocabulary=tuple(item["vocabulary"])
        )
    return list(specs.values())


def _entity_specs(session: Session, app_id: str) -> tuple[EntitySpec, ...]:
    """The app's custom entities (read in the session that read their list's version)."""
    return tuple(
        EntitySpec(id=e.id, type=e.type, sub_type=e.sub_type, values=tuple(e.values))
        for e in entities_store.list_entities(session=session, app_id=app_id)
    )


def _call_score_spec(session: Session, app_id: str, options: JobOptions) -> CallScoreSpec | None:
    """What the call is scored on: the scorecard's criteria (managed ids and the app's
    custom criteria, read now), or the managed defaults without a scorecard (or once the
    scorecard is deleted)."""
    if not options.call_score:
        return None
    managed: list[str] | None = None
    custom: list[CriterionSpec] = []
    if options.scorecard_id is not None:
        card = session.get(CallScoreScorecard, options.scorecard_id)
        if card is not None and card.app_id == app_id:
            managed = []
            stored = {
                c.id: c for c in callscore_store.list_criteria(session=session, app_id=app_id)
            }
            for criterion_id in card.criteria_list:
                if criterion_id in stored:
                    row = stored[criterion_id]
                    checklist = tuple(
                        ChecklistQuestion(q["question"], q.get("priority", "medium"))
                        for q in row.checklist
                    )
                    custom.append(CriterionSpec(row.id, row.name, checklist, row.description))
                elif criterion_id.startswith("Symbl."):
                    managed.append(criterion_id)
    return CallScoreSpec(
        managed=None if managed is None else tuple(managed),
        custom=tuple(custom),
        conversation_type=options.conversation_type or "general",
        sales_stage=options.sales_stage,
        prospect_name=options.prospect_name,
    )


def _insight_member(member: Member) -> InsightMember:
    return InsightMember(id=member.id, name=member.name, email=member.email)


def gather(
    *,
    session: Session,
    conversation: Conversation,
    insight: InsightModels,
    options: JobOptions | None = None,
    new_messages: Sequence[MessageRow] = (),
    new_members: Iterable[Member] = (),
) -> InsightInput:
    """Read what the insights of ``conversation`` need.

    ``new_messages``/``new_members`` are a job's results not stored yet: the worker computes
    insights over stored + new sentences before it opens its final transaction.
    """
    options = options or JobOptions.from_json(conversation.insight_options or {})
    version = entities_store.entities_version(session=session, app_id=conversation.app_id)
    specs = _entity_specs(session, conversation.app_id) if options.detect_entities else ()
    members = {
        m.id: _insight_member(m)
        for m in [
            *store.list_members(session=session, conversation_id=conversation.id),
            *new_members,
        ]
    }
    rows = [*store.list_messages(session=session, conversation_id=conversation.id), *new_messages]
    messages = _messages(rows, members)
    insight_options = InsightOptions(
        confidence_threshold=options.confidence_threshold,
        detect_entities=options.detect_entities,
        detect_phrases=options.detect_phrases,
        enable_summary=options.enable_summary,
        custom_entities=tuple(
            CustomEntity(custom_type=e["customType"], text=e["text"], value=e.get("value"))
            for e in options.entities
        ),
        trackers=tuple(_tracker_specs(session, conversation.app_id, options)),
        entity_specs=specs,
        reference_time=conversation.start_time,
        timezone_offset_minutes=options.timezone_offset,
        llm=insight.llm,
        sentence_model=insight.sentence_model,
        call_score=_call_score_spec(session, conversation.app_id, options),
    )
    return InsightInput(conversation.id, messages, insight_options, version)


def _messages(rows: Sequence[MessageRow], members: dict[str, InsightMember]) -> tuple[Message, ...]:
    """The insight stage's messages, in conversation order."""
    return tuple(
        Message(
            id=r.id,
            text=r.text,
            start=r.start,
            end=r.end,
            member=members.get(r.member_id or ""),
        )
        for r in sorted(rows, key=lambda r: (r.start, r.end, r.id))
    )


def compute(data: InsightInput, pool: InsightPool | None = None) -> ConversationInsights:
    """Run the detectors (slow: spaCy, embeddings, maybe an LLM). Opens no session.

    With ``pool`` (the API process) they run in its child process, so this thread only
    waits and the API's GIL stays free (issue 23)."""
    if pool is not None:
        return pool.compute(data.messages, data.options)
    return compute_insights(list(data.messages), data.options)


def apply(
    *,
    session: Session,
    conversation_id: str,
    result: ConversationInsights,
    kinds: Sequence[str] = STORED_KINDS,
    entities_version: int | None = None,
) -> None:
    """Store computed insights: message phrases and sentiment, and one row per kind.

    ``entities_version`` is the custom-entity list version the entities were detected
    with (``InsightInput.entities_version``); it is recorded with them."""
    if "summary" not in kinds or len(kinds) > 1:
        for row in store.list_messages(session=session, conversation_id=conversation_id):
            row.phrases = result.phrases.get(row.id, [])
            row.sentiment = result.sentiments.get(row.id)
    store.set_insights(
        session=session,
        conversation_id=conversation_id,
        insights={kind: getattr(result, kind) for kind in kinds},
    )
    if "entities" in kinds and entities_version is not None:
        store.set_insights(
            session=session,
            conversation_id=conversation_id,
            insights={ENTITIES_VERSION_KIND: [entities_version]},
        )
    if result.redaction:
        _store_redaction(
            session, conversation_id, result.redaction, _texts(session, conversation_id)
        )


# -- redaction, detected once per message text (issue 23) ---------------------------------

#: The insight row that keeps ``?redact=true``'s detections, keyed by the digest of the text
#: they were computed from: ``["v2", clean, found]``, where ``clean`` is the digests of the
#: texts with nothing to mask, concatenated, and ``found`` maps a digest to its spans as one
#: string (``redaction.encode``). Flat strings, not a list of objects per message: a read
#: decodes the row in one C call that holds the GIL, and 30,000 small objects held it for
#: seconds where two long strings take milliseconds.
REDACTION_KIND = "redaction"
_FORMAT = "v2"


class _Detections:
    """A stored redaction row, decoded as far as a lookup needs."""

    def __init__(self, payload: list[Any]) -> None:
        self.found: dict[str, str] = {}
        self.clean: set[str] = set()
        if len(payload) == 3 and payload[0] == _FORMAT:
            clean, found = str(payload[1]), payload[2]
            width = redaction.DIGEST_CHARS
            self.clean = {clean[i : i + width] for i in range(0, len(clean), width)}
            self.found = {str(k): str(v) for k, v in found.items()}
            return
        for entry in payload:  # the first format: [{"id", "digest", "spans"}]
            if isinstance(entry, dict) and isinstance(entry.get("digest"), str):
                spans = entry.get("spans") or []
                if spans:
                    self.found[entry["digest"]] = redaction.encode(spans)
                else:
                    self.clean.add(entry["digest"])

    def get(self, key: str) -> list[redaction.Candidate] | None:
        """The detection of the text with digest ``key``, or None if none is stored."""
        if key in self.clean:
            return []
        encoded = self.found.get(key)
        return None if encoded is None else redaction.decode(encoded)

    def encoded(self, key: str) -> str | None:
        if key in self.clean:
            return ""
        return self.found.get(key)


def _texts(session: Session, conversation_id: str) -> dict[str, str]:
    """Each message's text: two columns, not whole rows (a read of 30,000 messages)."""
    rows = session.execute(
        select(MessageRow.id, MessageRow.text).where(MessageRow.conversation_id == conversation_id)
    )
    return {message_id: text for message_id, text in rows}


def _store_redaction(
    session: Session,
    conversation_id: str,
    found: dict[str, list[redaction.Candidate]],
    texts: dict[str, str],
) -> None:
    """Keep the detections of the texts of messages that still exist: a detection is used
    only for the text it was computed from, so an edited, appended or re-transcribed message
    is detected again, and a rename or a speaker move keeps it."""
    stored = _stored_redaction(session, conversation_id)
    clean: dict[str, None] = {}
    spans: dict[str, str] = {}
    for message_id, text in texts.items():
        key = redaction.digest(text)
        fresh = found.get(message_id)
        encoded = redaction.encode(fresh) if fresh is not None else stored.encoded(key)
        if encoded == "":
            clean[key] = None
        elif encoded is not None:
            spans[key] = encoded
    store.set_insights(
        session=session,
        conversation_id=conversation_id,
        insights={REDACTION_KIND: [_FORMAT, "".join(clean), spans]},
    )


def _stored_redaction(session: Session, conversation_id: str) -> _Detections:
    return _Detections(
        store.get_insights(session=session, conversation_id=conversation_id, kind=REDACTION_KIND)
    )


def redaction_candidates(
    *, storage: Storage, app_id: str, conversation_id: str, insight: InsightModels | None = None
) -> dict[str, list[redaction.Candidate]]:
    """Per message id, what ``?redact=true`` masks from: the stored detection, or, for a
    message without a current one (stored before this was kept, or changed since), one
    computed now in one batched parse and stored, so the next read parses nothing."""
    with storage.session() as session:
        conversation = store.get_conversation(
            session=session, conversation_id=conversation_id, app_id=app_id
        )
        texts = _texts(session, conversation.id)
        stored = _stored_redaction(session, conversation.id)
    found: dict[str, list[redaction.Candidate]] = {}
    missing: list[str] = []
    for message_id, text in texts.items():
        spans = stored.get(redaction.digest(text))
        if spans is not None:
            found[message_id] = spans
        elif text:
            missing.append(message_id)
    if missing:
        pool = insight.pool if insight is not None else None
        if pool is not None:
            detected = pool.redaction([texts[i] for i in missing])
        else:
            docs = parse([texts[i] for i in missing], whole=True)
            detected = [
                redaction.candidates(texts[i], d) for i, d in zip(missing, docs, strict=True)
            ]
        fresh = dict(zip(missing, detected, strict=True))
        found.update(fresh)
        with storage.session() as session:
            if session.get(Conversation, conversation_id) is not None:
                _store_redaction(session, conversation_id, fresh, _texts(session, conversation_id))
    return found


def refresh_insights(
    *,
    storage: Storage,
    conversation_id: str,
    insight: InsightModels,
    options: JobOptions | None = None,
) -> None:
    """Recompute and store every insight kind of a stored conversation (three steps)."""
    with storage.session() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            return
        data = gather(session=session, conversation=conversation, insight=insight, options=options)
    result = compute(data, insight.pool)
    with storage.session() as session:
        if session.get(Conversation, conversation_id) is not None:  # not deleted meanwhile
            apply(
                session=session,
                conversation_id=conversation_id,
                result=result,
                entities_version=data.entities_version,
            )


def ensure_summary(
    *, storage: Storage, conversation: Conversation, insight: InsightModels
) -> list[Any]:
    """The stored summary, generated and kept on first request if the job made none.

    Only the summary row is written: reading a summary never changes other insights.
    """
    with storage.session() as session:
        summary = store.get_insights(
            session=session, conversation_id=conversation.id, kind="summary"
        )
        if summary or not store.message_count(session=session, conversation_id=conversation.id):
            return summary
        options = JobOptions.from_json(
            {**(conversation.insight_options or {}), "enable_summary": True}
        )
        data = gather(session=session, conversation=conversation, insight=insight, options=options)
    result = compute(data, insight.pool)
    with storage.session() as session:
        if session.get(Conversation, conversation.id) is not None:
            apply(
                session=session, conversation_id=conversation.id, result=result, kinds=["summary"]
            )
    return result.summary


# -- abstract topics, matched when first read ---------------------------------------------

#: The insight row that keeps a conversation's abstract topics: ``[stamp, topics]``, where
#: ``stamp`` is the digest of what they were matched from (``_abstract_stamp``).
ABSTRACT_TOPICS_KIND = "abstract_topics"


def _abstract_stamp(messages: Sequence[Message], sentence_model: Path | None) -> str:
    """Digest of the messages' ids and texts, the theme list and the sentence model: the
    stored topics are current while it is unchanged (names and times do not count)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{abstract_topic_detector.themes_digest()}\0{sentence_model or ''}\0".encode())
    for m in messages:
        h.update(f"{m.id}\0{m.text}\0".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def abstract_topics(
    *, storage: Storage, app_id: str, conversation_id: str, insight: InsightModels
) -> list[Any]:
    """The conversation's abstract topics (Symbl Labs), matched on first read and kept.

    A Labs endpoint few clients call, so the sentence model runs only for conversations
    that are asked about, not in every job's insight stage; in the API it runs in the
    insight process, like every other recomputation. The result is kept with the digest
    of the texts it came from, so a later read serves it until a job, an append or a model
    or theme-list change makes the texts or the digest differ, and then matches again.
    """
    with storage.session() as session:
        conversation = store.get_conversation(
            session=session, conversation_id=conversation_id, app_id=app_id
        )
        stored = store.get_insights(
            session=session, conversation_id=conversation.id, kind=ABSTRACT_TOPICS_KIND
        )
        rows = store.list_messages(session=session, conversation_id=conversation.id)
        messages = _messages(rows, {})
    if not messages:
        return []
    stamp = _abstract_stamp(messages, insight.sentence_model)
    if len(stored) == 2 and stored[0] == stamp:
        return list(stored[1])
    if insight.pool is not None:
        found = insight.pool.abstract_topics(messages, insight.sentence_model)
    else:
        found = abstract_topic_detector.detect(messages, insight.sentence_model)
    with storage.session() as session:
        if session.get(Conversation, conversation_id) is not None:  # not deleted meanwhile
            store.set_insights(
                session=session,
                conversation_id=conversation_id,
                insights={ABSTRACT_TOPICS_KIND: [stamp, found]},
            )
    return found


# -- custom entities, re-detected after the app's list changed ------------------------------


def _stored_custom(item: Any) -> bool:
    """An entity item found from the app's stored custom entities (not from the job's
    ``entities`` option, whose items carry ``customType``)."""
    return (
        isinstance(item, dict)
        and item.get("category") == custom_entity_detector.CATEGORY
        and "customType" not in item
    )


def current_entities(
    *, storage: Storage, app_id: str, conversation_id: str, insight: InsightModels
) -> list[Any]:
    """The conversation's entities, with its custom entities detected again first when the
    app's entity list changed since they were (conversations processed with
    ``detectEntities`` only).

    Only the custom-entity detector runs again (in the insight process, like every other
    recomputation of the API), not the whole stage: the rest of the entities do not depend
    on the list. It runs when the entities are read, so a change costs nothing for
    conversations nobody reads, and a conversation is read as of the newest list. While a
    job of the conversation runs, the stored entities are served: its end detects them
    with the newest list. The result is stored only if nothing changed meanwhile (no job
    started or ended, no other detection stored), else it is served and the next read
    detects again.
    """
    with storage.session() as session:
        conversation = store.get_conversation(
            session=session, conversation_id=conversation_id, app_id=app_id
        )
        items = store.get_insights(
            session=session, conversation_id=conversation.id, kind="entities"
        )
        stamp = store.get_insights(
            session=session, conversation_id=conversation.id, kind=ENTITIES_VERSION_KIND
        )
        version = entities_store.entities_version(session=session, app_id=app_id)
        options = JobOptions.from_json(conversation.insight_options or {})
        if not options.detect_entities or (stamp or [0]) == [version]:
            return items
        if jobs_store.active_in_conversation(session=session, conversation_id=conversation.id):
            return items
        specs = _entity_specs(session, app_id)
        rows = store.list_messages(session=session, conversation_id=conversation.id)
        messages, reference = _messages(rows, {}), conversation.start_time
    if insight.pool is not None:
        found = insight.pool.custom_entities(messages, specs, reference)
    else:
        found = custom_entity_detector.detect(messages, specs, reference)
    with storage.session() as session:
        if session.get(Conversation, conversation_id) is None:
            return items
        current = store.get_insights(
            session=session, conversation_id=conversation_id, kind="entities"
        )
        fresh = [i for i in current if not _stored_custom(i)] + found
        unchanged = (
            store.get_insights(
                session=session, conversation_id=conversation_id, kind=ENTITIES_VERSION_KIND
            )
            == stamp
            and store.message_count(session=session, conversation_id=conversation_id) == len(rows)
            and not jobs_store.active_in_conversation(
                session=session, conversation_id=conversation_id
            )
        )
        if unchanged:
            store.set_insights(
                session=session,
                conversation_id=conversation_id,
                insights={"entities": fresh, ENTITIES_VERSION_KIND: [version]},
            )
    return fresh


# -- members and speakers ----------------------------------------------------------------


def update_member(
    *,
    storage: Storage,
    app_id: str,
    conversation_id: str,
    member_id: str,
    name: str,
    email: str | None,
    insight: InsightModels,
) -> None:
    """Rename a member; if ``email`` belongs to another member, merge into that one.

    Merging moves every message to the other member and removes this one, which is how a
    "Speaker 1" of an appended file becomes a known person. Insights are recomputed after
    the rename is committed.
    """
    with storage.session() as session:
        conversation = store.get_conversation(
            session=session, conversation_id=conversation_id, app_id=app_id
        )
        members = store.list_members(session=session, conversation_id=conversation.id)
        member = next((m for m in members if m.id == member_id), None)
        if member is None:
            raise NotFound(f"Member with id: {member_id} not found in this conversation.")
        target = store.find_by_email(members, email, exclude=member.id)
        if target is not None:
            store.move_messages(
                session=session, conversation_id=conversation.id, source=member, target=target
            )
            target.name = name or target.name
            session.delete(member)
        else:
            member.name = name
            member.email = email if email is not None else member.email
    _refresh_unless_busy(storage, conversation_id, insight)


def _refresh_unless_busy(storage: Storage, conversation_id: str, insight: InsightModels) -> None:
    """Recompute now, unless a job of the conversation runs: it recomputes when it ends."""
    with storage.session() as session:
        busy = jobs_store.active_in_conversation(session=session, conversation_id=conversation_id)
    if not busy:
        refresh_insights(storage=storage, conversation_id=conversation_id, insight=insight)


def apply_speaker_events(
    *,
    storage: Storage,
    app_id: str,
    conversation_id: str,
    events: list[dict[str, Any]],
    insight: InsightModels,
) -> None:
    """Attribute each message to the user speaking most during it (Symbl speaker events).

    ``events`` are validated ``{"type", "user": {"id"?, "name"?, "email"?},
    "offset": seconds}`` dicts. Turns without a stop run to the end.
    """
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
    with storage.session() as session:
        conversation = store.get_conversation(
            session=session, conversation_id=conversation_id, app_id=app_id
        )
        members = store.list_members(session=session, conversation_id=conversation.id)
        resolved: dict[str, Member] = {}
        for key, user in users.items():
            member = next((m for m in members if user.get("id") and m.id == user["id"]), None)
            member = member or store.find_by_email(members, user.get("email"))
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
                    max(0.0, min(message.end, end) - max(message.start, start))
                    for start, end in spans
                )
                if overlap > best_overlap:
                    best, best_overlap = key, overlap
            if best is not None:
                message.member_id = resolved[best].id
    _refresh_unless_busy(storage, conversation_id, insight)


def message_spec(sentence: Sentence, *, offset: float, label: str | None) -> store.MessageSpec:
    """A heard sentence as a stored message, its times shifted by ``offset`` (where its
    audio starts in the conversation): one shape for a processed file and a live final."""
    return store.MessageSpec(
        text=sentence.text,
        start=round(offset + sentence.start, 3),
        end=round(offset + sentence.end, 3),
        label=label,
        words=[
            {
                "word": w.text,
                "start": round(offset + w.start, 3),
                "end": round(offset + w.end, 3),
                "score": w.probability,
            }
            for w in sentence.words
        ],
    )
