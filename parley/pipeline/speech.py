"""Speech: voice activity detection + Whisper → timed, punctuated words.

Uses faster-whisper's batched pipeline: Silero VAD (ONNX, bundled with
faster-whisper) cuts the audio into speech chunks that are decoded in batches.
Decoding is deterministic (temperature 0, no conditioning on previous text),
which was both faster and more accurate here than faster-whisper's default
temperature fallback (see the project's offline-models notes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from parley.pipeline.models import WhisperRuntime
from parley.pipeline.schema import SAMPLE_RATE, ProgressCallback, Word

__all__ = ["SpeechOptions", "SpeechResult", "recognize"]

log = logging.getLogger(__name__)

#: Voice-detected speech this long with no word within ``_WORD_REACH`` of it is decoded again.
_MIN_LOST_SPEECH = 2.0
_WORD_REACH = 1.0


@dataclass(frozen=True)
class SpeechOptions:
    """How to recognise one stretch of audio.

    Attributes:
        language: Whisper language code, or None to detect it.
        vocabulary: terms to bias recognition towards (Symbl's customVocabulary).
        phone: tune voice detection for narrow-band telephone audio (mode=phone).
    """

    language: str | None = None
    vocabulary: tuple[str, ...] = ()
    phone: bool = False


@dataclass(frozen=True)
class SpeechResult:
    words: tuple[Word, ...]
    language: str | None
    language_probability: float


def _vad_parameters(options: SpeechOptions) -> dict[str, float]:
    if options.phone:
        # Telephone speech is quieter and band-limited: a lower threshold keeps
        # soft onsets, a longer pad keeps clipped word endings.
        return {"threshold": 0.35, "speech_pad_ms": 500, "min_silence_duration_ms": 1500}
    # 800 ms of padding gives Whisper context around each speech chunk: on the 14-minute
    # read-speech bench it took WER from 3.2 % to 2.7 % at the same speed.
    return {"threshold": 0.5, "speech_pad_ms": 800, "min_silence_duration_ms": 2000}


def recognize(
    samples: np.ndarray,
    *,
    runtime: WhisperRuntime,
    options: SpeechOptions = SpeechOptions(),
    progress: ProgressCallback | None = None,
) -> SpeechResult:
    """Transcribe mono 16 kHz samples into words with times in seconds."""
    duration = len(samples) / SAMPLE_RATE
    if duration < 0.1 or not np.any(samples):
        return SpeechResult(words=(), language=options.language, language_probability=0.0)
    hotwords = ", ".join(options.vocabulary) or None
    common = dict(
        language=options.language,
        beam_size=runtime.beam_size,
        temperature=0.0,
        condition_on_previous_text=False,
        word_timestamps=True,
        vad_filter=True,
        vad_parameters=_vad_parameters(options),
        hotwords=hotwords,
    )
    if runtime.batch_size > 1:
        segments, info = runtime.batched.transcribe(
            samples, batch_size=runtime.batch_size, **common
        )
    else:
        segments, info = runtime.model.transcribe(samples, **common)
    words = _words(segments, duration, progress)
    if runtime.batch_size > 1:
        words = _recover_skipped_speech(samples, words, runtime, common, info.language)
    return SpeechResult(
        words=tuple(words), language=info.language, language_probability=info.language_probability
    )


def _words(
    segments: Any, duration: float, progress: ProgressCallback | None, offset: float = 0.0
) -> list[Word]:
    words: list[Word] = []
    for segment in segments:
        for w in segment.words or ():
            text = w.word.strip()
            if text:
                words.append(
                    Word(
                        text=text,
                        start=round(float(w.start) + offset, 3),
                        end=round(float(w.end) + offset, 3),
                        probability=round(float(w.probability), 4),
                    )
                )
        if progress is not None:
            progress(min(segment.end / duration, 1.0))
    return words


def _recover_skipped_speech(
    samples: np.ndarray,
    words: list[Word],
    runtime: WhisperRuntime,
    common: dict[str, Any],
    language: str | None,
) -> list[Word]:
    """Decode again, sequentially, any detected speech the batched pass returned no words for.

    The batched pipeline decodes each VAD chunk (up to 30 s) as one untimed segment, and
    Whisper sometimes ends such a segment after its first sentence: the rest of the chunk is
    silently dropped (faster-whisper issue #485; bench/asr.py --quick lost 58 of 143 words
    this way). The sequential decoder seeks past what it has transcribed and carries on, so
    the spans VAD calls speech but no word covers are handed to it.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    # A second VAD pass: the batched pipeline keeps its speech map to itself, and handing it
    # ours as clip_timestamps changes how it cuts chunks. It costs ~2 s per 14 min of audio.
    step = 0.01
    n = int(len(samples) / SAMPLE_RATE / step) + 1
    speech = np.zeros(n, dtype=bool)
    for seg in get_speech_timestamps(samples, VadOptions(**common["vad_parameters"])):
        speech[int(seg["start"] / SAMPLE_RATE / step) : int(seg["end"] / SAMPLE_RATE / step)] = True
    for w in words:
        a = max(0, int((w.start - _WORD_REACH) / step))
        speech[a : int((w.end + _WORD_REACH) / step) + 1] = False
    edges = np.flatnonzero(np.diff(np.concatenate([[0], speech.astype(np.int8), [0]])))
    spans = [
        (a * step, b * step)
        for a, b in zip(edges[::2], edges[1::2], strict=True)
        if (b - a) * step >= _MIN_LOST_SPEECH
    ]
    if not spans:
        return words
    options = {k: v for k, v in common.items() if k not in ("vad_filter", "vad_parameters")}
    options["language"] = language
    recovered: list[Word] = []
    for start, end in spans:
        a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        segments, _ = runtime.model.transcribe(samples[a:b], vad_filter=False, **options)
        recovered += _words(segments, end - start, None, offset=start)
    log.info(
        "speech: %d words recovered from %d span(s) (%.1f s) the batched decoder skipped",
        len(recovered),
        len(spans),
        sum(e - s for s, e in spans),
    )
    return sorted(words + recovered, key=lambda w: (w.start, w.end))
