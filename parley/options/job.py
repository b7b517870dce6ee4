"""A job's options: parsed and validated once, at the edge, into ``JobOptions``.

``OPTIONS`` is the one table of the Symbl query options: for each option name, the
``JobOptions`` field it fills, its parser and the JSON Schema the OpenAPI document
publishes for it, side by side, so the document cannot describe an option the parser
does not take, or take it with other bounds. Every invalid value becomes a
``BadRequest`` naming the option; unknown options are ignored, as old clients send extras.
Every value is bounded here (``LIMITS``), before a job exists, so a job never fails late
on input it should have refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from typing import Any

from parley.errors import BadRequest
from parley.options.values import (
    Raw,
    boolean,
    integer,
    json_value,
    number,
    object_list,
    string,
    string_list,
    url,
)
from parley_client.wire.limits import LIMITS

__all__ = [
    "OPTIONS",
    "OPTION_FIELDS",
    "OPTION_SCHEMAS",
    "ChannelSpeaker",
    "JobOptions",
    "Option",
    "parse_options",
    "whisper_languages",
]


@cache
def whisper_languages() -> frozenset[str]:
    """Whisper's language codes, from the installed faster-whisper, so ``languageCode``
    is checked before a job runs against exactly what the model will accept.

    Imported on first use: it loads ctranslate2 (about 30 ms and 9 MiB in a process that
    already has numpy and PyAV, as the API has), which a process that never sees a
    ``languageCode`` does not need.
    """
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


@dataclass(frozen=True)
class ChannelSpeaker:
    """Who speaks on one channel (``channelMetadata``); channels are 1-based."""

    channel: int
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class JobOptions:
    """Everything a job needs to know from its submission."""

    name: str | None = None
    webhook_url: str | None = None
    custom_vocabulary: tuple[str, ...] = ()
    confidence_threshold: float = 0.5
    detect_phrases: bool = False
    detect_entities: bool = False
    entities: tuple[dict[str, Any], ...] = ()
    language_code: str | None = None
    mode: str = "default"
    per_channel: bool = False
    channel_metadata: tuple[ChannelSpeaker, ...] = ()
    diarization: bool = False
    speaker_count: int | None = None
    trackers: tuple[dict[str, Any], ...] = ()
    enable_all_trackers: bool = False
    enable_summary: bool = False
    timezone_offset: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    # Accepted for compatibility (go-sdk sends them):
    parent_refs: bool = False
    sentiment: bool = False
    #: ``featureList`` holds ``callScore`` to score the call (``call_score`` below).
    features: dict[str, Any] = field(default_factory=dict)
    #: Call score: ``sales`` or ``general``; with ``metadata.salesStage`` it decides
    #: whether the sales process is scored.
    conversation_type: str | None = None
    #: Call score: the scorecard to score on (``scorecardId`` or ``scorecard.id``).
    scorecard_id: str | None = None

    @property
    def call_score(self) -> bool:
        """Whether the call is to be scored (``features.featureList`` has ``callScore``)."""
        return "callScore" in (self.features.get("featureList") or [])

    @property
    def sales_stage(self) -> str:
        return str(self.metadata.get("salesStage") or "general").lower()

    @property
    def prospect_name(self) -> str | None:
        value = self.metadata.get("prospectName")
        return value if isinstance(value, str) else None

    @property
    def language(self) -> str | None:
        """The Whisper language for ``languageCode`` ("en-US" → "en"); None = detect."""
        return self.language_code.split("-")[0].lower() if self.language_code else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobOptions:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("custom_vocabulary", "entities", "trackers"):
            values[key] = tuple(values.get(key, ()))
        values["channel_metadata"] = tuple(
            ChannelSpeaker(**c) for c in values.get("channel_metadata", ())
        )
        return cls(**values)


# -- the parsers of single options ---------------------------------------------------

#: ``confidenceThreshold``'s range. Symbl's current reference says 0.5–1.0, its older
#: text 0.0–1.0; Parley takes the wider one, so those older clients keep working and a
#: caller may lower the threshold below the default to see hedged action items
#: (``parley.insights.action_items`` scores them below 0.5 on purpose).
CONFIDENCE_RANGE = (0, 1)


def _name(name: str, raw: Raw) -> str:
    return string(name, raw, LIMITS["name"])


def _timezone_offset(name: str, raw: Raw) -> int:
    value = integer(name, raw)
    if abs(value) > LIMITS["timezone_offset"]:
        raise BadRequest(f'"{name}" must be minutes between -1440 and 1440')
    return value


def _confidence(name: str, raw: Raw) -> float:
    value = number(name, raw)
    low, high = CONFIDENCE_RANGE
    if not low <= value <= high:
        raise BadRequest(f'"{name}" must be between {low:.1f} and {high:.1f}')
    return value


_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _language(name: str, raw: Raw) -> str:
    value = string(name, raw).strip()
    if not _LANG.match(value) or value.split("-")[0].lower() not in whisper_languages():
        raise BadRequest(f'"{name}" "{value}" is not a supported language code')
    return value


def _mode(name: str, raw: Raw) -> str:
    value = string(name, raw).strip().lower()
    if value not in ("phone", "default"):
        raise BadRequest(f'"{name}" must be "phone" or "default"')
    return value


def _speaker_count(name: str, raw: Raw) -> int:
    value = integer(name, raw)
    if not 1 <= value <= LIMITS["channels"]:
        raise BadRequest(f'"{name}" must be between 1 and 32')
    return value


def _channel_metadata(name: str, raw: Raw) -> tuple[ChannelSpeaker, ...]:
    result = []
    items = object_list(name, raw)
    if len(items) > LIMITS["channels"]:
        raise BadRequest(f'"{name}" must have at most {LIMITS["channels"]} items')
    for item in items:
        channel = item.get("channel")
        if isinstance(channel, bool) or not isinstance(channel, int) or channel < 1:
            raise BadRequest(f'"{name}[].channel" must be a positive integer')
        if channel > LIMITS["channels"]:
            raise BadRequest(f'"{name}[].channel" must be at most {LIMITS["channels"]}')
        speaker = item.get("speaker")
        if not isinstance(speaker, dict):
            raise BadRequest(f'"{name}[].speaker" must be an object')
        person = {k: speaker.get(k) for k in ("name", "email")}
        if any(v is not None and not isinstance(v, str) for v in person.values()):
            raise BadRequest(f'"{name}[].speaker" name and email must be strings')
        if any(v is not None and len(v) > LIMITS["name"] for v in person.values()):
            raise BadRequest(
                f'"{name}[].speaker" name and email must be at most {LIMITS["name"]} characters'
            )
        result.append(ChannelSpeaker(channel=channel, **person))
    return tuple(result)


def _entities(name: str, raw: Raw) -> tuple[dict[str, Any], ...]:
    items = object_list(name, raw)
    if len(items) > LIMITS["entities"]:
        raise BadRequest(f'"{name}" must have at most {LIMITS["entities"]} items')
    for item in items:
        if not isinstance(item.get("customType"), str) or not isinstance(item.get("text"), str):
            raise BadRequest(f'"{name}[]" needs string "customType" and "text"')
        if len(item["customType"]) > LIMITS["name"] or len(item["text"]) > LIMITS["string"]:
            raise BadRequest(f'"{name}[]" "customType" or "text" is too long')
    return tuple(items)


def _trackers(name: str, raw: Raw) -> tuple[dict[str, Any], ...]:
    items = object_list(name, raw)
    if len(items) > LIMITS["trackers"]:
        raise BadRequest(f'"{name}" must have at most {LIMITS["trackers"]} items')
    for item in items:
        if "id" in item:
            if isinstance(item["id"], bool) or not isinstance(item["id"], str | int):
                raise BadRequest(f'"{name}[].id" must be a string')
            if len(str(item["id"])) > 64:
                raise BadRequest(f'"{name}[].id" must be at most 64 characters')
            continue
        if not isinstance(item.get("name"), str) or not item["name"].strip():
            raise BadRequest(f'"{name}[].name" must be a non-empty string')
        if len(item["name"]) > LIMITS["name"]:
            raise BadRequest(f'"{name}[].name" must be at most {LIMITS["name"]} characters')
        vocabulary = item.get("vocabulary")
        if not isinstance(vocabulary, list) or not vocabulary:
            raise BadRequest(f'"{name}[].vocabulary" must be a non-empty array of strings')
        if not all(isinstance(v, str) and v.strip() for v in vocabulary):
            raise BadRequest(f'"{name}[].vocabulary" must be a non-empty array of strings')
        if len(vocabulary) > LIMITS["vocabulary_items"] or any(
            len(v) > LIMITS["vocabulary_chars"] for v in vocabulary
        ):
            raise BadRequest(
                f'"{name}[].vocabulary" must have at most {LIMITS["vocabulary_items"]} items of '
                f"at most {LIMITS['vocabulary_chars']} characters"
            )
    return tuple(items)


def _metadata(name: str, raw: Raw) -> dict[str, Any]:
    value = json_value(name, raw)
    if not isinstance(value, dict):
        raise BadRequest(f'"{name}" must be an object')
    if len(value) > LIMITS["metadata_keys"] or len(json.dumps(value)) > 64 * 1024:
        raise BadRequest(f'"{name}" must have at most {LIMITS["metadata_keys"]} keys and 64 kB')
    return value


def _features(name: str, raw: Raw) -> dict[str, Any]:
    value = _metadata(name, raw)
    features = value.get("featureList", [])
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise BadRequest(f'"{name}.featureList" must be an array of strings')
    return value


#: ``metadata.salesStage`` values (Symbl documents them lower-case).
SALES_STAGES = ("qualification", "discovery", "demo", "negotiation", "general")
CONVERSATION_TYPES = ("sales", "general")


def _conversation_type(name: str, raw: Raw) -> str:
    value = string(name, raw).strip().lower()
    if value not in CONVERSATION_TYPES:
        raise BadRequest(f'"{name}" must be one of {", ".join(CONVERSATION_TYPES)}')
    return value


def _scorecard_id(name: str, raw: Raw) -> str:
    value = string(name, raw, 64).strip()
    if not value:
        raise BadRequest(f'"{name}" must be a non-empty string')
    return value


def _scorecard(name: str, raw: Raw) -> str | None:
    value = json_value(name, raw)
    if value == {}:
        return None  # no scorecard: the managed criteria
    if not isinstance(value, dict) or not isinstance(value.get("id"), str | int):
        raise BadRequest(f'"{name}" must be an object with the scorecard\'s "id"')
    return _scorecard_id(f"{name}.id", [str(value["id"])])


def _check_call_score(values: dict[str, Any]) -> None:
    """``metadata.salesStage`` must be one of Symbl's stages when the call is scored."""
    features = values.get("features") or {}
    if "callScore" not in (features.get("featureList") or []):
        return
    stage = (values.get("metadata") or {}).get("salesStage")
    if stage is not None and (not isinstance(stage, str) or stage.lower() not in SALES_STAGES):
        raise BadRequest(f'"metadata.salesStage" must be one of {", ".join(SALES_STAGES)}')
    prospect = (values.get("metadata") or {}).get("prospectName")
    if prospect is not None and (not isinstance(prospect, str) or len(prospect) > LIMITS["name"]):
        raise BadRequest(
            f'"metadata.prospectName" must be a string of at most {LIMITS["name"]} characters'
        )


# -- the table -----------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One Symbl option: the ``JobOptions`` field it fills, how its raw values are parsed,
    and the JSON Schema of its value as a JSON body field (for the OpenAPI document)."""

    attr: str
    parse: Callable[[str, Raw], Any]
    schema: dict[str, Any]


_BOOL = {"type": "boolean"}
_STRINGS = {
    "type": "array",
    "maxItems": LIMITS["vocabulary_items"],
    "items": {"type": "string", "maxLength": LIMITS["vocabulary_chars"]},
}
_ENTITIES = {
    "type": "array",
    "maxItems": LIMITS["entities"],
    "items": {
        "type": "object",
        "required": ["customType", "text"],
        "properties": {
            "customType": {"type": "string", "maxLength": LIMITS["name"]},
            "text": {"type": "string", "maxLength": LIMITS["string"]},
        },
    },
}
_TRACKERS = {
    "type": "array",
    "maxItems": LIMITS["trackers"],
    "items": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "maxLength": 64},
            "name": {"type": "string", "minLength": 1, "maxLength": LIMITS["name"]},
            "vocabulary": {**_STRINGS, "minItems": 1},
        },
    },
}
_CHANNEL_METADATA = {
    "type": "array",
    "maxItems": LIMITS["channels"],
    "items": {
        "type": "object",
        "required": ["channel", "speaker"],
        "properties": {
            "channel": {"type": "integer", "minimum": 1, "maximum": LIMITS["channels"]},
            "speaker": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": LIMITS["name"]},
                    "email": {"type": "string", "maxLength": LIMITS["name"]},
                },
            },
        },
    },
}

#: Symbl option name → its field, parser and published schema.
OPTIONS: dict[str, Option] = {
    "name": Option("name", _name, {"type": "string", "maxLength": LIMITS["name"]}),
    "webhookUrl": Option(
        "webhook_url", url, {"type": "string", "format": "uri", "maxLength": 4096}
    ),
    "customVocabulary": Option("custom_vocabulary", string_list, _STRINGS),
    "confidenceThreshold": Option(
        "confidence_threshold",
        _confidence,
        {"type": "number", "minimum": CONFIDENCE_RANGE[0], "maximum": CONFIDENCE_RANGE[1]},
    ),
    "detectPhrases": Option("detect_phrases", boolean, _BOOL),
    "detectEntities": Option("detect_entities", boolean, _BOOL),
    "entities": Option("entities", _entities, _ENTITIES),
    "customEntities": Option("entities", _entities, _ENTITIES),
    "languageCode": Option(
        "language_code", _language, {"type": "string", "maxLength": 32, "example": "en-US"}
    ),
    "mode": Option("mode", _mode, {"type": "string", "enum": ["phone", "default"]}),
    "enableSeparateRecognitionPerChannel": Option("per_channel", boolean, _BOOL),
    "channelMetadata": Option("channel_metadata", _channel_metadata, _CHANNEL_METADATA),
    "enableSpeakerDiarization": Option("diarization", boolean, _BOOL),
    "diarizationSpeakerCount": Option(
        "speaker_count",
        _speaker_count,
        {"type": "integer", "minimum": 1, "maximum": LIMITS["channels"]},
    ),
    "trackers": Option("trackers", _trackers, _TRACKERS),
    "enableAllTrackers": Option("enable_all_trackers", boolean, _BOOL),
    "enableSummary": Option("enable_summary", boolean, _BOOL),
    "timezoneOffset": Option(
        "timezone_offset",
        _timezone_offset,
        {
            "type": "integer",
            "minimum": -LIMITS["timezone_offset"],
            "maximum": LIMITS["timezone_offset"],
        },
    ),
    "metadata": Option(
        "metadata",
        _metadata,
        {"type": "object", "maxProperties": LIMITS["metadata_keys"], "additionalProperties": True},
    ),
    "parentRefs": Option("parent_refs", boolean, _BOOL),
    "sentiment": Option("sentiment", boolean, _BOOL),
    "features": Option(
        "features",
        _features,
        {
            "type": "object",
            "properties": {"featureList": {"type": "array", "items": {"type": "string"}}},
        },
    ),
    "conversationType": Option(
        "conversation_type", _conversation_type, {"type": "string", "enum": ["sales", "general"]}
    ),
    "scorecardId": Option("scorecard_id", _scorecard_id, {"type": "string", "maxLength": 64}),
    "scorecard": Option(
        "scorecard_id",
        _scorecard,
        {"type": "object", "properties": {"id": {"type": "string", "maxLength": 64}}},
    ),
}

#: Symbl option name → JobOptions field name.
OPTION_FIELDS = {name: option.attr for name, option in OPTIONS.items()}

#: Symbl option name → JSON Schema of its value (as a JSON body field), read from ``OPTIONS``.
OPTION_SCHEMAS: dict[str, dict[str, Any]] = {
    name: option.schema for name, option in OPTIONS.items()
}


def parse_options(*sources: Mapping[str, Raw]) -> JobOptions:
    """Build ``JobOptions`` from sources given lowest precedence first.

    Each source maps a Symbl option name to its raw values (a query string's
    repeated keys, or a one-element list holding a JSON body's value). A later
    source wins over an earlier one, so pass ``(query, body)``.
    """
    merged: dict[str, Raw] = {}
    for source in sources:
        for key, raw in source.items():
            if key in OPTIONS and len(raw) and raw[-1] is not None:
                merged[key] = raw
    values: dict[str, Any] = {}
    for key, raw in merged.items():
        option = OPTIONS[key]
        values[option.attr] = option.parse(key, raw)
    _check_call_score(values)
    if values.get("diarization") and values.get("per_channel"):
        values["per_channel"] = False  # Symbl's FAQ: diarization wins
    return JobOptions(**values)
