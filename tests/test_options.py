"""Option parsing: every spelling clients send, and errors that name the option."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from parley.errors import BadRequest
from parley.options.job import OPTIONS, JobOptions, parse_options


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


def test_the_confidence_message_states_the_range_that_is_checked() -> None:
    assert parse_options({"confidenceThreshold": ["0.1"]}).confidence_threshold == 0.1
    for outside in ("-0.1", "1.5"):
        with pytest.raises(BadRequest) as error:
            parse_options({"confidenceThreshold": [outside]})
        assert "between 0.0 and 1.0" in error.value.message
    schema = OPTIONS["confidenceThreshold"].schema
    assert (schema["minimum"], schema["maximum"]) == (0, 1)


def _accepted(name: str, value: Any) -> bool:
    try:
        parse_options({name: [value]})
    except BadRequest:
        return False
    return True


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_each_option_takes_what_its_published_schema_says(name: str) -> None:
    """The document's bounds are the parser's: values at a bound pass, past it fail."""
    schema = OPTIONS[name].schema
    if schema.get("type") in ("number", "integer"):
        step = 1 if schema["type"] == "integer" else 0.01
        assert _accepted(name, schema["minimum"]) and _accepted(name, schema["maximum"])
        assert not _accepted(name, schema["minimum"] - step)
        assert not _accepted(name, schema["maximum"] + step)
    elif "enum" in schema:
        assert all(_accepted(name, value) for value in schema["enum"])
        assert not _accepted(name, "none of them")
    elif schema.get("type") == "string":
        sample = {"webhookUrl": "https://example.com/hook", "languageCode": "en-US"}.get(name)
        if sample is None:
            assert _accepted(name, "x" * schema["maxLength"])
            assert not _accepted(name, "x" * (schema["maxLength"] + 1))
        else:
            assert _accepted(name, sample) and not _accepted(name, ["x" * schema["maxLength"]])
    elif schema.get("type") == "array":
        items = [{"customType": "t", "text": "x"}] if "properties" in schema["items"] else ["x"]
        if name == "trackers":
            items = [{"name": "t", "vocabulary": ["x"]}]
        if name == "channelMetadata":
            items = [{"channel": 1, "speaker": {"name": "A"}}]
        assert _accepted(name, items * schema["maxItems"])
        assert not _accepted(name, items * (schema["maxItems"] + 1))
    elif schema.get("type") == "boolean":
        assert _accepted(name, True) and not _accepted(name, "maybe")
    else:
        assert schema["type"] == "object"
        assert _accepted(name, {}) and not _accepted(name, [1])


def test_language_codes_are_faster_whispers() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert all(_accepted("languageCode", code) for code in _LANGUAGE_CODES)
    assert _accepted("languageCode", "en-US") and not _accepted("languageCode", "xx-YY")


def test_importing_the_options_leaves_faster_whisper_unloaded() -> None:
    """The API imports the options at start; faster-whisper (and ctranslate2) load on the
    first ``languageCode`` only."""
    code = "import sys, parley.options; print('faster_whisper' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
