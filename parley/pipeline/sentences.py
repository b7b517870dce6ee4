"""Sentences: timed words → sentences (Symbl messages); plain text → sentences.

Whisper writes punctuation onto words, so a sentence ends at a word ending in
., ? or ! (unless it is a known abbreviation). A sentence also ends where the
speaker changes, where a long pause falls, or, for run-on speech without
punctuation, at a length cap, preferring a comma.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from parley.pipeline.schema import Sentence, Word

__all__ = ["SentenceOptions", "split_sentences", "split_text"]

_ABBREVIATIONS = frozenset(
    [
        "mr.",
        "mrs.",
        "ms.",
        "dr.",
        "prof.",
        "st.",
        "jr.",
        "sr.",
        "vs.",
        "etc.",
        "e.g.",
        "i.e.",
        "inc.",
        "ltd.",
        "co.",
        "corp.",
        "no.",
        "approx.",
        "a.m.",
        "p.m.",
        "u.s.",
        "u.k.",
        "jan.",
        "feb.",
        "mar.",
        "apr.",
        "jun.",
        "jul.",
        "aug.",
        "sep.",
        "sept.",
        "oct.",
        "nov.",
        "dec.",
    ]
)
_TERMINAL = re.compile(r"[.?!…][\"')\]]*$")


@dataclass(frozen=True)
class SentenceOptions:
    """Attributes:
    max_pause: a silence longer than this (seconds) ends a sentence.
    soft_max_words: past this many words, a comma ends the sentence.
    max_words: a sentence never runs longer than this.
    """

    max_pause: float = 1.5
    soft_max_words: int = 30
    max_words: int = 60


def _ends_sentence(word: str) -> bool:
    return bool(_TERMINAL.search(word)) and word.lower() not in _ABBREVIATIONS


def _make(words: Sequence[Word]) -> Sentence:
    text = " ".join(w.text for w in words)
    speakers = [w.speaker for w in words if w.speaker]
    speaker = max(set(speakers), key=speakers.count) if speakers else None
    return Sentence(
        text=text, start=words[0].start, end=words[-1].end, words=tuple(words), speaker=speaker
    )


def split_sentences(
    words: Sequence[Word], options: SentenceOptions = SentenceOptions()
) -> list[Sentence]:
    """Group words, in time order, into sentences."""
    sentences: list[Sentence] = []
    current: list[Word] = []
    for word in sorted(words, key=lambda w: (w.start, w.end)):
        if current:
            previous = current[-1]
            boundary = (
                word.speaker != previous.speaker
                or word.start - previous.end > options.max_pause
                or len(current) >= options.max_words
                or (len(current) >= options.soft_max_words and previous.text.endswith(","))
            )
            if boundary:
                sentences.append(_make(current))
                current = []
        current.append(word)
        if _ends_sentence(word.text):
            sentences.append(_make(current))
            current = []
    if current:
        sentences.append(_make(current))
    return sentences


def split_text(text: str) -> list[str]:
    """Split written text into sentences (Punkt, English rules), tidied up.

    Each sentence starts with a capital and ends with punctuation, since Symbl
    punctuates submitted text.
    """
    import punkt

    sentences = []
    for raw in punkt.sent_tokenize(" ".join(text.split())):
        sentence = raw.strip()
        if not sentence:
            continue
        sentence = sentence[0].upper() + sentence[1:]
        if not re.search(r"[.?!…][\"')\]]*$", sentence):
            sentence += "."
        sentences.append(sentence)
    return sentences
