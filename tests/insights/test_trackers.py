"""Tracker vocabulary rules (spec §5.1) and matching of exact, inflected and paraphrased terms."""

from __future__ import annotations

import pytest

from parley.insights import InsightOptions, TrackerSpec, compute_insights
from parley.insights.trackers import match_phrase, validate_vocabulary

from .conftest import make_messages


def test_valid_vocabulary_is_cleaned() -> None:
    assert validate_vocabulary(["  price ", "don't  cancel", "e-mail", "Dr. Smith"]) == (
        "price",
        "don't cancel",
        "e-mail",
        "Dr. Smith",
    )


@pytest.mark.parametrize(
    ("vocab", "fragment"),
    [
        ("price", "array"),
        ([], "between 1 and 50"),
        ([f"term {i}" for i in range(51)], "between 1 and 50"),
        (["price", 3], "must be a string"),
        (["price", "  "], "empty"),
        (["price", "Price"], "duplicate"),
        (["what is the price?"], "punctuation '?'"),
        (["a, b"], "punctuation ','"),
        (["wow!"], "punctuation '!'"),
        (["note: x"], "punctuation ':'"),
        (["x" * 101], "longer than 100"),
    ],
)
def test_invalid_vocabulary_names_the_problem(vocab: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as err:
        validate_vocabulary(vocab)
    assert fragment in str(err.value)


def test_exact_match_reports_offset() -> None:
    assert match_phrase("cancel my service", "I want to cancel my service today") == 10


def test_inflections_and_derivations_match_with_offset_minus_one() -> None:
    assert match_phrase("crash", "The app crashes every morning.") == -1
    assert match_phrase("crash", "It keeps crashing.") == -1
    assert match_phrase("blocker", "What's blocking the release?") == -1
    assert match_phrase("paged", "I got paged last night.") == 6
    assert match_phrase("page", "I got paged last night.") == -1


def test_close_paraphrases_match() -> None:
    assert match_phrase("cancel my service", "Can I cancel the service online?") == -1
    assert match_phrase("contract", "The agreement is with legal.") == -1
    assert match_phrase("price", "How much does it cost per seat?") == -1
    assert match_phrase("not working", "The sync isn't working again.") == -1


def test_semantic_paraphrase_matches_with_offset_minus_one() -> None:
    # No shared content word or lexicon synonym: only the sentence embeddings link them.
    text = "I want to end my subscription."
    assert match_phrase("cancel my subscription", text, semantic_threshold=None) is None
    assert match_phrase("cancel my subscription", text) == -1


def test_semantic_level_ignores_unrelated_sentences() -> None:
    assert match_phrase("refund", "Let's meet on Thursday.") is None
    assert match_phrase("lower price", "We need the report by Friday.") is None


def test_detect_reports_semantic_matches_and_can_turn_them_off() -> None:
    from parley.insights import trackers
    from parley.insights.context import Context

    msgs = make_messages(
        ("A", "Hi, thanks for taking the call."),
        ("A", "Honestly, I want to end my subscription, it is too slow."),
        ("B", "Let's meet on Thursday."),
    )
    specs = (TrackerSpec("1", "Cancellation", ("cancel my subscription",)),)
    ctx = Context.build(msgs, InsightOptions(trackers=specs))
    (tracker,) = trackers.detect(ctx, specs, [])
    (match,) = tracker["matches"]
    assert [(r["id"], r["offset"]) for r in match["messageRefs"]] == [(msgs[1].id, -1)]
    assert trackers.detect(ctx, specs, [], semantic_threshold=None) == []


def test_unrelated_text_does_not_match() -> None:
    assert match_phrase("not working", "We work with large files.") is None
    assert match_phrase("cancel my service", "My service is great.") is None
    assert match_phrase("price", "The weather is nice.") is None


def test_detected_tracker_shape_and_insight_refs() -> None:
    msgs = make_messages(
        ("A", "What is the price of the enterprise plan?"),
        ("B", "It costs forty dollars a seat."),
        ("A", "The weather is nice."),
    )
    opts = InsightOptions(trackers=(TrackerSpec("5237067555536896", "Pricing", ("price",)),))
    (tracker,) = compute_insights(msgs, opts).trackers
    assert tracker["id"] == "5237067555536896" and tracker["name"] == "Pricing"
    (match,) = tracker["matches"]
    assert match["type"] == "vocabulary" and match["value"] == "price"
    offsets = {r["id"]: r["offset"] for r in match["messageRefs"]}
    assert offsets == {msgs[0].id: 12, msgs[1].id: -1}
    (ref,) = match["insightRefs"]
    assert ref["type"] == "question" and ref["offset"] == 12 and ref["id"]


def test_tracker_without_hits_is_omitted() -> None:
    msgs = make_messages(("A", "Nice weather today."))
    opts = InsightOptions(trackers=(TrackerSpec("1", "Pricing", ("price",)),))
    assert compute_insights(msgs, opts).trackers == []
