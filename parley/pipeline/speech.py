"""Speech: voice activity detection + Whisper → timed, punctuated words.

Parley owns the chunking and checks what comes back, because the batched
decoder fails silently: handed a long chunk it may stop after the first
sentence, and handed speech glued together without its pauses it puts words in
the wrong recording (issue 8). So, in order:

1. **VAD, streamed.** Silero VAD (the ONNX model faster-whisper ships) runs once
   over the file in windows of 320 s, carrying its state; only one speech
   probability per 32 ms frame is kept for the whole file.
2. **Chunks cut at pauses.** Speech regions are grouped into contiguous chunks
   (real audio, pauses included, so times need no remapping) of at most
   ``MAX_CHUNK_SECONDS``; a region longer than that is cut at its quietest frame.
3. **Batched decoding** of ``batch_size`` chunks at a time (temperature 0, no
   conditioning on previous text), on a window of audio that moves along the file.
4. **Checks per chunk**: every word inside the chunk's span, a plausible number of
   words per second of speech, no speech left without words, no repetition loop.
5. **Fallback** for a chunk that fails a check: faster-whisper's sequential decoder
   with timestamps, which seeks on past the last sentence it decoded (so it cannot
   stop early the same way) and retries with temperature when the text loops.
   Its output is checked again; what still fails becomes an ``UntranscribedSpan``
   and is counted in ``untranscribed_seconds``, never silently dropped.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parley.pipeline.decode import release
from parley.pipeline.models import WhisperRuntime
from parley.pipeline.schema import SAMPLE_RATE, ProgressCallback, UntranscribedSpan, Word

__all__ = [
    "MAX_CHUNK_SECONDS",
    "Chunk",
    "SpeechOptions",
    "SpeechResult",
    "VadStream",
    "plan_chunks",
    "recognize",
    "speech_probabilities",
    "transcribe_clip",
]

log = logging.getLogger(__name__)

#: The longest chunk handed to the batched decoder. Whisper encodes 30 s whatever the chunk's
#: length, so short chunks cost encoder passes; long ones make the batched decoder end a chunk
#: after its first sentence, which the checks catch and the fallback decodes again, or miss.
#: Measured on the 14.4 min joined set (``bench/asr.py --sets joined --engines parley,plain
#: --max-chunk N``, 2026-12-02, load 2-6): 28 s gave 1.56x plain's speed at WER 3.1 % vs 3.3 %,
#: but under CT2_FORCE_CPU_ISA=AVX2 it lost a whole recording that the checks did not catch
#: (tests/pipeline/test_speech.py); 24 s gave 1.33x at WER 3.4 % vs 3.3 % (7 deletions vs 9,
#: no recording lost, 8 of 40 chunks decoded again) and passes the tests on both kernel
#: families; 15 s was 0.69x. Earlier, ~30 s chunks without checks lost 58 of 143 words.
MAX_CHUNK_SECONDS = 24.0

_FRAME = 512  # Silero VAD frame: 32 ms at 16 kHz
_CONTEXT = 64  # samples of the previous frame the model sees
_VAD_WINDOW_FRAMES = 10000  # 320 s per model call, as faster-whisper batches it
_FRAME_S = _FRAME / SAMPLE_RATE

# Checks on a chunk's words (see _check). Rates are words per second of detected speech
# (VAD frames above the threshold, pauses excluded).
_MAX_WORDS_PER_SECOND = 8.0
_MIN_WORDS_PER_SECOND = 0.5
_RATE_MIN_SPEECH = 4.0  # below this much speech a chunk may honestly hold no words
_SPAN_SLACK = 0.5  # seconds a word may reach past the chunk's edge
_WORD_REACH = 0.5  # speech within this of a word counts as covered
# Speech with no word near it: more than _MAX_UNCOVERED sends a chunk to the fallback
# (the batched decoder dropped "Press 1 to prepend the message," - 1.9 s of speech - off
# the end of a 12.8 s chunk); more than _LOST_UNCOVERED after the fallback is reported as
# untranscribed. Below that it is a breath, a laugh or a word Whisper rightly skipped.
_MAX_UNCOVERED = 1.0
_LOST_UNCOVERED = 2.0
_MAX_COMPRESSION = 2.4  # Whisper's own repetition threshold (gzip ratio of the text)
_FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
_STRETCH_PAD = 0.4  # seconds of context around speech the fallback decodes on its own
_MIN_STRETCH = 0.3
_NO_SPEECH = 0.6  # Whisper's no-speech probability above which a chunk is not speech


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
    """Words with times, and what could not be transcribed.

    ``untranscribed_seconds`` is the detected speech that no accepted word covers
    after the fallback; ``untranscribed`` says where and why.
    """

    words: tuple[Word, ...]
    language: str | None
    language_probability: float
    untranscribed_seconds: float = 0.0
    untranscribed: tuple[UntranscribedSpan, ...] = ()
    chunks: int = 0
    fallback_chunks: int = 0  # chunks the batched pass got wrong (decoded again)


@dataclass(frozen=True)
class _Vad:
    threshold: float
    pad: float  # seconds of context added around speech
    max_gap: float  # a pause this long ends a chunk


def _vad_settings(options: SpeechOptions) -> _Vad:
    if options.phone:
        # Telephone speech is quieter and band-limited: a lower threshold keeps
        # soft onsets, a longer pad keeps clipped word endings.
        return _Vad(threshold=0.35, pad=0.5, max_gap=1.5)
    # 800 ms of padding gives Whisper context around each speech chunk: on the 14-minute
    # read-speech bench it took WER from 3.2 % to 2.7 % at the same speed.
    return _Vad(threshold=0.5, pad=0.8, max_gap=2.0)


@dataclass
class Chunk:
    """A contiguous stretch of audio handed to the decoder, in samples."""

    start: int
    end: int
    speech_frames: np.ndarray  # frame indices (absolute) the VAD called speech
    words: list[Word] = field(default_factory=list)
    no_speech_prob: float = 0.0

    @property
    def seconds(self) -> tuple[float, float]:
        return self.start / SAMPLE_RATE, self.end / SAMPLE_RATE

    @property
    def speech_seconds(self) -> float:
        return len(self.speech_frames) * _FRAME_S


# -- 1. voice activity, streamed ----------------------------------------------------------------


def speech_probabilities(samples: np.ndarray, vad: Any) -> np.ndarray:
    """Silero's speech probability for every 32 ms frame, reading ``samples`` in windows.

    The same computation as ``faster_whisper.vad.SileroVADModel`` (previous frame's last
    64 samples as context, LSTM state carried from window to window), without holding
    the whole signal: each window is copied out, scored and released.
    """
    n = len(samples)
    step = _VAD_WINDOW_FRAMES * _FRAME
    h = np.zeros((1, 1, 128), dtype=np.float32)
    c = np.zeros((1, 1, 128), dtype=np.float32)
    context = np.zeros(_CONTEXT, dtype=np.float32)
    out: list[np.ndarray] = []
    for a in range(0, n, step):
        block = np.array(samples[a : a + step], dtype=np.float32)
        release(samples, a, a + step)
        if len(block) % _FRAME:
            block = np.pad(block, (0, _FRAME - len(block) % _FRAME))
        frames = block.reshape(-1, _FRAME)
        contexts = np.concatenate([context[None], frames[:-1, -_CONTEXT:]])
        context = frames[-1, -_CONTEXT:].copy()
        probs, h, c = vad.run(
            None, {"input": np.concatenate([contexts, frames], axis=1), "h": h, "c": c}
        )
        out.append(np.asarray(probs, dtype=np.float32).reshape(-1))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


class VadStream:
    """``speech_probabilities`` for audio that arrives in pieces (a live stream): the
    same frames, context and carried LSTM state, one probability per complete frame."""

    FRAME_SECONDS = _FRAME_S

    def __init__(self, vad: Any) -> None:
        self._vad = vad
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """The probabilities of the frames these samples complete."""
        block = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        whole = len(block) - len(block) % _FRAME
        self._pending = block[whole:].copy()
        if not whole:
            return np.zeros(0, dtype=np.float32)
        frames = block[:whole].reshape(-1, _FRAME)
        contexts = np.concatenate([self._context[None], frames[:-1, -_CONTEXT:]])
        self._context = frames[-1, -_CONTEXT:].copy()
        probs, self._h, self._c = self._vad.run(
            None,
            {"input": np.concatenate([contexts, frames], axis=1), "h": self._h, "c": self._c},
        )
        return np.asarray(probs, dtype=np.float32).reshape(-1)


# -- 2. chunks cut at pauses ----------------------------------------------------------------------


def _regions(probs: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Speech regions in frames [a, b), with hysteresis: a region starts above the
    threshold and ends below ``threshold - 0.15`` (faster-whisper's neg_threshold)."""
    low = max(threshold - 0.15, 0.01)
    regions: list[tuple[int, int]] = []
    start: int | None = None
    for i, p in enumerate(probs):
        if start is None:
            if p >= threshold:
                start = i
        elif p < low:
            regions.append((start, i))
            start = None
    if start is not None:
        regions.append((start, len(probs)))
    return regions


def _split_long(a: int, b: int, probs: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Cut a region longer than ``limit`` frames at its quietest frames."""
    pieces = []
    while b - a > limit:
        lo = a + limit // 2
        cut = lo + int(np.argmin(probs[lo : a + limit]))
        pieces.append((a, cut))
        a = cut
    pieces.append((a, b))
    return pieces


def plan_chunks(probs: np.ndarray, num_samples: int, vad: _Vad) -> list[Chunk]:
    """Group speech regions into contiguous chunks of at most ``MAX_CHUNK_SECONDS``.

    A chunk ends at a pause longer than ``vad.max_gap`` or when the next region would
    not fit. Each chunk is padded by ``vad.pad`` on both sides, but never into its
    neighbour (they meet half-way through the pause).
    """
    pad = int(vad.pad / _FRAME_S)
    limit = int((MAX_CHUNK_SECONDS - 2 * vad.pad) / _FRAME_S)
    max_gap = int(vad.max_gap / _FRAME_S)
    regions = [
        piece
        for a, b in _regions(probs, vad.threshold)
        for piece in _split_long(a, b, probs, limit)
    ]
    groups: list[list[tuple[int, int]]] = []
    for a, b in regions:
        if groups and a - groups[-1][-1][1] <= max_gap and b - groups[-1][0][0] <= limit:
            groups[-1].append((a, b))
        else:
            groups.append([(a, b)])
    total_frames = math.ceil(num_samples / _FRAME)
    chunks: list[Chunk] = []
    for i, group in enumerate(groups):
        first, last = group[0][0], group[-1][1]
        before = groups[i - 1][-1][1] if i else -pad
        after = groups[i + 1][0][0] if i + 1 < len(groups) else total_frames + pad
        a = max(first - pad, (before + first) // 2, 0)
        b = min(last + pad, (last + after + 1) // 2, total_frames)
        speech = np.concatenate([np.arange(s, e) for s, e in group])
        speech = speech[probs[speech] >= vad.threshold]
        chunks.append(
            Chunk(start=a * _FRAME, end=min(b * _FRAME, num_samples), speech_frames=speech)
        )
    return chunks


# -- 4. checks ------------------------------------------------------------------------------------


def _repeats(tokens: list[str]) -> bool:
    """A repetition loop: an n-gram repeated back to back at least 3 times, 8+ words."""
    n_words = len(tokens)
    for n in range(1, 9):
        needed = max(3, math.ceil(8 / n))
        for i in range(0, n_words - n * needed + 1):
            gram = tokens[i : i + n]
            if all(tokens[i + k * n : i + (k + 1) * n] == gram for k in range(1, needed)):
                return True
    return False


def _compression_ratio(text: str) -> float:
    data = text.encode()
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _uncovered_frames(chunk: Chunk, words: list[Word]) -> np.ndarray:
    times = chunk.speech_frames * _FRAME_S + _FRAME_S / 2
    covered = np.zeros(len(times), dtype=bool)
    for w in words:
        covered |= (times >= w.start - _WORD_REACH) & (times <= w.end + _WORD_REACH)
    return chunk.speech_frames[~covered]


@dataclass(frozen=True)
class _Problem:
    # "outside", "loop", "dense": the words are not speech. "repetitive": the text is too
    # compressible, which a loop is, but so is a speaker saying the same long sentence
    # twice ("Welcome to the directory. Please enter the first three letters of your
    # party's first name ..." then "... last name ..." in one 23 s chunk: ratio 2.5).
    # "sparse", "uncovered": too few words.
    kind: str
    message: str

    @property
    def invents(self) -> bool:
        """The words themselves are wrong (not merely too few). A chunk still repetitive
        after the fallback keeps its words: only back-to-back repeats prove a loop."""
        return self.kind in ("outside", "loop", "dense")


def _check(chunk: Chunk, words: list[Word]) -> _Problem | None:
    """Why ``words`` are not a believable transcript of ``chunk``, or None."""
    start, end = chunk.seconds
    outside = [w for w in words if w.start < start - _SPAN_SLACK or w.end > end + _SPAN_SLACK]
    if outside:
        return _Problem("outside", f"{len(outside)} word(s) timed outside their audio")
    tokens = [t for w in words for t in _tokens(w.text)]
    if _repeats(tokens):
        return _Problem("loop", "the recogniser repeated itself")
    speech = max(chunk.speech_seconds, _FRAME_S)
    if len(words) / speech > _MAX_WORDS_PER_SECOND:
        return _Problem("dense", f"{len(words)} words in {speech:.1f} s of speech")
    if speech >= _RATE_MIN_SPEECH and len(words) / speech < _MIN_WORDS_PER_SECOND:
        return _Problem("sparse", f"only {len(words)} word(s) in {speech:.1f} s of speech")
    uncovered = len(_uncovered_frames(chunk, words)) * _FRAME_S
    if uncovered > _MAX_UNCOVERED:
        return _Problem("uncovered", f"{uncovered:.1f} s of speech got no words")
    if _compression_ratio(" ".join(tokens)) > _MAX_COMPRESSION:  # last: it invents nothing
        return _Problem("repetitive", "the transcript repeats itself")
    return None


def _tokens(text: str) -> list[str]:
    return "".join(ch.lower() if ch.isalnum() or ch == "'" else " " for ch in text).split()


# -- 3./5. decoding -------------------------------------------------------------------------------


def _words(segments: Any, shift: float = 0.0) -> list[Word]:
    shift = float(shift)
    words: list[Word] = []
    for segment in segments:
        for w in segment.words or ():
            text = w.word.strip()
            if text:
                words.append(
                    Word(
                        text=text,
                        start=round(float(w.start) + shift, 3),
                        end=round(float(w.end) + shift, 3),
                        probability=round(float(w.probability), 4),
                    )
                )
    return words


def _decode_batch(
    samples: np.ndarray, chunks: list[Chunk], runtime: WhisperRuntime, common: dict[str, Any]
) -> None:
    """Decode chunks in one batch; fill each chunk's words (times in the file)."""
    pieces, clips, offsets = [], [], []
    cursor = 0
    for chunk in chunks:
        piece = np.array(samples[chunk.start : chunk.end], dtype=np.float32)
        pieces.append(piece)
        offsets.append(cursor)
        clips.append({"start": cursor / SAMPLE_RATE, "end": (cursor + len(piece)) / SAMPLE_RATE})
        cursor += len(piece)
    window = np.concatenate(pieces)
    segments, _ = runtime.batched.transcribe(
        window,
        batch_size=len(chunks),
        vad_filter=False,
        clip_timestamps=clips,
        temperature=0.0,
        **common,
    )
    starts = np.array(offsets) / SAMPLE_RATE
    for segment in segments:
        # seek is the chunk's offset in the window, in mel frames (100 per second).
        index = int(np.argmin(np.abs(starts - segment.seek / 100)))
        chunk = chunks[index]
        shift = chunk.start / SAMPLE_RATE - starts[index]
        chunk.words += _words([segment], shift)
        chunk.no_speech_prob = max(chunk.no_speech_prob, float(segment.no_speech_prob))


def _sequential(
    samples: np.ndarray, start: int, end: int, runtime: WhisperRuntime, common: dict[str, Any]
) -> list[Word]:
    piece = np.array(samples[start:end], dtype=np.float32)
    segments, _ = runtime.model.transcribe(
        piece,
        vad_filter=False,
        temperature=list(_FALLBACK_TEMPERATURES),
        condition_on_previous_text=False,
        without_timestamps=False,
        **common,
    )
    return _words(segments, start / SAMPLE_RATE)


def transcribe_clip(
    samples: np.ndarray,
    *,
    runtime: WhisperRuntime,
    language: str | None,
    vocabulary: tuple[str, ...] = (),
    final: bool = True,
) -> tuple[list[Word], str, float]:
    """One short clip (a live utterance, at most 30 s): its words (timed when ``final``),
    its text and Whisper's no-speech probability. The batch's decoding settings (language
    given, the configured beam, no conditioning on earlier text); a final decodes hotter
    when the text loops, as the fallback does. An interim (``final=False``) is greedy: a
    caption that the next one replaces within a second is not worth five beams."""
    segments, _ = runtime.model.transcribe(
        np.asarray(samples, dtype=np.float32),
        language=language,
        beam_size=runtime.beam_size if final else 1,
        word_timestamps=final,
        vad_filter=False,
        condition_on_previous_text=False,
        without_timestamps=True,
        temperature=list(_FALLBACK_TEMPERATURES) if final else 0.0,
        hotwords=", ".join(vocabulary) or None,
    )
    segments = list(segments)
    text = " ".join(s.text.strip() for s in segments if s.text.strip())
    no_speech = max((float(s.no_speech_prob) for s in segments), default=1.0)
    return (_words(segments) if final else []), text, no_speech


def _stretches(frames: np.ndarray, max_gap: int = 16) -> list[tuple[int, int]]:
    """Runs of frame indices [a, b) with gaps of at most ``max_gap`` frames (0.5 s)."""
    if not len(frames):
        return []
    breaks = np.flatnonzero(np.diff(frames) > max_gap)
    firsts = np.concatenate([[0], breaks + 1])
    lasts = np.concatenate([breaks, [len(frames) - 1]])
    return [(int(frames[f]), int(frames[last]) + 1) for f, last in zip(firsts, lasts, strict=True)]


def _fallback(
    samples: np.ndarray, chunk: Chunk, runtime: WhisperRuntime, common: dict[str, Any]
) -> list[Word]:
    """Decode a chunk the batched pass got wrong, in ways that cannot fail the same way.

    First faster-whisper's sequential decoder with timestamps and temperature fallback
    over the whole chunk: it seeks on after each sentence (no early end of the chunk)
    and decodes again hotter when the text loops. Speech it still leaves without words
    (typically a sentence at the very end of a chunk) is then decoded on its own, padded,
    so it is no longer the tail of anything; only words timed inside it are kept.
    """
    words = _sequential(samples, chunk.start, chunk.end, runtime, common)
    pad = int(_STRETCH_PAD * SAMPLE_RATE)
    for a, b in _stretches(_uncovered_frames(chunk, words)):
        if (b - a) * _FRAME_S < _MIN_STRETCH:
            continue
        lo = max(chunk.start, a * _FRAME - pad)
        hi = min(chunk.end, b * _FRAME + pad)
        found = _sequential(samples, lo, hi, runtime, common)
        t0, t1 = lo / SAMPLE_RATE, hi / SAMPLE_RATE
        overlaps = [w for w in words if w.end > t0 and w.start < t1]
        if not overlaps:
            words += [w for w in found if w.start >= t0 - _SPAN_SLACK and w.end <= t1]
    return sorted(words, key=lambda w: (w.start, w.end))


def _batches(chunks: list[Chunk], size: int) -> Iterator[list[Chunk]]:
    for i in range(0, len(chunks), size):
        yield chunks[i : i + size]


def _detect_language(
    samples: np.ndarray, chunks: list[Chunk], runtime: WhisperRuntime
) -> tuple[str, float]:
    """Detect the language on the chunk with the most speech among the first few.

    Encodes the chunk exactly as the batched decoder will (same features, same padding),
    so when that chunk is decoded alone, as a short file's only chunk is, the model's
    remembered encoding is reused instead of running the encoder a second time.
    """
    from faster_whisper.audio import pad_or_trim

    model = runtime.model
    chunk = max(chunks[:4], key=lambda c: c.speech_seconds)
    piece = np.array(samples[chunk.start : chunk.end], dtype=np.float32)
    features = np.stack([pad_or_trim(model.feature_extractor(piece)[..., :-1])])
    if not model.model.is_multilingual:
        return "en", 1.0
    token, probability = model.model.detect_language(model.encode(features))[0][0]
    return token[2:-2], float(probability)


def recognize(
    samples: np.ndarray,
    *,
    runtime: WhisperRuntime,
    options: SpeechOptions = SpeechOptions(),
    progress: ProgressCallback | None = None,
) -> SpeechResult:
    """Transcribe mono 16 kHz samples (any 1-D float32 array, file-backed is best)."""
    n = len(samples)
    vad = _vad_settings(options)
    chunks = plan_chunks(speech_probabilities(samples, runtime.vad), n, vad) if n else []
    if not chunks:
        return SpeechResult(words=(), language=options.language, language_probability=0.0)
    if options.language:
        language, probability = options.language, 1.0
    else:
        language, probability = _detect_language(samples, chunks, runtime)
    common: dict[str, Any] = dict(
        language=language,
        beam_size=runtime.beam_size,
        word_timestamps=True,
        hotwords=", ".join(options.vocabulary) or None,
    )
    words: list[Word] = []
    lost: list[UntranscribedSpan] = []
    retried = 0
    for batch in _batches(chunks, max(runtime.batch_size, 1)):
        _decode_batch(samples, batch, runtime, common)
        for chunk in batch:
            problem = _check(chunk, chunk.words)
            if problem is not None:
                retried += 1
                accepted, span = _retry(samples, chunk, problem, runtime, common)
                if span is not None:
                    lost.append(span)
                    log.warning("speech: %s", span.describe())
                chunk.words = accepted
            words += chunk.words
            if progress is not None:
                progress(min(chunk.end / n, 1.0))
        release(samples, batch[0].start, batch[-1].end)
    if retried:
        log.info("speech: %d of %d chunk(s) decoded again by the fallback", retried, len(chunks))
    words.sort(key=lambda w: (w.start, w.end))
    return SpeechResult(
        words=tuple(words),
        language=language,
        language_probability=probability,
        untranscribed_seconds=round(sum(s.speech_seconds for s in lost), 2),
        untranscribed=tuple(lost),
        chunks=len(chunks),
        fallback_chunks=retried,
    )


def _retry(
    samples: np.ndarray,
    chunk: Chunk,
    problem: _Problem,
    runtime: WhisperRuntime,
    common: dict[str, Any],
) -> tuple[list[Word], UntranscribedSpan | None]:
    """Decode a failed chunk with the fallback; say what, if anything, is still lost."""
    start, end = chunk.seconds
    log.debug("speech: chunk %.1f–%.1f s failed a check: %s", start, end, problem.message)
    words = _fallback(samples, chunk, runtime, common)
    again = _check(chunk, words)
    if again is None:
        return words, None
    kept = [] if again.invents else words
    if not kept and chunk.no_speech_prob >= _NO_SPEECH:
        return [], None  # Whisper itself calls it non-speech (noise, music): nothing lost
    uncovered = len(_uncovered_frames(chunk, kept)) * _FRAME_S
    if kept and uncovered <= _LOST_UNCOVERED:
        return kept, None  # sparse but complete: every stretch of speech has words
    return kept, UntranscribedSpan(
        start=round(start, 2),
        end=round(end, 2),
        speech_seconds=round(uncovered, 2),
        reason=again.message,
    )
