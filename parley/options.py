"""Async API options: parsed and validated once, at the edge, into ``JobOptions``.

Symbl clients send the same option in many spellings: JSON booleans or the
strings "true"/"false", lists as a JSON array string or as repeated query keys,
and (a Python SDK bug) one query key per character of the JSON text. All of
them land here; every invalid value becomes a ``BadRequest`` naming the option.
Unknown options are ignored, as old clients send extras.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from parley.errors import BadRequest

__all__ = ["OPTION_FIELDS", "ChannelSpeaker", "JobOptions", "parse_options", "validate_url"]

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
    value = _single(name, raw)
    if isinstance(value, bool):
        raise BadRequest(f'"{name}" must be a number')
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadRequest(f'"{name}" must be a number') from None


def _int(name: str, raw: Raw) -> int:
    number = _number(name, raw)
    if number != int(number):
        raise BadRequest(f'"{name}" must be an integer')
    return int(number)


def _string(name: str, raw: Raw) -> str:
    value = _single(name, raw)
    if not isinstance(value, str):
        raise BadRequest(f'"{name}" must be a string')
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
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise BadRequest(f'"{name}" is not valid JSON') from None
        return [value] if text else []
    return value


def _string_list(name: str, raw: Raw) -> tuple[str, ...]:
    value = _json_value(name, raw)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f'"{name}" must be an array of strings')
    return tuple(v.strip() for v in value if v.strip())


def _object_list(name: str, raw: Raw) -> list[dict[str, Any]]:
    value = _json_value(name, raw)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadRequest(f'"{name}" must be an array of objects')
    return value


def validate_url(name: str, value: Any) -> str:
    """An absolute http(s) URL, or BadRequest naming the option."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f'"{name}" must be a non-empty URL')
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest(f'"{name}" must be an absolute http or https URL')
    return value.strip()


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
    if not 1 <= value <= 32:
        raise BadRequest(f'"{name}" must be between 1 and 32')
    return value


def _channel_metadata(name: str, raw: Raw) -> tuple[ChannelSpeaker, ...]:
    result = []
    for item in _object_list(name, raw):
        channel = item.get("channel")
        if isinstance(channel, bool) or not isinstance(channel, int) or channel < 1:
            raise BadRequest(f'"{name}[].channel" must be a positive integer')
        speaker = item.get("speaker")
        if not isinstance(speaker, dict):
            raise BadRequest(f'"{name}[].speaker" must be an object')
        person = {k: speaker.get(k) for k in ("name", "email")}
        if any(v is not None and not isinstance(v, str) for v in person.values()):
            raise BadRequest(f'"{name}[].speaker" name and email must be strings')
        result.append(ChannelSpeaker(channel=channel, **person))
    return tuple(result)


def _entities(name: str, raw: Raw) -> tuple[dict[str, Any], ...]:
    items = _object_list(name, raw)
    for item in items:
        if not isinstance(item.get("customType"), str) or not isinstance(item.get("text"), str):
            raise BadRequest(f'"{name}[]" needs string "customType" and "text"')
    return tuple(items)


def _trackers(name: str, raw: Raw) -> tuple[dict[str, Any], ...]:
    items = _object_list(name, raw)
    for item in items:
        if "id" in item:
            if not isinstance(item["id"], str | int):
                raise BadRequest(f'"{name}[].id" must be a string')
            continue
        if not isinstance(item.get("name"), str) or not item["name"].strip():
            raise BadRequest(f'"{name}[].name" must be a non-empty string')
        vocabulary = item.get("vocabulary")
        if not isinstance(vocabulary, list) or not vocabulary:
            raise BadRequest(f'"{name}[].vocabulary" must be a non-empty array of strings')
        if not all(isinstance(v, str) and v.strip() for v in vocabulary):
            raise BadRequest(f'"{name}[].vocabulary" must be a non-empty array of strings')
    return tuple(items)


def _metadata(name: str, raw: Raw) -> dict[str, Any]:
    value = _json_value(name, raw)
    if not isinstance(value, dict):
        raise BadRequest(f'"{name}" must be an object')
    return value


def _features(name: str, raw: Raw) -> dict[str, Any]:
    value = _metadata(name, raw)
    features = value.get("featureList", [])
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise BadRequest(f'"{name}.featureList" must be an array of strings')
    return value


#: Symbl option name → (JobOptions field, parser).
_OPTIONS: dict[str, tuple[str, Callable[[str, Raw], Any]]] = {
    "name": ("name", _string),
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
    "timezoneOffset": ("timezone_offset", _int),
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
