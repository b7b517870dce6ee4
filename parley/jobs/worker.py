"""The worker: runs one claimed job from its input to a stored conversation.

    input (stored audio | URL | text) → pipeline → stored conversation → insights

Results, insights and the ``completed`` status are written in one transaction;
on any failure the job ends ``failed`` with a reason and nothing of it is
stored. Every status change goes to the job's webhook; the final one is queued in the
same transaction as the final status.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from parley.config import Settings
from parley.conversations import llm_from_settings, refresh_insights
from parley.errors import ParleyError, PipelineError
from parley.jobs.fetch import fetch_url
from parley.jobs.status import JobStatus
from parley.jobs.webhook import WebhookDispatcher, status_event
from parley.options import JobOptions
from parley.pipeline.models import Models
from parley.pipeline.process import (
    AudioOptions,
    TextMessage,
    Transcript,
    channel_label,
    process_audio,
    process_text,
)
from parley.pipeline.speech import SpeechOptions
from parley.storage import Storage
from parley.storage import conversations as store
from parley.storage import jobs as jobs_store
from parley.storage.models import Conversation, Job

__all__ = ["JobRunner"]

log = logging.getLogger(__name__)


def _text_author(message: dict[str, Any]) -> store.MemberSpec | None:
    """The member a submitted text message comes from, keyed conversation-wide by
    userId (an e-mail, preferably) or name, so appended text finds the same person."""
    author = message.get("from") or {}
    name = author.get("name") or ""
    user_id = author.get("userId") or author.get("email") or author.get("id") or ""
    if not (name or user_id):
        return None
    return store.MemberSpec(
        label=f"text:{user_id or name}", name=name or user_id, email=user_id or None
    )


def _speaker_members(
    transcript: Transcript, options: JobOptions, job: Job, existing: int
) -> dict[str, store.MemberSpec]:
    """Members for the speakers an audio transcript names (diarized or per channel),
    by the pipeline's speaker label.

    Speaker labels are namespaced by job: "Speaker 1" of an appended file is a new
    member until a rename merges it (Symbl's rule).
    """
    by_channel = {c.channel: c for c in options.channel_metadata}
    specs: dict[str, store.MemberSpec] = {}
    for sentence in transcript.sentences:
        speaker = sentence.speaker
        if speaker is None or speaker in specs:
            continue
        channel = next(
            (n for n in range(1, transcript.channels + 1) if channel_label(n) == speaker), None
        )
        meta = by_channel.get(channel) if channel else None
        name = (meta.name if meta and meta.name else None) or f"Speaker {existing + len(specs) + 1}"
        specs[speaker] = store.MemberSpec(f"{job.id}:{speaker}", name, meta.email if meta else None)
    return specs


def _text_messages(data: dict[str, Any], start: datetime) -> list[TextMessage]:
    def seconds(value: str | None) -> float | None:
        if not value:
            return None
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return max((moment - start).total_seconds(), 0.0)

    result = []
    for m in data["messages"]:
        author = _text_author(m)
        duration = m.get("duration") or {}
        result.append(
            TextMessage(
                text=m["payload"]["content"],
                speaker=author.label if author else None,
                start=seconds(duration.get("startTime")),
                end=seconds(duration.get("endTime")),
            )
        )
    return result


class JobRunner:
    """Runs jobs; holds what a worker process keeps between jobs (models, webhooks)."""

    def __init__(
        self,
        *,
        settings: Settings,
        storage: Storage,
        models: Models,
        webhooks: WebhookDispatcher,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.models = models
        self.webhooks = webhooks

    # -- status and webhooks ----------------------------------------------------------

    def notify(self, job: Job, status: JobStatus, session: Session | None = None) -> None:
        """Queue the job's webhook event; with ``session``, in the same transaction as the
        status change, so a crash cannot commit one without the other."""
        url = job.options.get("webhook_url")
        if url:
            event = status_event(job.id, job.conversation_id, status)
            self.webhooks.send(url, event, key=job.id, session=session)

    def _progress_callback(self, job_id: str) -> Any:
        last = {"value": -1.0, "time": 0.0}

        def report(fraction: float) -> None:
            value = round(fraction * 100, 1)
            now = time.monotonic()
            if value - last["value"] >= 1 and now - last["time"] >= 0.5:
                last.update(value=value, time=now)
                with self.storage.session() as session:
                    jobs_store.set_progress(session=session, job_id=job_id, progress=value)

        return report

    # -- running ------------------------------------------------------------------------

    @contextmanager
    def _heartbeat(self, job_id: str) -> Iterator[None]:
        """Keep the job's lease fresh while it runs, so it is not taken for dead."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.settings.job_heartbeat_seconds):
                try:
                    with self.storage.session() as session:
                        jobs_store.heartbeat(session=session, job_id=job_id)
                except Exception:
                    log.warning("heartbeat for job %s failed", job_id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"heartbeat-{job_id[:8]}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def run(self, job_id: str) -> JobStatus:
        """Run a job that is already claimed (in_progress). Never raises."""
        with self.storage.session() as session:
            job = jobs_store.get_job(session=session, job_id=job_id)
            if job is None or job.status != JobStatus.IN_PROGRESS:
                return JobStatus(job.status) if job else JobStatus.FAILED
        log.info("job %s started (attempt %d)", job.id, job.attempts)
        self.notify(job, JobStatus.IN_PROGRESS)
        with self._heartbeat(job.id):
            status = self._run(job)
        self._cleanup(job)  # the final webhook was queued with the final status
        return status

    def _run(self, job: Job) -> JobStatus:
        started = time.perf_counter()
        try:
            transcript = self._transcribe(job)
            self._store(job, transcript)
            status, reason = JobStatus.COMPLETED, None
        except ParleyError as exc:
            status, reason = JobStatus.FAILED, exc.message
        except Exception as exc:  # a bug: fail the job, keep the server alive
            log.exception("job %s crashed", job.id)
            status, reason = JobStatus.FAILED, f"Internal error while processing: {exc!r}"
        if status == JobStatus.FAILED:
            with self.storage.session() as session:
                jobs_store.finish(session=session, job_id=job.id, status=status, reason=reason)
                self.notify(job, status, session=session)
        log.info(
            "job %s %s in %.1fs%s",
            job.id,
            status,
            time.perf_counter() - started,
            f": {reason}" if reason else "",
        )
        return status

    def _transcribe(self, job: Job) -> Transcript:
        options = JobOptions.from_json(job.options)
        if job.kind == "text":
            with self.storage.session() as session:
                conversation = session.get(Conversation, job.conversation_id)
                assert conversation is not None
                start, offset = conversation.start_time, conversation.duration
            return process_text(_text_messages(job.input_data or {}, start), offset=offset)
        path = self._input_path(job)
        audio_options = AudioOptions(
            speech=SpeechOptions(
                language=options.language,
                vocabulary=options.custom_vocabulary,
                phone=options.mode == "phone",
            ),
            diarize=options.diarization,
            speaker_count=options.speaker_count,
            per_channel=options.per_channel,
            max_duration=self.settings.max_duration_seconds,
        )
        return process_audio(
            path, audio_options, models=self.models, progress=self._progress_callback(job.id)
        )

    def _input_path(self, job: Job) -> Path:
        if job.source == "url":
            existing = self.storage.audio.path(f"{job.conversation_id}/{job.id}")
            if existing.exists():  # fetched before a restart
                return existing
            return fetch_url(
                job.input_ref or "",
                audio=self.storage.audio,
                conversation_id=job.conversation_id,
                job_id=job.id,
                timeout=self.settings.url_timeout_seconds,
                max_bytes=self.settings.max_upload_bytes,
            )
        return self.storage.audio.path(job.input_ref or "")

    def _store(self, job: Job, transcript: Transcript) -> None:
        options = JobOptions.from_json(job.options)
        with self.storage.session() as session:
            conversation = session.get(Conversation, job.conversation_id)
            if conversation is None:  # deleted while the job ran
                raise PipelineError("The conversation was deleted while the job ran.")
            # Text carries absolute times; audio continues after what is stored.
            offset = 0.0 if job.kind == "text" else conversation.duration
            if job.kind == "text":  # sentences carry the author's member label already
                authors = (_text_author(m) for m in (job.input_data or {}).get("messages", []))
                by_speaker = {a.label: a for a in authors if a}
            else:
                existing = store.list_members(session=session, conversation_id=conversation.id)
                by_speaker = _speaker_members(transcript, options, job, len(existing))
            members = list(by_speaker.values())
            labels = {speaker: spec.label for speaker, spec in by_speaker.items()}
            messages = [
                store.MessageSpec(
                    text=s.text,
                    start=round(offset + s.start, 3),
                    end=round(offset + s.end, 3),
                    label=labels.get(s.speaker) if s.speaker else None,
                    words=[
                        {
                            "word": w.text,
                            "start": round(offset + w.start, 3),
                            "end": round(offset + w.end, 3),
                            "score": w.probability,
                        }
                        for w in s.words
                    ],
                )
                for s in transcript.sentences
            ]
            end = max((m.end for m in messages), default=0.0)
            duration = (
                offset + transcript.duration
                if job.kind != "text"
                else max(end, conversation.duration)
            )
            store.store_transcript(
                session=session,
                conversation=conversation,
                job_id=job.id,
                members=members,
                messages=messages,
                duration=duration,
                billing_duration=transcript.duration * transcript.channels,
                language=transcript.language,
            )
            if options.name:
                conversation.name = options.name
            conversation.insight_options = job.options
            refresh_insights(
                session=session,
                conversation=conversation,
                llm=llm_from_settings(self.settings),
            )
            jobs_store.finish(session=session, job_id=job.id, status=JobStatus.COMPLETED)
            self.notify(job, JobStatus.COMPLETED, session=session)

    def _cleanup(self, job: Job) -> None:
        if job.source != "text" and not self.settings.keep_audio:
            self.storage.audio.delete(f"{job.conversation_id}/{job.id}")
