"""The Streaming API's wire format (``/v1/streaming/{id}``, ``/v1/realtime/insights/{id}``).

Client → server: ``start_request`` in every shape Symbl's SDKs send (symbl-streaming.md §5.1:
flat or nested ``speechRecognition``, top-level ``meetingTitle``/``id``, ``null`` speaker
and trackers, float sample rates, a boolean ``noConnectionTimeout``), ``stop_request``
(also the py-sdk's Python-repr text and ``stop_recognition``), ``modify_request`` and the
``__PING__`` keep-alive. Unknown keys are accepted and ignored (``extra="allow"``), as
Symbl did, so a newer SDK's field never fails a start.

Server → client: the control messages wrapped in ``{"type": "message", "message": …}``,
``recognition_result``, and the result frames typed at top level (§6). Field names are
Symbl's (aliases where Python's differ); ``dump`` writes them.
"""

from __future__ import annotations

import ast
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from parley_client.wire.limits import LIMITS

__all__ = [
    "PING",
    "PONG",
    "AdHocTracker",
    "ControlMessage",
    "InsightResponse",
    "MessageEnvelope",
    "MessageResponse",
    "ModifyRequest",
    "RecognitionAlternative",
    "RecognitionResult",
    "RecognitionWord",
    "SpeechRecognitionConfig",
    "StartRequest",
    "StopRequest",
    "StreamSpeaker",
    "StreamedInsight",
    "StreamedMessage",
    "StreamedTopic",
    "StreamingConfig",
    "StreamingError",
    "TimeValue",
    "TopicResponse",
    "TrackerResponse",
    "dump",
    "parse_client_text",
]

#: The js-sdk's keep-alive text, and the only non-JSON text the server ever sends back.
PING = "__PING__"
PONG = "__PONG__"

_LOOSE = ConfigDict(extra="allow", populate_by_name=True)


def _integral(value: Any) -> Any:
    """16000.0 (the Agora extension) is 16000; 16000.5 is not a sample rate."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# -- client → server ------------------------------------------------------------------------


class SpeechRecognitionConfig(BaseModel):
    """``config.speechRecognition`` (or the same keys flat in ``config``)."""

    model_config = _LOOSE

    encoding: str | None = None
    sample_rate_hertz: int | None = Field(default=None, alias="sampleRateHertz", ge=1)
    interim_results: bool | None = Field(default=None, alias="interimResults")
    engine: str | None = None

    _integral = field_validator("sample_rate_hertz", mode="before")(_integral)


class TrackerOptions(BaseModel):
    """``config.trackers``."""

    model_config = _LOOSE

    interim_results: bool | None = Field(default=None, alias="interimResults")
    enable_all_trackers: bool | None = Field(default=None, alias="enableAllTrackers")


class StreamingConfig(BaseModel):
    """``start_request.config``; flat ``encoding``/``sampleRateHertz`` are read too."""

    model_config = _LOOSE

    confidence_threshold: float | None = Field(
        default=None, alias="confidenceThreshold", ge=0.0, le=1.0
    )
    language_code: str | None = Field(
        default=None, alias="languageCode", max_length=LIMITS["string"]
    )
    timezone_offset: int | None = Field(
        default=None,
        alias="timezoneOffset",
        ge=-LIMITS["timezone_offset"],
        le=LIMITS["timezone_offset"],
    )
    meeting_title: str | None = Field(default=None, alias="meetingTitle", max_length=LIMITS["name"])
    speech_recognition: SpeechRecognitionConfig | None = Field(
        default=None, alias="speechRecognition"
    )
    encoding: str | None = None
    sample_rate_hertz: int | None = Field(default=None, alias="sampleRateHertz", ge=1)
    interim_results: bool | None = Field(default=None, alias="interimResults")
    sentiment: bool | None = None
    trackers: TrackerOptions | None = None
    detect_entities: bool | None = Field(default=None, alias="detectEntities")

    _integral = field_validator("sample_rate_hertz", mode="before")(_integral)


class StreamSpeaker(BaseModel):
    """``start_request.speaker``: echoed back (arbitrary extra keys included)."""

    model_config = _LOOSE

    user_id: str | None = Field(default=None, alias="userId", max_length=LIMITS["name"])
    name: str | None = Field(default=None, max_length=LIMITS["name"])


class AdHocTracker(BaseModel):
    """One of ``start_request.trackers``."""

    model_config = _LOOSE

    name: str = Field(min_length=1, max_length=LIMITS["name"])
    vocabulary: list[str] = Field(default_factory=list, max_length=LIMITS["vocabulary_items"])


class StartRequest(BaseModel):
    """``{"type": "start_request", …}`` in any of the shapes the SDKs send."""

    model_config = _LOOSE

    type: Literal["start_request"]
    insight_types: list[str] | None = Field(
        default=None, alias="insightTypes", max_length=LIMITS["string"]
    )
    config: StreamingConfig = Field(default_factory=StreamingConfig)
    speaker: StreamSpeaker | None = None
    trackers: list[AdHocTracker] | None = Field(default=None, max_length=LIMITS["trackers"])
    custom_vocabulary: list[str] | None = Field(
        default=None, alias="customVocabulary", max_length=LIMITS["vocabulary_items"]
    )
    no_connection_timeout: int | bool | None = Field(default=None, alias="noConnectionTimeout")
    disconnect_on_stop_request: bool = Field(default=True, alias="disconnectOnStopRequest")
    disconnect_on_stop_request_timeout: int | None = Field(
        default=None, alias="disconnectOnStopRequestTimeout", ge=0, le=1800
    )
    id: str | None = Field(default=None, max_length=LIMITS["string"])
    meeting_title: str | None = Field(default=None, alias="meetingTitle", max_length=LIMITS["name"])
    sentiments: bool | None = None
    enable_all_trackers: bool | None = Field(default=None, alias="enableAllTrackers")

    @property
    def encoding(self) -> str:
        """The audio encoding, upper case (``speechRecognition`` first, then flat)."""
        nested = self.config.speech_recognition
        value = (nested.encoding if nested else None) or self.config.encoding or "LINEAR16"
        return value.upper()

    @property
    def sample_rate(self) -> int:
        """The sample rate (``speechRecognition`` first, then flat; 16000 by default)."""
        nested = self.config.speech_recognition
        return (
            (nested.sample_rate_hertz if nested else None) or self.config.sample_rate_hertz or 16000
        )

    @property
    def title(self) -> str | None:
        return self.config.meeting_title or self.meeting_title

    @property
    def wanted_insights(self) -> frozenset[str]:
        """The insight types asked for; unknown ones (``topic``) are ignored."""
        known = {"question", "action_item", "follow_up"}
        return frozenset(t for t in self.insight_types or () if t in known)


class StopRequest(BaseModel):
    """``{"type": "stop_request"}`` (also ``stop_recognition``, a Labs sample's)."""

    model_config = _LOOSE

    type: Literal["stop_request", "stop_recognition"]


class ModifyRequest(BaseModel):
    """``{"type": "modify_request", "speechRecognition": {…}}`` (top level, not in config)."""

    model_config = _LOOSE

    type: Literal["modify_request"]
    speech_recognition: SpeechRecognitionConfig = Field(alias="speechRecognition")


def parse_client_text(text: str) -> dict[str, Any]:
    """A client's text frame as a JSON object; the py-sdk's ``str(dict)`` stop request
    (``{'type': 'stop_request'}``) is read as a Python literal. ValueError otherwise."""
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text) if len(text) <= 1024 else None
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
        if not isinstance(value, dict):
            raise ValueError("The message is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ValueError("The message must be a JSON object.")
    return value


# -- server → client ------------------------------------------------------------------------


class ControlMessage(BaseModel):
    """The inner ``message`` of a control frame (``started_listening``, …, ``error``)."""

    model_config = _LOOSE

    type: str


class MessageEnvelope(BaseModel):
    """``{"type": "message", "message": {…}}``."""

    type: Literal["message"] = "message"
    message: dict[str, Any]
    time_offset: int | None = Field(default=None, alias="timeOffset")


class TimeValue(BaseModel):
    """Protobuf-JSON time: ``seconds`` and ``nanos`` as strings."""

    seconds: str
    nanos: str

    @classmethod
    def of(cls, value: float) -> TimeValue:
        whole = int(value)
        return cls(seconds=str(whole), nanos=str(round((value - whole) * 1e9)))


class RecognitionWord(BaseModel):
    word: str
    start_time: TimeValue = Field(alias="startTime")
    end_time: TimeValue = Field(alias="endTime")


class RecognitionAlternative(BaseModel):
    transcript: str
    confidence: float
    words: list[RecognitionWord] = Field(default_factory=list)


class RecognitionResult(BaseModel):
    """The inner ``message`` of a ``recognition_result`` frame."""

    model_config = ConfigDict(populate_by_name=True)

    type: Literal["recognition_result"] = "recognition_result"
    is_final: bool = Field(alias="isFinal")
    payload: dict[str, Any]
    punctuated: dict[str, str]
    user: dict[str, Any]


class StreamedMessage(BaseModel):
    """One finalized sentence of a ``message_response``."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    from_: dict[str, Any] = Field(alias="from")
    payload: dict[str, str]
    channel: dict[str, str] = Field(default_factory=lambda: {"id": "realtime-api"})
    metadata: dict[str, Any]
    dismissed: bool = False
    duration: dict[str, Any]


class MessageResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    type: Literal["message_response"] = "message_response"
    sequence_number: int = Field(alias="sequenceNumber")
    messages: list[StreamedMessage]


class StreamedInsight(BaseModel):
    """One question, action item or follow-up: ``text`` and ``payload.content`` both."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    type: str
    text: str
    confidence: float
    payload: dict[str, str]
    message_reference: dict[str, str] = Field(alias="messageReference")
    hints: list[dict[str, str]] = Field(default_factory=list)
    assignee: dict[str, Any] | None = None
    tags: list[Any] = Field(default_factory=list)
    dismissed: bool = False
    from_: dict[str, Any] | None = Field(default=None, alias="from")
    entities: Any = None


class InsightResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    type: Literal["insight_response"] = "insight_response"
    sequence_number: int = Field(alias="sequenceNumber")
    insights: list[StreamedInsight]


class StreamedTopic(BaseModel):
    """``phrases`` is a string, as Symbl sent it."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    type: Literal["topic"] = "topic"
    phrases: str
    score: float
    root_words: list[dict[str, str]] = Field(default_factory=list, alias="rootWords")
    message_references: list[dict[str, str]] = Field(alias="messageReferences")


class TopicResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    type: Literal["topic_response"] = "topic_response"
    sequence_number: int = Field(alias="sequenceNumber")
    topics: list[StreamedTopic]


class TrackerResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    type: Literal["tracker_response"] = "tracker_response"
    is_final: bool = Field(default=True, alias="isFinal")
    sequence_number: int = Field(alias="sequenceNumber")
    trackers: list[dict[str, Any]]


class StreamingError(BaseModel):
    """The inner ``message`` of an error frame: ``message``, ``details`` and ``detail``
    (the web-sdk's test reads the singular) say the same thing."""

    type: Literal["error"] = "error"
    code: int
    message: str
    details: str
    detail: str


def dump(model: BaseModel) -> dict[str, Any]:
    """A server frame as Symbl spells it (aliases, unset optionals left out)."""
    return model.model_dump(by_alias=True, exclude_none=True)
