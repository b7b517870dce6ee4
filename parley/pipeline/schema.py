"""Typed records passed between pipeline stages.

Times are seconds from the start of the audio that a stage was given. Records
are frozen: a stage returns new records instead of changing its input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "SAMPLE_RATE",
    "DecodedAudio",
    "ProgressCallback",
    "Sentence",
    "SpeakerTurn",
    "UntranscribedSpan",
    "Word",
]

#: Every stage after decoding works on 16 kHz float32 samples.
SAMPLE_RATE = 16000

#: Stages report progress as a fraction 0..1 that only ever increases.
ProgressCallback = Callable[[float], None]


@dataclass(frozen=True)
class DecodedAudio:
    """Audio decoded to 16 kHz float32.

    Attributes:
        channels: one 1-D float32 array per channel kept (a single mono mix
            unless per-channel recognition was asked for). Each is backed by an
            unlinked scratch file (see ``decode.release``), not by RAM.
        duration: length in seconds.
        source_channels: how many channels the input file had.
        source_sample_rate: the input's sample rate before resampling.
    """

    channels: tuple[np.ndarray, ...]
    duration: float
    source_channels: int
    source_sample_rate: int

    @property
    def mono(self) -> np.ndarray:
        """The first (or only) channel."""
        return self.channels[0]


@dataclass(frozen=True)
class Word:
    """One recognised word with its timing.

    Attributes:
        text: the word as written, with punctuation attached ("Hello,").
        start, end: seconds from the start of the audio.
        probability: recogniser confidence 0..1.
        speaker: a speaker label ("SPEAKER_00", or a channel label) once
            the speakers stage has run; None before.
    """

    text: str
    start: float
    end: float
    probability: float = 1.0
    speaker: str | None = None


@dataclass(frozen=True)
class SpeakerTurn:
    """A stretch of time in which one speaker talks. Turns of different
    speakers may overlap."""

    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class Sentence:
    """One sentence: what becomes a Symbl message."""

    text: str
    start: float
    end: float
    words: tuple[Word, ...] = field(default=())
    speaker: str | None = None


@dataclass(frozen=True)
class UntranscribedSpan:
    """Speech that could not be transcribed, even by the fallback decoder.

    Attributes:
        start, end: the chunk's time range in seconds.
        speech_seconds: how much of it the voice detector called speech and no
            accepted word covers (what the result reports as not transcribed).
        reason: why the decoded text was refused, written for a user.
    """

    start: float
    end: float
    speech_seconds: float
    reason: str

    def describe(self) -> str:
        return (
            f"{self.speech_seconds:.1f} s of speech between {self.start:.1f} s and "
            f"{self.end:.1f} s could not be transcribed ({self.reason})."
        )
