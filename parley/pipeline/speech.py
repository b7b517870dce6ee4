"""Speech: voice activity detection + Whisper → timed, punctuated words.

Uses faster-whisper's batched pipeline: Silero VAD (ONNX, bundled with
faster-whisper) cuts the audio into speech chunks that are decoded in batches.
Decoding is deterministic (temperature 0, no conditioning on previous text),
which was both faster and more accurate here than faster-whisper's default
temperature fallback (see the project's offline-models notes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parley.pipeline.models import WhisperRuntime
from parley.pipeline.schema import SAMPLE_RATE, ProgressCallback, Word

__all__ = ["SpeechOptions", "SpeechResult", "recognize"]


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
    words: list[Word] = []
    for segment in segments:
        for w in segment.words or ():
            text = w.word.strip()
            if text:
                words.append(
                    Word(
                        text=text,
                        start=round(float(w.start), 3),
                        end=round(float(w.end), 3),
                        probability=round(float(w.probability), 4),
                    )
                )
        if progress is not None:
            progress(min(segment.end / duration, 1.0))
    return SpeechResult(
        words=tuple(words), language=info.language, language_probability=info.language_probability
    )
