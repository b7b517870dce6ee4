"""Option parsing: every spelling clients send, and errors that name the option."""

from __future__ import annotations

import json

import pytest

from parley.errors import BadRequest
from parley.options import JobOptions, parse_options


def test_booleans_as_json_or_strings() -> None:
    options = parse_options({"detectPhrases": ["true"], "enableSummary": [True]})
    assert options.detect_phrases is True and options.enable_summary is True
    assert parse_options({"detectPhrases": ["False"]}).detect_phrases is False


@pytest.mark.parametrize(
    "raw",
    [
        ['["alpha beta","gamma"]'],  # JSON array string
        ["alpha beta", "gamma"],  # repeated keys
        list('["alpha beta","gamma"]'),  # Python SDK: one key per character
        [["alpha beta", "gamma"]],  # JSON body
    ],
)
def test_custom_vocabulary_spellings(raw: list[object]) -> None:
    assert parse_options({"customVocabulary": raw}).custom_vocabulary == ("alpha beta", "gamma")


def test_body_wins_over_query() -> None:
    options = parse_options({"name": ["from query"]}, {"name": ["from body"]})
    assert options.name == "from body"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("confidenceThreshold", "2"),
        ("confidenceThreshold", "high"),
        ("detectPhrases", "maybe"),
        ("languageCode", "xx-YY"),
        ("mode", "radio"),
        ("diarizationSpeakerCount", "0"),
        ("diarizationSpeakerCount", "2.5"),
        ("webhookUrl", "ftp://example.com/hook"),
        ("channelMetadata", '[{"channel": 0, "speaker": {"name": "A"}}]'),
        ("trackers", '[{"name": "x"}]'),
        ("entities", '[{"text": "no type"}]'),
        ("metadata", "[1, 2]"),
        ("trackers", "[not json"),
        ("parentRefs", "sometimes"),
        ("features", '{"featureList": [1]}'),
    ],
)
def test_invalid_values_name_the_option(key: str, value: str) -> None:
    with pytest.raises(BadRequest) as error:
        parse_options({key: [value]})
    assert f'"{key}' in error.value.message


def test_diarization_wins_over_per_channel() -> None:
    options = parse_options(
        {"enableSpeakerDiarization": ["true"], "enableSeparateRecognitionPerChannel": ["true"]}
    )
    assert options.diarization and not options.per_channel


def test_round_trip_through_json() -> None:
    options = parse_options(
        {
            "channelMetadata": [
                json.dumps([{"channel": 1, "speaker": {"name": "Ann", "email": "a@x.io"}}])
            ],
            "trackers": [json.dumps([{"name": "Price", "vocabulary": ["cost"]}])],
            "languageCode": ["en-GB"],
        }
    )
    again = JobOptions.from_json(json.loads(json.dumps(options.to_json())))
    assert again == options
    assert again.language == "en"
    assert again.channel_metadata[0].email == "a@x.io"


def test_unknown_options_are_ignored() -> None:
    assert parse_options({"someFutureOption": ["1"]}) == JobOptions()


def test_compatibility_extras_are_validated_and_kept() -> None:
    options = parse_options(
        {"parentRefs": ["true"], "sentiment": ["false"], "conversationType": ["sales"]},
        {"features": [{"featureList": ["insights", "callScore"]}]},
    )
    assert options.parent_refs and not options.sentiment
    assert options.features == {"featureList": ["insights", "callScore"]}
    assert options.conversation_type == "sales"
