"""The pipeline in order: decode → speech → speakers → sentences.

``process_audio`` runs it on a file; ``process_text`` turns submitted text
messages into the same ``Transcript`` so that everything after (storage,
insights) has one shape to deal with. Insights run later, over the whole
conversation, in the job layer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from time import perf_counter
from typing import BinaryIO

from parley.pipeline.decode import decode
from parley.pipeline.models import Models
from parley.pipeline.schema import ProgressCallback, Sentence, UntranscribedSpan, Word
from parley.pipeline.sentences import split_sentences, split_text
from parley.pipeline.speech import SpeechOptions, recognize

__all__ = [
    "AudioOptions",
    "TextMessage",
    "Transcript",
    "channel_label",
    "process_audio",
    "process_text",
]

log = logging.getLogger(__name__)

#: Assumed speaking rate for text messages submitted without times.
WORDS_PER_MINUTE = 150


@dataclass(frozen=True)
class AudioOptions:
    """What the pipeline needs from a job's options.

    Attributes:
        diarize: separate speakers in a single channel.
        speaker_count: the known number of speakers (None = estimate).
        per_channel: recognise each channel on its own; words carry
            ``channel_label(n)`` as their speaker.
        max_duration: refuse audio longer than this many seconds.
    """

    speech: SpeechOptions = field(default_factory=SpeechOptions)
    diarize: bool = False
    speaker_count: int | None = None
    per_channel: bool = False
    max_duration: float | None = None


@dataclass(frozen=True)
class Transcript:
    """Sentences with times relative to the start of this input.

    ``channels`` is how many channels were recognised (for billing).
    ``untranscribed_seconds`` is the detected speech no word covers even after the
    fallback decoder (summed over channels); ``warnings`` says where, one line per
    span, written for a user. A transcript with a non-zero figure is incomplete.
    ``speakers_found`` is set when speakers were diarized: how many voices could be
    told apart and hold words (fewer than a requested count when the audio has
    fewer voices).
    """

    sentences: tuple[Sentence, ...]
    duration: float
    channels: int = 1
    language: str | None = None
    untranscribed_seconds: float = 0.0
    warnings: tuple[str, ...] = ()
    #: wall-clock seconds per stage (decode, speech, speakers), for the metrics
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    speakers_found: int | None = None


def channel_label(channel: int) -> str:
    """The speaker label of a 1-based channel in per-channel recognition."""
    return f"channel-{channel}"


def _scaled(progress: ProgressCallback | None, low: float, high: float) -> ProgressCallback:
    def report(fraction: float) -> None:
        if progress is not None:
            progress(low + (high - low) * min(max(fraction, 0.0), 1.0))

    return report


def process_audio(
    path: Path | BinaryIO,
    options: AudioOptions,
    *,
    models: Models,
    progress: ProgressCallback | None = None,
) -> Transcript:
    """Turn one audio or video file into sentences.

    Memory: ``decode`` writes the 16 kHz float32 signal (the mono mix, or one signal per
    channel) to an unlinked scratch file next to the input and maps it. That mapping is
    the one copy of the recording: speech reads it in windows, and diarization is given
    ``audio.mono`` (the mono mix, or channel 1 with per-channel recognition), the same
    mapped array, not a copy.
    """
    report = _scaled(progress, 0.0, 1.0)
    clock = perf_counter()
    audio = decode(
        path,
        per_channel=options.per_channel,
        max_duration=options.max_duration,
        scratch_dir=path.parent if isinstance(path, Path) else None,
    )
    timings = {"decode": perf_counter() - clock}
    clock = perf_counter()
    report(0.05)
    speech_end = 0.8 if options.diarize else 0.95
    words: list[Word] = []
    lost: list[UntranscribedSpan] = []
    warnings: list[str] = []
    language = options.speech.language
    speakers_found: int | None = None
    n = len(audio.channels)
    for index, samples in enumerate(audio.channels):
        span = (speech_end - 0.05) / n
        result = recognize(
            samples,
            runtime=models.whisper,
            options=options.speech,
            progress=_scaled(progress, 0.05 + index * span, 0.05 + (index + 1) * span),
        )
        language = language or result.language
        lost += result.untranscribed
        where = f"Channel {index + 1}: " if options.per_channel else ""
        warnings += [where + gap.describe() for gap in result.untranscribed]
        if options.per_channel:
            label = channel_label(index + 1)
            words.extend(replace(w, speaker=label) for w in result.words)
        else:
            words.extend(result.words)
    timings["speech"] = perf_counter() - clock
    if options.diarize and words:
        clock = perf_counter()
        from parley.pipeline.speakers import DiarizationOptions, assign_speakers, diarize

        turns = diarize(
            audio.mono,
            models=models.speakers,
            options=DiarizationOptions(num_speakers=options.speaker_count),
            progress=_scaled(progress, speech_end, 0.95),
        )
        words = assign_speakers(words, turns)
        timings["speakers"] = perf_counter() - clock
        speakers_found = len({w.speaker for w in words if w.speaker is not None})
    sentences = split_sentences(words)
    report(1.0)
    return Transcript(
        sentences=tuple(sentences),
        duration=audio.duration,
        channels=n,
        language=language,
        untranscribed_seconds=round(sum(s.speech_seconds for s in lost), 2),
        warnings=tuple(warnings),
        timings=timings,
        speakers_found=speakers_found,
    )


@dataclass(frozen=True)
class TextMessage:
    """One submitted text message; times in seconds from the conversation's start."""

    text: str
    speaker: str | None = None
    start: float | None = None
    end: float | None = None


def process_text(messages: Sequence[TextMessage], *, offset: float = 0.0) -> Transcript:
    """Split text messages into sentences, giving each a time span.

    Messages without times follow the previous one, lasting as long as their
    words take at ``WORDS_PER_MINUTE``, so ordering and talk-time analytics work.
    """
    sentences: list[Sentence] = []
    clock = offset
    for message in messages:
        parts = split_text(message.text)
        if not parts:
            continue
        counts = [len(p.split()) for p in parts]
        start = message.start if message.start is not None else clock
        if message.end is not None and message.end >= start:
            end = message.end
        else:
            end = start + sum(counts) * 60 / WORDS_PER_MINUTE
        per_word = (end - start) / max(sum(counts), 1)
        cursor = start
        for part, count in zip(parts, counts, strict=True):
            sentences.append(
                Sentence(
                    text=part,
                    start=round(cursor, 3),
                    end=round(cursor + count * per_word, 3),
                    speaker=message.speaker,
                )
            )
            cursor += count * per_word
        clock = max(clock, end)
    return Transcript(sentences=tuple(sentences), duration=max(clock - offset, 0.0))
