"""Chunk planning and the checks on decoded chunks, on synthetic inputs (no model)."""

from __future__ import annotations

import itertools

import numpy as np

from parley.pipeline.schema import SAMPLE_RATE, Word
from parley.pipeline.speech import (
    _FRAME,
    MAX_CHUNK_SECONDS,
    Chunk,
    SpeechOptions,
    _check,
    _vad_settings,
    plan_chunks,
)

FRAME_S = _FRAME / SAMPLE_RATE


def _probs(pattern: list[tuple[float, float]]) -> np.ndarray:
    """Speech probabilities from (seconds, probability) runs."""
    return np.concatenate([np.full(int(s / FRAME_S), p, dtype=np.float32) for s, p in pattern])


def test_chunks_never_exceed_the_maximum_and_cover_all_speech() -> None:
    # 70 s of unbroken speech with a slight dip every 7 s, then a pause, then 5 s.
    speech = np.full(int(70 / FRAME_S), 0.9, dtype=np.float32)
    speech[:: int(7 / FRAME_S)] = 0.6
    probs = np.concatenate([speech, _probs([(5, 0.0), (5, 0.9), (3, 0.0)])])
    chunks = plan_chunks(probs, len(probs) * _FRAME, _vad_settings(SpeechOptions()))
    assert len(chunks) >= 6
    for c in chunks:
        assert (c.end - c.start) / SAMPLE_RATE <= MAX_CHUNK_SECONDS + 1e-6
    speech_frames = np.concatenate([c.speech_frames for c in chunks])
    assert len(speech_frames) == int(np.sum(probs >= 0.5))  # every speech frame, once
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in itertools.pairwise(chunks))


def test_a_long_pause_ends_a_chunk_and_padding_stays_out_of_the_neighbour() -> None:
    probs = _probs([(1, 0.0), (3, 0.9), (2.5, 0.0), (3, 0.9), (1, 0.0)])
    chunks = plan_chunks(probs, len(probs) * _FRAME, _vad_settings(SpeechOptions()))
    assert len(chunks) == 2
    assert chunks[0].end <= chunks[1].start
    assert chunks[0].start / SAMPLE_RATE < 1.0  # padded before the speech
    short = _probs([(1, 0.0), (3, 0.9), (1.0, 0.0), (3, 0.9), (1, 0.0)])
    assert len(plan_chunks(short, len(short) * _FRAME, _vad_settings(SpeechOptions()))) == 1


def _chunk(start: float, end: float, speech: tuple[float, float]) -> Chunk:
    frames = np.arange(int(speech[0] / FRAME_S), int(speech[1] / FRAME_S))
    return Chunk(start=int(start * SAMPLE_RATE), end=int(end * SAMPLE_RATE), speech_frames=frames)


def _spread(texts: list[str], start: float, end: float) -> list[Word]:
    step = (end - start) / len(texts)
    return [Word(t, start + i * step, start + (i + 0.8) * step) for i, t in enumerate(texts)]


SENTENCE = "the quick brown fox jumps over the lazy dog while it sleeps".split()


def test_a_good_transcript_passes() -> None:
    chunk = _chunk(10, 20, (10.5, 19.5))
    assert _check(chunk, _spread(SENTENCE * 2, 10.5, 19.5)) is None


def test_words_outside_the_chunk_fail() -> None:
    chunk = _chunk(10, 20, (10.5, 19.5))
    words = [*_spread(SENTENCE * 2, 10.5, 19.5), Word("press", 21.0, 21.4)]
    assert _check(chunk, words).kind == "outside"


def test_a_repetition_loop_fails() -> None:
    chunk = _chunk(10, 20, (10.5, 19.5))
    looped = _spread(["thank", "you."] * 12, 10.5, 19.5)
    assert _check(chunk, looped).kind == "loop"


def test_a_sentence_said_twice_is_repetitive_not_invented() -> None:
    """Two IVR prompts that differ by one word, in one 23 s chunk: gzip ratio 2.57, above
    Whisper's 2.4. It is worth a second decode, but its words are speech, not a loop."""
    prompt = (
        "Welcome to the directory. Please enter the first three letters of your party's "
        "first name using your touch tone keypad. Use the 7 key for Q and the 9 key for Z."
    ).split()
    said = prompt + [("last" if w == "first" and i > 10 else w) for i, w in enumerate(prompt)]
    chunk = _chunk(0, 23, (0.3, 22.7))
    problem = _check(chunk, _spread(said, 0.3, 22.7))
    assert problem is not None and problem.kind == "repetitive"
    assert not problem.invents
    looped = _check(chunk, _spread(["press", "one", "now"] * 10, 0.3, 22.7))
    assert looped is not None and looped.kind == "loop" and looped.invents


def test_an_early_end_fails() -> None:
    # 14 s of speech, words only in the first 4 s: the decoder stopped after a sentence.
    chunk = _chunk(0, 15, (0.5, 14.5))
    problem = _check(chunk, _spread(SENTENCE, 0.5, 4.5))
    assert problem is not None and problem.kind in ("sparse", "uncovered")


def test_too_many_words_for_the_speech_fail() -> None:
    chunk = _chunk(0, 3, (1.0, 2.0))
    assert _check(chunk, _spread(SENTENCE, 1.0, 2.0)).kind == "dense"


def test_a_short_blip_may_hold_no_words() -> None:
    assert _check(_chunk(0, 3, (1.0, 1.6)), []) is None
