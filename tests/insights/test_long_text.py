"""Very long messages: parsed in pieces, analysis bounded, never a failed job; and the
models can be loaded up front."""

from __future__ import annotations

import logging
import time

import pytest

from parley.insights import InsightOptions, Member, compute_insights, context, warm
from parley.insights.people import person_json
from parley.insights.redaction import MASK, redact

from .conftest import MONDAY, make_messages
from .test_insights import FULL

SENTENCE = "Maria will send the pricing deck to Tom by Friday, and we need to fix the login bug. "


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces and the analysis limit at a size a fast test can afford."""
    monkeypatch.setattr(context, "PIECE_CHARS", 2_000)
    monkeypatch.setattr(context, "MAX_PARSED_CHARS", 10_000)


def test_a_long_text_is_parsed_in_pieces_into_one_doc(small_pieces: None) -> None:
    text = SENTENCE * 80  # 6,800 characters: four pieces, all parsed
    (doc,) = context.parse([text], whole=True)
    assert doc.text == text
    assert sum(1 for e in doc.ents if e.text == "Maria") == 80
    assert len(list(doc.sents)) >= 80


def test_analysis_stops_at_the_limit_with_a_note(
    small_pieces: None, caplog: pytest.LogCaptureFixture
) -> None:
    text = SENTENCE * 300  # 25,500 characters
    messages = make_messages(("Ann", "Can you check the invoice?"))
    long = make_messages(("Ann", "x"), ("Ann", text))[1]
    with caplog.at_level(logging.WARNING, logger="parley.insights"):
        result = compute_insights([*messages, long], FULL)
    assert "only the first 10000 are parsed" in caplog.text
    assert any(q["messageIds"] == [messages[0].id] for q in result.questions)
    assert result.action_items  # the parsed part still yields tasks
    (doc,) = context.parse([text])
    assert len(doc.text) <= 10_000 and text.startswith(doc.text)


def test_redaction_masks_past_the_analysis_limit(small_pieces: None) -> None:
    text = "The weather is fine today. " * 600 + "Call Maria Gonzalez at 415-555-0132."
    out = redact(text)
    assert "Maria" not in out and "415-555-0132" not in out and out.endswith(f"{MASK}.")


@pytest.mark.slow
def test_a_message_longer_than_spacys_limit_does_not_fail() -> None:
    text = SENTENCE * 12_000  # 1,020,000 characters, over nlp.max_length
    assert len(text) > context.get_nlp().max_length
    msgs = make_messages(("Ann", "Hi."), ("Ann", text))
    started = time.perf_counter()
    result = compute_insights(msgs, InsightOptions(detect_entities=True, reference_time=MONDAY))
    assert result.entities and result.sentiments[msgs[1].id]
    assert time.perf_counter() - started < 120
    assert redact(text[:30_000]).count(MASK) > 300


def test_warm_loads_every_model_once() -> None:
    warm()
    started = time.perf_counter()
    compute_insights(make_messages(("Ann", "I'll send it tomorrow.")), FULL)
    assert time.perf_counter() - started < 5  # no model load left for the first job


def test_one_person_shape_for_from_and_assignee() -> None:
    known = Member("m-1", "Ann", "ann@example.com")
    anonymous = Member("m-2", "Speaker 2")
    assert person_json(known, "from") == {"id": "m-1", "name": "Ann", "userId": "ann@example.com"}
    assert person_json(anonymous, "from") == {"id": "m-2", "name": "Speaker 2", "userId": None}
    assert person_json(known, "assignee") == {
        "id": "m-1",
        "name": "Ann",
        "email": "ann@example.com",
    }
    assert person_json(anonymous, "assignee") == {"id": "m-2", "name": "Speaker 2"}
    assert person_json(None, "assignee", name="Carlos") == {"name": "Carlos"}
    assert person_json(None, "from", name="Carlos") == {}
