"""Async API options: parsed and validated once, at the edge, into ``JobOptions``.

Symbl clients send the same option in many spellings: JSON booleans or the
strings "true"/"false", lists as a JSON array string or as repeated query keys,
and (a Python SDK bug) one query key per character of the JSON text. All of
them land here; every invalid value becomes a ``BadRequest`` naming the option.
Unknown options are ignored, as old clients send extras.

Every value is bounded here, before a job exists: finite numbers in range, string
and list lengths, JSON nesting depth and integer size (``loads_bounded``), so a job
never fails late on input it should have refused. ``LIMITS`` is the one table of
those bounds; the OpenAPI document is built from it too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from parley.errors import BadRequest
from parley.outbound import check_url_shape
from parley.textcheck import check_tree
from parley.times import parse_iso

__all__ = [
    "LIMITS",
    "OPTION_FIELDS",
    "OPTION_SCHEMAS",
    "ChannelSpeaker",
    "JobOptions",
    "json_depth",
    "loads_bounded",
    "parse_datetime",
    "parse_metadata_filter",
    "parse_options",
    "validate_url",
]

#: The bounds every option and body field is checked against.
LIMITS = {
    "name": 255,  # characters (the column's size)
    "string": 1024,  # any other free-text option
    "vocabulary_items": 1000,
    "vocabulary_chars": 200,
    "entities": 1000,
    "trackers": 500,
    "channels": 32,
    "metadata_keys": 100,
    "metadata_value": 128,  # Symbl's metadata rule
    "json_depth": 32,
    "int_digits": 100,
    "timezone_offset": 24 * 60,  # minutes either side of UTC
    "message_chars": 100_000,
    "messages_chars": 900_000,  # all messages of one text job (spaCy stops at 1,000,000)
    "messages": 20_000,
    "filter_chars": 1024,
}


def json_depth(value: Any) -> int:
    """The nesting depth of a parsed JSON value, without recursion (linear time)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > LIMITS["int_digits"]:
        raise ValueError("integer too long")
    return int(text)


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def loads_bounded(text: str | bytes, what: str, *, field: str = "") -> Any:
    """``json.loads`` that refuses, with a ``BadRequest`` naming ``what``: invalid JSON,
    NaN/Infinity, integers over 100 digits and nesting deeper than 32; and a NUL or a
    lone surrogate (``"\\ud800"``) in any string or key, naming its path (under
    ``field``, an option's name), as every JSON body and JSON option passes here."""
    try:
        value = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except RecursionError:
        raise BadRequest(f"{what} is nested too deeply.") from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(f"{what} is not valid JSON.") from None
    if json_depth(value) > LIMITS["json_depth"]:
        raise BadRequest(f"{what} is nested deeper than {LIMITS['json_depth']} levels.")
    check_tree(value, what, prefix=field)
    return value


#: Whisper's language codes, so ``languageCode`` can be checked before a job runs.
WHISPER_LANGUAGES = frozenset(
    [
        "en",
        "zh",
        "de",
        "es",
        "ru",
        "ko",
        "fr",
        "ja",
        "pt",
        "tr",
        "pl",
        "ca",
        "nl",
        "ar",
        "sv",
        "it",
        "id",
        "hi",
        "fi",
        "vi",
        "he",
        "uk",
        "el",
        "ms",
        "cs",
        "ro",
        "da",
        "hu",
        "ta",
        "no",
        "th",
        "ur",
        "hr",
        "bg",
        "lt",
        "la",
        "mi",
        "ml",
        "cy",
        "sk",
        "te",
        "fa",
        "lv",
        "bn",
        "sr",
        "az",
        "sl",
        "kn",
        "et",
        "mk",
        "br",
        "eu",
        "is",
        "hy",
        "ne",
        "mn",
        "bs",
        "kk",
        "sq",
        "sw",
        "gl",
        "mr",
        "pa",
        "si",
        "km",
        "sn",
        "yo",
        "so",
        "af",
        "oc",
        "ka",
        "be",
        "tg",
        "sd",
        "gu",
        "am",
        "yi",
        "lo",
        "uz",
        "fo",
        "ht",
        "ps",
        "tk",
        "nn",
        "mt",
        "sa",
        "lb",
        "my",
        "bo",
        "tl",
        "mg",
        "as",
        "tt",
        "haw",
        "ln",
        "ha",
        "ba",
        "jw",
        "su",
        "yue",
    ]
)


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
    # Accepted for compatibility (go-sdk sends them; call score is out of scope):
    parent_refs: bool = False
    sentiment: bool = False
    features: dict[str, Any] = field(default_factory=dict)
    conversation_type: str | None = None

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


# -- value parsers -----------------------------------------------------------------
# Each takes the option's name and its raw values (one per occurrence) and returns
# the parsed value or raises BadRequest.

Raw = Sequence[Any]


def _single(name: str, raw: Raw) -> Any:
    return raw[-1]


def _bool(name: str, raw: Raw) -> bool:
    value = _single(name, raw)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", ""):
        return False
    raise BadRequest(f'"{name}" must be a boolean')


def _number(name: str, raw: Raw) -> float:
    """A finite number (NaN and infinities are refused, as is a 5,000-digit literal)."""
    value = _single(name, raw)
    if isinstance(value, bool) or (isinstance(value, str) and len(value) > 64):
        raise BadRequest(f'"{name}" must be a number')
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise BadRequest(f'"{name}" must be a number') from None
    if not math.isfinite(number):
        raise BadRequest(f'"{name}" must be a finite number')
    return number


def _int(name: str, raw: Raw) -> int:
    number = _number(name, raw)
    if number != int(number):
        raise BadRequest(f'"{name}" must be an integer')
    return int(number)


def _string(name: str, raw: Raw, limit: int = LIMITS["string"]) -> str:
    value = _single(name, raw)
    if not isinstance(value, str):
        raise BadRequest(f'"{name}" must be a string')
    if len(value) > limit:
        raise BadRequest(f'"{name}" must be at most {limit} characters')
    return value


def _name(name: str, raw: Raw) -> str:
    return _string(name, raw, LIMITS["name"])


def _timezone_offset(name: str, raw: Raw) -> int:
    value = _int(name, raw)
    if abs(value) > LIMITS["timezone_offset"]:
        raise BadRequest(f'"{name}" must be minutes between -1440 and 1440')
    return value


def _json_value(name: str, raw: Raw) -> Any:
    """A JSON array/object given as JSON, as a JSON string, or split per character."""
    if len(raw) > 1 and all(isinstance(v, str) and len(v) <= 1 for v in raw):
        joined = "".join(raw)  # the Python SDK's one-key-per-character quirk
        if joined.lstrip()[:1] in ("[", "{"):
            raw = [joined]
    if len(raw) > 1:
        return list(raw)
    value = raw[0]
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("[", "{"):
            return loads_bounded(text, f'"{name}"', field=name)
        return [value] if text else []
    if json_depth(value) > LIMITS["json_depth"]:
        raise BadRequest(f'"{name}" is nested deeper than {LIMITS["json_depth"]} levels.')
    return value


def _string_list(name: str, raw: Raw) -> tuple[str, ...]:
    value = _json_value(name, raw)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f'"{name}" must be an array of strings')
    if len(value) > LIMITS["vocabulary_items"]:
        raise BadRequest(f'"{name}" must have at most {LIMITS["vocabulary_items"]} items')
    if any(len(v) > LIMITS["vocabulary_chars"] for v in value):
        raise BadRequest(f'"{name}" items must be at most {LIMITS["vocabulary_chars"]} characters')
    return tuple(v.strip() for v in value if v.strip())


def _object_list(name: str, raw: Raw) -> list[dict[str, Any]]:
    value = _json_value(name, raw)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadRequest(f'"{name}" must be an array of objects')
    return value


def validate_url(name: str, value: Any) -> str:
    """An absolute http(s) URL without control characters, or BadRequest naming the
    option. Where it may connect to is the outbound guard's business (``parley.outbound``)."""
    return check_url_shape(name, value)


def _url(name: str, raw: Raw) -> str:
    return validate_url(name, _single(name, raw))


def _confidence(name: str, raw: Raw) -> float:
    value = _number(name, raw)
    if not 0.0 <= value <= 1.0:
        raise BadRequest(f'"{name}" must be between 0.5 and 1.0')
    return value


_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _language(name: str, raw: Raw) -> str:
    value = _string(name, raw).strip()
    if not _LANG.match(value) or value.split("-")[0].lower() not in WHISPER_LANGUAGES:
        raise BadRequest(f'"{name}" "{value}" is not a supported language code')
    return value


def _mode(name: str, raw: Raw) -> str:
    value = _string(name, raw).strip().lower()
    if value not in ("phone", "default"):
        raise BadRequest(f'"{name}" must be "phone" or "default"')
    return value


def _speaker_count(name: str, raw: Raw) -> int:
    value = _int(name, raw)
    if not 1 <= value <= LIMITS["channels"]:
        raise BadRequest(f'"{name}" must be between 1 and 32')
    return value


def _channel_metadata(name: str, raw: Raw) -> tuple[ChannelSpeaker, ...]:
    result = []
    items = _object_list(name, raw)
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
    items = _object_list(name, raw)
    if len(items) > LIMITS["entities"]:
        raise BadRequest(f'"{name}" must have at most {LIMITS["entities"]} items')
    for item in items:
        if not isinstance(item.get("customType"), str) or not isinstance(item.get("text"), str):
            raise BadRequest(f'"{name}[]" needs string "customType" and "text"')
        if len(item["customType"]) > LIMITS["name"] or len(item["text"]) > LIMITS["string"]:
            raise BadRequest(f'"{name}[]" "customType" or "text" is too long')
    return tuple(items)


def _trackers(name: str, raw: Raw) -> tuple[dict[str, Any], ...]:
    items = _object_list(name, raw)
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
    value = _json_value(name, raw)
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


#: Symbl option name → (JobOptions field, parser).
_OPTIONS: dict[str, tuple[str, Callable[[str, Raw], Any]]] = {
    "name": ("name", _name),
    "webhookUrl": ("webhook_url", _url),
    "customVocabulary": ("custom_vocabulary", _string_list),
    "confidenceThreshold": ("confidence_threshold", _confidence),
    "detectPhrases": ("detect_phrases", _bool),
    "detectEntities": ("detect_entities", _bool),
    "entities": ("entities", _entities),
    "customEntities": ("entities", _entities),
    "languageCode": ("language_code", _language),
    "mode": ("mode", _mode),
    "enableSeparateRecognitionPerChannel": ("per_channel", _bool),
    "channelMetadata": ("channel_metadata", _channel_metadata),
    "enableSpeakerDiarization": ("diarization", _bool),
    "diarizationSpeakerCount": ("speaker_count", _speaker_count),
    "trackers": ("trackers", _trackers),
    "enableAllTrackers": ("enable_all_trackers", _bool),
    "enableSummary": ("enable_summary", _bool),
    "timezoneOffset": ("timezone_offset", _timezone_offset),
    "metadata": ("metadata", _metadata),
    "parentRefs": ("parent_refs", _bool),
    "sentiment": ("sentiment", _bool),
    "features": ("features", _features),
    "conversationType": ("conversation_type", _string),
}


#: Symbl option name → JobOptions field name.
OPTION_FIELDS = {name: attr for name, (attr, _) in _OPTIONS.items()}


def parse_options(*sources: Mapping[str, Raw]) -> JobOptions:
    """Build ``JobOptions`` from sources given lowest precedence first.

    Each source maps a Symbl option name to its raw values (a query string's
    repeated keys, or a one-element list holding a JSON body's value). A later
    source wins over an earlier one, so pass ``(query, body)``.
    """
    merged: dict[str, Raw] = {}
    for source in sources:
        for key, raw in source.items():
            if key in _OPTIONS and len(raw) and raw[-1] is not None:
                merged[key] = raw
    values: dict[str, Any] = {}
    for key, raw in merged.items():
        attr, parse = _OPTIONS[key]
        values[attr] = parse(key, raw)
    if values.get("diarization") and values.get("per_channel"):
        values["per_channel"] = False  # Symbl's FAQ: diarization wins
    return JobOptions(**values)


# -- the conversation list's ``filter`` ---------------------------------------------

_FILTER_SPLIT = re.compile(r";|\band\b")
_FILTER_OR = re.compile(r",|\bor\b", re.IGNORECASE)
_METADATA_KEY = re.compile(r"[\w.-]+")
_FILTER_PREFIX = "conversation.metadata."


def parse_metadata_filter(
    raw: str | None, *, limit: int | None = LIMITS["filter_chars"]
) -> dict[str, str]:
    """``conversation.metadata.key==value[;|and ...]`` → {key: value}, in linear time.

    The clauses are split and then cut at ``==`` with string operations; the only
    patterns left have no nested or adjacent unbounded repeats, so no input makes them
    backtrack (the old single regex took 78 s on 100,000 spaces).
    """
    if not raw:
        return {}
    if limit is not None and len(raw) > limit:
        raise BadRequest(f'"filter" must be at most {limit} characters')
    clauses = _FILTER_SPLIT.split(raw)
    if len(clauses) > 2 or _FILTER_OR.search(raw):
        raise BadRequest('"filter" allows at most 2 conditions joined by "and"; OR is not allowed')
    result = {}
    for clause in clauses:
        left, sep, right = clause.partition("==")
        left, value = left.strip(), right.strip()
        key = left.removeprefix(_FILTER_PREFIX)
        if not sep or key == left or not value or not _METADATA_KEY.fullmatch(key):
            raise BadRequest('"filter" must look like conversation.metadata.key==value')
        result[key] = value.strip("'\"")
    return result


# -- the options as JSON Schema (for the OpenAPI document) ---------------------------

_BOOL = {"type": "boolean"}
_STRINGS = {
    "type": "array",
    "maxItems": LIMITS["vocabulary_items"],
    "items": {"type": "string", "maxLength": LIMITS["vocabulary_chars"]},
}
_ENTITY = {
    "type": "object",
    "required": ["customType", "text"],
    "properties": {
        "customType": {"type": "string", "maxLength": LIMITS["name"]},
        "text": {"type": "string", "maxLength": LIMITS["string"]},
    },
}
_TRACKER = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "maxLength": 64},
        "name": {"type": "string", "minLength": 1, "maxLength": LIMITS["name"]},
        "vocabulary": {**_STRINGS, "minItems": 1},
    },
}
_OBJECT = {"type": "object", "maxProperties": LIMITS["metadata_keys"]}

#: Symbl option name → JSON Schema of its value (as a JSON body field).
OPTION_SCHEMAS: dict[str, dict[str, Any]] = {
    "name": {"type": "string", "maxLength": LIMITS["name"]},
    "webhookUrl": {"type": "string", "format": "uri", "maxLength": 4096},
    "customVocabulary": _STRINGS,
    "confidenceThreshold": {"type": "number", "minimum": 0, "maximum": 1},
    "detectPhrases": _BOOL,
    "detectEntities": _BOOL,
    "entities": {"type": "array", "maxItems": LIMITS["entities"], "items": _ENTITY},
    "customEntities": {"type": "array", "maxItems": LIMITS["entities"], "items": _ENTITY},
    "languageCode": {"type": "string", "maxLength": 32, "example": "en-US"},
    "mode": {"type": "string", "enum": ["phone", "default"]},
    "enableSeparateRecognitionPerChannel": _BOOL,
    "channelMetadata": {
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
    },
    "enableSpeakerDiarization": _BOOL,
    "diarizationSpeakerCount": {"type": "integer", "minimum": 1, "maximum": LIMITS["channels"]},
    "trackers": {"type": "array", "maxItems": LIMITS["trackers"], "items": _TRACKER},
    "enableAllTrackers": _BOOL,
    "enableSummary": _BOOL,
    "timezoneOffset": {
        "type": "integer",
        "minimum": -LIMITS["timezone_offset"],
        "maximum": LIMITS["timezone_offset"],
    },
    "metadata": _OBJECT,
    "parentRefs": _BOOL,
    "sentiment": _BOOL,
    "features": {
        "type": "object",
        "properties": {"featureList": {"type": "array", "items": {"type": "string"}}},
    },
    "conversationType": {"type": "string", "maxLength": LIMITS["string"]},
}
assert set(OPTION_SCHEMAS) == set(_OPTIONS), "every option needs its schema"


def parse_datetime(name: str, value: Any, *, require_zone: bool = False) -> datetime:
    """An ISO-8601 date-time between 1970 and 9998, in UTC (``parley.times.parse_iso``).

    The bounds keep arithmetic on it (a week earlier, a conversion) from overflowing, as
    year 1 did. Without a zone it is taken as UTC, unless required.
    """
    if not isinstance(value, str) or len(value) > 64:
        raise BadRequest(f'"{name}" must be an ISO-8601 date-time string')
    try:
        moment = parse_iso(value, require_zone=require_zone)
    except ValueError:
        zone = ' with a time zone (e.g. "Z")' if require_zone else ""
        raise BadRequest(f'"{name}" must be an ISO-8601 date-time string{zone}') from None
    if not 1970 <= moment.year <= 9998:
        raise BadRequest(f'"{name}" must be between the years 1970 and 9998')
    return moment
