"""Retention: delete what is older than ``PARLEY_RETENTION_DAYS``.

Symbl's customers expected audio not to be kept. Two scopes:

* ``audio``: the stored audio of jobs created before the cut-off (transcripts stay);
* ``conversations``: whole conversations created before the cut-off: their audio
  objects, messages, members, insights, jobs and webhook outbox rows.

Deleted is deleted: objects go from the store (S3 or files) and rows from the
database, in that order for conversations, so a failure leaves rows that the next
run deletes again rather than audio nobody points at. ``parley retention`` runs it
once (from cron or a Kubernetes CronJob).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from parley.storage import Storage
from parley.storage import conversations as store
from parley.storage.audio import conversation_key
from parley.storage.models import Conversation, Job, WebhookDelivery, utcnow

__all__ = ["Removed", "apply_retention"]

_ACTIVE = ("scheduled", "in_progress")


@dataclass(frozen=True)
class Removed:
    audio: int
    conversations: int


def _audio_keys(job: Job) -> list[str]:
    if job.source == "file" and job.input_ref:
        return [job.input_ref]
    if job.source == "url":  # fetched under the job's key
        return [conversation_key(job.conversation_id, job.id)]
    return []


def apply_retention(
    storage: Storage, *, days: float, scope: str = "audio", dry_run: bool = False
) -> Removed:
    """Delete audio (or conversations) created more than ``days`` ago; jobs still
    scheduled or running are left alone."""
    cutoff = utcnow() - timedelta(days=days)
    audio = storage.audio
    if scope == "conversations":
        with storage.session() as session:
            ids = list(
                session.scalars(select(Conversation.id).where(Conversation.created_at < cutoff))
            )
            busy = set(
                session.scalars(
                    select(Job.conversation_id).where(
                        Job.conversation_id.in_(ids), Job.status.in_(_ACTIVE)
                    )
                )
            )
        ids = [i for i in ids if i not in busy]
        if dry_run:
            return Removed(audio=0, conversations=len(ids))
        for conversation_id in ids:
            audio.delete_conversation(conversation_id)
            with storage.session() as session:
                conversation = session.get(Conversation, conversation_id)
                if conversation is None:
                    continue
                job_ids = select(Job.id).where(Job.conversation_id == conversation_id)
                session.execute(delete(WebhookDelivery).where(WebhookDelivery.job_id.in_(job_ids)))
                store.delete_conversation(session=session, conversation=conversation)
        return Removed(audio=0, conversations=len(ids))
    with storage.session() as session:
        jobs = list(
            session.scalars(
                select(Job).where(
                    Job.created_at < cutoff, Job.source != "text", Job.status.not_in(_ACTIVE)
                )
            )
        )
    removed = 0
    for job in jobs:
        for key in _audio_keys(job):
            if audio.exists(key):
                removed += 1
                if not dry_run:
                    audio.delete(key)
    return Removed(audio=removed, conversations=0)
