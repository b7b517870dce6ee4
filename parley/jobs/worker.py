"""The worker: runs one claimed job from its input to a stored conversation.

    input (stored audio | URL | text) → pipeline → insights → one short final transaction

The slow work (pipeline, insights) runs with no database transaction open. The results,
the insights, the final status and the final webhook event are then written in one
transaction of milliseconds, conditional on this worker still holding the job, so a job
taken over by another worker can never be stored twice. When that write fails (a full
disk, a lock timeout, a database fail-over) it is retried until the database answers;
a worker never dies of a failed write. A disk that fills while the audio is decoded is
the same outage: the processing waits for room and starts again. On any other failure
the job ends ``failed`` with a reason written for the user, and nothing of it is stored.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from parley import conversations, insights, metrics
from parley.config import Settings
from parley.errors import ParleyError, PipelineError
from parley.insights import ConversationInsights
from parley.jobs.fetch import fetch_url
from parley.jobs.webhook import WebhookDispatcher, status_event
from parley.logs import job_context
from parley.options.job import JobOptions
from parley.outbound import OutboundGuard
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
from parley.storage.audio import conversation_key
from parley.storage.models import Conversation, Job, JobStatus, Member
from parley.storage.models import Message as MessageRow
from parley.times import parse_iso

__all__ = ["JobRunner", "LostJob", "fail_reason", "notify"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: What a user reads when Parley itself failed: never an exception's text.
INTERNAL_REASON = (
    "Parley could not process this job because of an internal error; it has been logged "
    "on the server (job {job_id}). Submitting the job again may work."
)


def fail_reason(job_id: str) -> str:
    return INTERNAL_REASON.format(job_id=job_id)


def notify(
    webhooks: WebhookDispatcher, job: Job, status: JobStatus, session: Session | None = None
) -> None:
    """Queue the job's webhook event; with ``session``, in the same transaction as the
    status change, so a crash cannot commit one without the other."""
    url = job.options.get("webhook_url")
    if url:
        webhooks.send(
            url, status_event(job.id, job.conversation_id, status), key=job.id, session=session
        )


class LostJob(Exception):
    """The job is no longer this worker's (it was taken over or ended meanwhile)."""


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
        return max((parse_iso(value) - start).total_seconds(), 0.0)

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


def _disk_full(exc: Exception) -> bool:
    """Whether ``exc`` (or the error it was raised while handling) is a full disk or quota."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        seen = seen.__context__
    return False


def _warnings(transcript: Transcript) -> list[str]:
    """What a completed job tells its user: speech left out is never passed over silently."""
    if transcript.untranscribed_seconds <= 0:
        return list(transcript.warnings)
    total = (
        f"{transcript.untranscribed_seconds:.1f} s of detected speech could not be "
        "transcribed; the transcript is incomplete there."
    )
    return [total, *transcript.warnings]


@dataclass
class _Result:
    """A job's results, computed and ready for the final transaction."""

    members: dict[str, Member]
    messages: list[store.MessageSpec]
    duration: float
    billing_duration: float
    language: str | None
    insights: ConversationInsights
    #: The app's custom-entity list version the insights were computed with.
    entities_version: int = 0


class JobRunner:
    """Runs jobs; holds what a worker process keeps between jobs (models, webhooks)."""

    def __init__(
        self,
        *,
        settings: Settings,
        storage: Storage,
        models: Models,
        webhooks: WebhookDispatcher,
        worker_id: str,
        insight: conversations.InsightModels | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.models = models
        self.webhooks = webhooks
        self.insight = insight or conversations.InsightModels()
        self.worker_id = worker_id

    # -- status and webhooks ----------------------------------------------------------

    def notify(self, job: Job, status: JobStatus, session: Session | None = None) -> None:
        notify(self.webhooks, job, status, session=session)

    def warm(self) -> None:
        """Load every model now, so a worker's first job costs no more than the next
        (unless ``warm_models`` is off: then each loads at its first use)."""
        if not self.settings.warm_models:
            return
        started = time.perf_counter()
        self.models.warm()
        insights.warm(self.insight.sentence_model)
        log.info("models loaded in %.1fs", time.perf_counter() - started)

    def _progress_callback(self, job_id: str) -> Callable[[float], None]:
        last = {"value": -1.0, "time": 0.0}

        def report(fraction: float) -> None:
            value = round(fraction * 100, 1)
            now = time.monotonic()
            if value - last["value"] >= 1 and now - last["time"] >= 0.5:
                last.update(value=value, time=now)
                try:
                    with self.storage.session() as session:
                        jobs_store.set_progress(
                            session=session,
                            job_id=job_id,
                            progress=value,
                            worker_id=self.worker_id,
                        )
                except (SQLAlchemyError, OSError):  # progress is a courtesy: never fail a job
                    log.warning("could not record the progress of job %s", job_id, exc_info=True)

        return report

    # -- running ------------------------------------------------------------------------

    @contextmanager
    def _heartbeat(self, job_id: str) -> Iterator[None]:
        """Keep the job's lease fresh while it runs, so it is not taken for dead.

        This thread needs the process's GIL, so one long C call in the job would starve it
        and a live worker would be taken for dead and its job run twice (issue 23). Two
        things prevent that: no text computation holds the GIL for more than tens of
        milliseconds (``parley.insights.context``: bounded tokens, pieces and batches),
        which is what keeps a Celery worker's heartbeat fresh; and under the embedded
        queue the supervising server process heartbeats the jobs of its live children as
        well (``LocalQueue._beat_for_children``), from its own GIL, whatever a child does.
        """
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.settings.job_heartbeat_seconds):
                try:
                    with self.storage.session() as session:
                        jobs_store.heartbeat(
                            session=session, job_id=job_id, worker_id=self.worker_id
                        )
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
        """Run a job this worker has claimed (in_progress). Never raises."""
        try:
            with self.storage.session() as session:
                job = jobs_store.get_job(session=session, job_id=job_id)
                if job is None or job.status != JobStatus.IN_PROGRESS:
                    return JobStatus(job.status) if job else JobStatus.FAILED
            ids = {"job_id": job.id, "conversation_id": job.conversation_id, "app_id": job.app_id}
            with job_context(**ids):
                log.info("job %s started (attempt %d)", job.id, job.attempts)
                started = time.perf_counter()
                self.notify(job, JobStatus.IN_PROGRESS)
                with self._heartbeat(job.id):
                    status = self._run(job)
                if status != JobStatus.IN_PROGRESS:
                    self._cleanup(job)
            # -- metrics hook (issue 11) --
            if status != JobStatus.IN_PROGRESS:
                metrics.JOBS_FINISHED.labels(status=str(status)).inc()
                metrics.JOB_SECONDS.labels(status=str(status)).observe(
                    time.perf_counter() - started
                )
            for model, seconds in self.models.load_seconds.items():
                metrics.MODEL_LOAD_SECONDS.labels(model=model).set(seconds)
            return status
        except Exception:  # the last line of defence: the worker loop must go on
            log.exception("job %s could not be run", job_id)
            return JobStatus.IN_PROGRESS

    def _run(self, job: Job) -> JobStatus:
        started = time.perf_counter()
        options = JobOptions.from_json(job.options)
        warnings: list[Any] = []
        try:
            transcript = self._retrying(
                lambda: self._transcribe(job, options), job.id, retry=_disk_full, what="processing"
            )
            for stage, seconds in transcript.timings.items():  # metrics hook (issue 11)
                metrics.observe_stage(stage, seconds, transcript.duration)
            result = self._prepare(job, options, transcript)
            warnings = _warnings(transcript)
            self._retrying(lambda: self._commit(job, options, result, warnings), job.id)
            status, reason = JobStatus.COMPLETED, None
        except LostJob:
            log.warning("job %s was taken over by another worker; its result is dropped", job.id)
            return JobStatus.IN_PROGRESS
        except ParleyError as exc:
            status, reason = JobStatus.FAILED, exc.message
        except Exception:  # a bug: fail the job, keep the worker alive
            log.exception("job %s crashed", job.id)
            status, reason = JobStatus.FAILED, fail_reason(job.id)
        if status == JobStatus.FAILED:
            try:
                self._retrying(lambda: self._fail(job, reason), job.id)
            except LostJob:
                return JobStatus.IN_PROGRESS
        log.info(
            "job %s %s in %.1fs%s",
            job.id,
            status,
            time.perf_counter() - started,
            f": {reason}" if reason else "",
        )
        return status

    def _retrying(
        self,
        write: Callable[[], T],
        job_id: str,
        *,
        retry: Callable[[Exception], bool] = lambda exc: True,
        what: str = "writing the result",
    ) -> T:
        """Run ``write`` until it stops failing of an outage (a database or disk error
        ``retry`` accepts), backing off up to ``job_final_write_seconds``. A job whose work
        never lands stays in progress with a stopped heartbeat, and is taken over (counting
        an attempt) like a crashed one."""
        deadline = time.monotonic() + self.settings.job_final_write_seconds
        delay = 0.2
        while True:
            try:
                return write()
            except (SQLAlchemyError, OSError) as exc:
                if not retry(exc):
                    raise
                if time.monotonic() + delay > deadline:
                    log.error("giving up %s of job %s: %s", what, job_id, exc)
                    raise LostJob from exc
                log.warning(
                    "%s of job %s failed (%s); retrying in %.1fs",
                    what,
                    job_id,
                    type(exc).__name__,
                    delay,
                )
                time.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _fail(self, job: Job, reason: str | None) -> None:
        with self.storage.session() as session:
            if not jobs_store.finish(
                session=session,
                job_id=job.id,
                status=JobStatus.FAILED,
                reason=reason,
                worker_id=self.worker_id,
            ):
                raise LostJob
            self.notify(job, JobStatus.FAILED, session=session)

    def _transcribe(self, job: Job, options: JobOptions) -> Transcript:
        if job.kind == "text":
            with self.storage.session() as session:
                conversation = session.get(Conversation, job.conversation_id)
                if conversation is None:
                    raise PipelineError("The conversation was deleted while the job ran.")
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

    def _input_path(self, job: Job) -> Path | BinaryIO:
        """The job's audio as the store gives it: a path, or a seekable file (S3)."""
        audio = self.storage.audio
        if job.source == "url":
            key = conversation_key(job.conversation_id, job.id)
            if not audio.exists(key):  # else fetched before a restart
                key = fetch_url(
                    job.input_ref or "",
                    audio=audio,
                    conversation_id=job.conversation_id,
                    job_id=job.id,
                    timeout=self.settings.url_timeout_seconds,
                    max_bytes=self.settings.max_upload_bytes,
                    guard=OutboundGuard.from_setting(self.settings.outbound_allow),
                    deadline=self.settings.url_deadline_seconds,
                    min_rate=self.settings.url_min_bytes_per_second,
                )
            return audio.source(key)
        return audio.source(job.input_ref or "")

    def _prepare(self, job: Job, options: JobOptions, transcript: Transcript) -> _Result:
        """Shape the transcript for storage and compute the conversation's insights over
        stored + new sentences. Reads once; holds no transaction while computing."""
        with self.storage.session() as session:
            conversation = session.get(Conversation, job.conversation_id)
            if conversation is None:  # deleted while the job ran
                raise PipelineError("The conversation was deleted while the job ran.")
            existing = store.list_members(session=session, conversation_id=conversation.id)
            # Text carries absolute times; audio continues after what is stored.
            offset = 0.0 if job.kind == "text" else conversation.duration
            if job.kind == "text":  # sentences carry the author's member label already
                authors = (_text_author(m) for m in (job.input_data or {}).get("messages", []))
                by_speaker = {a.label: a for a in authors if a}
            else:
                by_speaker = _speaker_members(transcript, options, job, len(existing))
            members = store.resolve_members(
                existing, by_speaker.values(), conversation_id=conversation.id
            )
            labels = {speaker: spec.label for speaker, spec in by_speaker.items()}
            messages = [
                conversations.message_spec(
                    s, offset=offset, label=labels.get(s.speaker) if s.speaker else None
                )
                for s in transcript.sentences
            ]
            end = max((m.end for m in messages), default=0.0)
            duration = (
                offset + transcript.duration
                if job.kind != "text"
                else max(end, conversation.duration)
            )
            known = {m.id for m in existing}
            rows = [
                MessageRow(
                    id=m.id,
                    text=m.text,
                    start=m.start,
                    end=m.end,
                    member_id=members[m.label].id if m.label in members else None,
                )
                for m in messages
            ]
            data = conversations.gather(
                session=session,
                conversation=conversation,
                insight=self.insight,
                options=options,
                new_messages=rows,
                new_members=[m for m in members.values() if m.id not in known],
            )
        with metrics.stage("insights", transcript.duration):  # metrics hook (issue 11)
            insights_result = conversations.compute(data)
        return _Result(
            members=members,
            messages=messages,
            duration=duration,
            billing_duration=transcript.duration * transcript.channels,
            language=transcript.language,
            insights=insights_result,
            entities_version=data.entities_version,
        )

    def _commit(self, job: Job, options: JobOptions, result: _Result, warnings: list[Any]) -> None:
        """The final transaction: transcript, insights, status and webhook event together."""
        with self.storage.session() as session:
            conversation = session.get(Conversation, job.conversation_id)
            if conversation is None:
                raise PipelineError("The conversation was deleted while the job ran.")
            store.store_transcript(
                session=session,
                conversation=conversation,
                job_id=job.id,
                members=result.members,
                messages=result.messages,
                duration=result.duration,
                billing_duration=result.billing_duration,
                language=result.language,
            )
            if options.name:
                conversation.name = options.name
            conversation.insight_options = job.options
            conversations.apply(
                session=session,
                conversation_id=conversation.id,
                result=result.insights,
                entities_version=result.entities_version,
            )
            if not jobs_store.finish(
                session=session,
                job_id=job.id,
                status=JobStatus.COMPLETED,
                worker_id=self.worker_id,
                warnings=warnings,
            ):
                raise LostJob  # rolls the whole transaction back: nothing stored twice
            self.notify(job, JobStatus.COMPLETED, session=session)

    def _cleanup(self, job: Job) -> None:
        if job.source != "text" and not self.settings.keep_audio:
            self.storage.audio.delete(f"{job.conversation_id}/{job.id}")
