"""Symbl endpoints Parley cannot serve, answered 501 with what to do instead.

Telephony (``POST /v1/endpoint:connect``, ``POST /v1/event/{connectionId}``): Symbl's
servers placed the call (PSTN or SIP dial-out), which needs a SIP user agent, RTP media
and a carrier; a self-hosted server gets call audio from a SIP gateway instead
(symbl-streaming.md §11, R.7). The legacy Language Insights ``POST /v1/insights`` and the
undocumented ``/v1/metric`` API (R.8) have no client that wraps them; Nebula's
``POST /v1/model/generate`` (R.8) is another product, Symbl's hosted LLM. Each answers a 501
in Symbl's error shape after the usual token check, never a bare 404, so a client learns
what happened and where to go.
"""

from __future__ import annotations

from fastapi import APIRouter

from parley.api.deps import AppId
from parley.api.openapi import errors
from parley.errors import NotServed

router = APIRouter(tags=["not served"])

#: The tag of these operations (the fuzz test leaves them out: a 501 is their contract).
TAG = "not served"

TELEPHONY = (
    "Parley does not place or answer telephone calls, so {what} is not available. "
    "To analyse a call live, connect a SIP gateway (Asterisk, FreeSWITCH, Jambonz or Twilio "
    "Media Streams) that sends the call's audio to Parley's Streaming API at "
    "/v1/streaming/{{connectionId}}, as Symbl's own Twilio integration did; or record the call "
    "and submit the recording to POST /v1/process/audio."
)
LEGACY_INSIGHTS = (
    "POST /v1/insights (the legacy Language Insights API) is not available in Parley. "
    "Submit the messages to POST /v1/process/text and read the insights from "
    "GET /v1/conversations/{conversationId}/insights (or /questions, /action-items, "
    "/follow-ups, /topics)."
)
METRICS = (
    "The /v1/metric API is not available in Parley. A conversation's measurements are at "
    "GET /v1/conversations/{conversationId}/analytics; the server's own at GET /metrics."
)

NEBULA = (
    "POST /v1/model/generate belongs to Nebula, Symbl's hosted language model, which Parley "
    "does not include. Parley's action items and summaries can use an OpenAI-compatible "
    "endpoint of your own (PARLEY_LLM_BASE_URL)."
)

_501 = errors(501)


@router.post("/v1/endpoint:connect", status_code=501, responses=_501)
def endpoint_connect(app_id: AppId) -> None:
    """Telephony dial-out (PSTN/SIP): not served."""
    raise NotServed(TELEPHONY.format(what="POST /v1/endpoint:connect (PSTN/SIP dial-out)"))


@router.post("/v1/event/{connection_id}", status_code=501, responses=_501)
def push_event(connection_id: str, app_id: AppId) -> None:
    """Events for a telephony connection: not served (there are no such connections)."""
    raise NotServed(TELEPHONY.format(what="POST /v1/event/{connectionId} (telephony events)"))


@router.post("/v1/insights", status_code=501, responses=_501)
def legacy_insights(app_id: AppId) -> None:
    """The legacy Language Insights API: not served."""
    raise NotServed(LEGACY_INSIGHTS)


@router.get("/v1/metric/{metric_id}", status_code=501, responses=_501)
def get_metric(metric_id: str, app_id: AppId) -> None:
    """``symbl_rest``'s MetricApi: not served."""
    raise NotServed(METRICS)


@router.post("/v1/metric/{metric_id}/entry", status_code=501, responses=_501)
def add_metric_entry(metric_id: str, app_id: AppId) -> None:
    """``symbl_rest``'s MetricEntryApi: not served."""
    raise NotServed(METRICS)


@router.post("/v1/model/generate", status_code=501, responses=_501)
def nebula_generate(app_id: AppId) -> None:
    """Nebula (api-nebula.symbl.ai): not served."""
    raise NotServed(NEBULA)
