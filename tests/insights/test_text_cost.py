"""What a text may cost (issue 23): linear in its size, in calls that hold the GIL briefly.

spaCy's tokenizer strips affixes one at a time from each space-free chunk, so 90 KB of
``((((…555…))))`` took minutes in one GIL-holding call; parsing went through 20,000-char
pieces whose attribute ruler held the GIL for a quarter of a second each.
"""

from __future__ import annotations

import time

from parley.insights import InsightOptions, Message, compute_insights
from parley.insights.context import MAX_TOKEN_CHARS, PIECE_CHARS, get_nlp, parse

PARENS = "(" * 45_000 + "555" + ")" * 45_000


def test_a_90_kb_punctuation_run_costs_seconds_not_minutes() -> None:
    get_nlp()  # loading the model is not the text's cost
    message = Message("1", f"Ask Dana Smith tomorrow. {PARENS} Then call Bob.", 0.0, 5.0, None)
    started = time.perf_counter()
    result = compute_insights([message], InsightOptions(detect_entities=True))
    elapsed = time.perf_counter() - started
    # before: 160-180 s; now well under a second on a quiet machine
    assert elapsed < 20, f"{elapsed:.1f}s for 90 KB"
    assert set(result.redaction) == {"1"}


def test_long_runs_become_bounded_tokens_and_offsets_stay_exact() -> None:
    text = f"Hello Dana. {PARENS} Call John Smith on Friday. {'1-' * 30_000}end"
    doc = parse([text], whole=True)[0]
    assert doc.text == text
    assert max(len(t) for t in doc) <= MAX_TOKEN_CHARS
    # one token per MAX_TOKEN_CHARS of a run, not one per character
    assert len(doc) < len(text) // 50
    names = [(e.text, text[e.start_char : e.end_char]) for e in doc.ents if e.label_ == "PERSON"]
    assert all(found == at for found, at in names)
    assert any("John Smith" in found for found, _ in names), names  # after the 90 KB run


def test_ordinary_words_are_tokenized_as_before() -> None:
    text = "Don't e-mail me at 5pm; call (415) 555-0132 instead, OK?"
    assert [t.text for t in get_nlp()(text)] == [t.text for t in get_nlp().tokenizer.inner(text)]


def test_no_parse_call_sees_more_than_a_piece() -> None:
    """A long message is parsed in pieces of at most PIECE_CHARS (the GIL bound)."""
    nlp = get_nlp()
    seen: list[int] = []
    inner = nlp.tokenizer.inner

    def spy(text: str):  # the real tokenizer, recording its input length
        seen.append(len(text))
        return inner(text)

    nlp.tokenizer.inner = spy
    try:
        parse(["word " * 3_000], whole=True)
    finally:
        nlp.tokenizer.inner = inner
    assert seen and max(seen) <= PIECE_CHARS


def test_forty_kb_of_tiny_sentences_costs_seconds() -> None:
    """A text job splits ``A. A. A. …`` into one message per sentence: 13,000 messages for
    40 KB. spaCy (0.7 ms per doc) and the sentence encoder (per text) each ran once per
    message, 38 s here, 109 s for 0.1 MB through a text job; a repeated text now costs once.
    """
    from parley.insights import TrackerSpec
    from parley.pipeline.sentences import split_text

    get_nlp()
    started = time.perf_counter()
    sentences = split_text("A. " * 13_334)
    messages = [Message(str(i), s, i, i + 1.0, None) for i, s in enumerate(sentences)]
    tracker = TrackerSpec(id="1", name="Budget", vocabulary=("budget", "call Dana"))
    options = InsightOptions(detect_entities=True, enable_summary=True, trackers=(tracker,))
    result = compute_insights(messages, options)
    elapsed = time.perf_counter() - started
    assert len(messages) > 13_000 and len(result.redaction) == len(messages)
    assert elapsed < 15, f"{elapsed:.1f}s for 40 KB of tiny sentences"  # before: 38 s
