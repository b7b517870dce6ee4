"""Golden files of the REST API: the exact answer of every route on processed conversations.

Why: the wire format is about to move from hand-written dicts to typed models, and that
change must be provable byte for byte. ``record`` starts a real server (in-process, on a
temporary data dir), processes a fixed set of conversations and saves every answer;
``compare`` says which answers changed.

    python tools/golden.py record DIR [--text-only]
    python tools/golden.py compare DIR_A DIR_B

Each file holds the request line, the status, the content type and the body exactly as
sent, except for values that differ from run to run, which are replaced *inside the raw
text* (so key order, separators and every other byte stay as the server wrote them):
ids and tokens become placeholders named in order of first appearance, wall-clock times
become ``<a.start+12.34>`` (relative to their conversation's start) or ``<wallclock>``.
Bodies that are not JSON or text (audio) are kept as their size and SHA-256.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

INDEX = "index.json"
#: Answers that are pages or the API document rather than the wire format: left out of
#: ``--text-only`` recordings (the CI goldens), so a console or document change is no
#: wire change there. The full recording keeps them.
NOT_WIRE = (
    "ops/openapi.txt",
    "ops/console.txt",
    "ops/console-file.txt",
    "c-text/experience-ro-page.txt",
    "c-text/experience-rw-page.txt",
)

# -- the conversations --------------------------------------------------------------

TEXT_CALL = [  # (name, e-mail or None, text, start): Omar has no e-mail (the userId case)
    ("Sam", "sam@globex.com", "Hi Dana, do you support single sign-on?", "10:00:00"),
    ("Dana", "dana@acme.com", "Yes, we do. I will send you the contract by Friday.", "10:00:06"),
    ("Omar", None, "What is the price of Parley Pro for fifty seats?", "10:00:14"),
    ("Dana", "dana@acme.com", "It is forty dollars a seat, with discounts above 100.", "10:00:20"),
    ("Sam", "sam@globex.com", "Great. Can you also email me the security whitepaper?", "10:00:27"),
    ("Omar", None, "Let's schedule a follow-up call next Tuesday to review it.", "10:00:35"),
]
APPENDED = [
    ("Dana", "dana@acme.com", "Sure, I will send the whitepaper today.", "10:01:00"),
    ("Kim", None, "I can join the Tuesday call as well.", "10:01:08"),
]
INSIGHTS_CALL = [
    ("Sam", "sam@globex.com", "What is the price of Parley Pro for our team?", "09:00:00"),
    (
        "Dana",
        "dana@acme.com",
        "Parley Pro costs forty dollars, and we offer discounts.",
        "09:00:07",
    ),
    ("Sam", "sam@globex.com", "Please send me the contract and the invoice by Monday.", "09:00:15"),
    (
        "Dana",
        "dana@acme.com",
        "I will call Acme Corporation in Berlin about it tomorrow.",
        "09:00:24",
    ),
    ("Lee", None, "You can reach me at 415-555-0134 or lee@example.org.", "09:00:33"),
]


def text_body(lines: list[tuple[str, str | None, str, str]], day: str) -> dict[str, Any]:
    messages = []
    for name, email, text, clock in lines:
        author: dict[str, str] = {"name": name}
        if email:
            author["userId"] = email
        start = datetime.fromisoformat(f"{day}T{clock}+00:00")
        messages.append(
            {
                "payload": {"content": text},
                "from": author,
                "duration": {
                    "startTime": start.isoformat(),
                    "endTime": (start + timedelta(seconds=5)).isoformat(),
                },
            }
        )
    return {"messages": messages}


# -- normalisation -------------------------------------------------------------------

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NUM = re.compile(r"(?<![0-9])[1-9][0-9]{15}(?![0-9])")
#: when a row was written: wall clock even when it falls inside a conversation's span
_RECORD_TIME = re.compile(
    r'("(?:createdAt|updatedAt|createdOn|updatedOn|nextAttemptAt)":)"[0-9T:.-]+Z"'
)
_EVENT = re.compile(r"msg_[0-9a-f]{32}")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z")
_EPOCH = re.compile(r'("(?:exp|iat|expiresAt)":)([0-9]{10})(?![0-9])')
_EXPIRES_IN = re.compile(r'("expiresIn":)([0-9]+)')


@dataclass
class Normaliser:
    """Replaces what differs run to run; ``known`` holds ids named by the recording
    (conversations, jobs, messages, members, trackers), the rest are numbered per file."""

    started: datetime
    known: dict[str, str] = field(default_factory=dict)
    anchors: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    #: plain strings replaced first: the server's and the webhook receiver's base URLs
    literals: dict[str, str] = field(default_factory=dict)

    def name(self, raw: str, placeholder: str) -> None:
        self.known.setdefault(raw, placeholder)

    def _time(self, text: str) -> str:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if (
            not self.started - timedelta(minutes=5)
            <= moment
            <= datetime.now(UTC) + timedelta(days=40)
        ):
            return text  # a time the request gave, not the wall clock
        for label, start, end in self.anchors:
            if start <= moment <= end:
                return f"<{label}.start+{(moment - start).total_seconds():.2f}>"
        return "<wallclock>"

    def text(self, raw: str) -> str:
        local: dict[str, str] = {}
        counters: dict[str, int] = {}

        def named(kind: str) -> Callable[[re.Match[str]], str]:
            def replace(match: re.Match[str]) -> str:
                value = match.group(0)
                if value in self.known:
                    return self.known[value]
                if value not in local:
                    counters[kind] = counters.get(kind, 0) + 1
                    local[value] = f"<{kind}{counters[kind]}>"
                return local[value]

            return replace

        for literal, placeholder in self.literals.items():
            raw = raw.replace(literal, placeholder)
        out = _JWT.sub(named("jwt"), raw)
        out = _EVENT.sub(named("event"), out)
        out = _UUID.sub(named("uuid"), out)
        out = _NUM.sub(named("id"), out)
        out = _RECORD_TIME.sub(lambda m: f'{m.group(1)}"<wallclock>"', out)
        out = _ISO.sub(lambda m: self._time(m.group(0)), out)
        out = _EPOCH.sub(lambda m: f'{m.group(1)}"<epoch>"', out)
        return _EXPIRES_IN.sub(lambda m: f'{m.group(1)}"<seconds>"', out)


# -- recording -----------------------------------------------------------------------


@dataclass
class Recorder:
    out: Path
    client: Any  # httpx.Client on the server
    app: Any
    norm: Normaliser
    token: str
    index: list[dict[str, Any]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    skip: tuple[str, ...] = ()

    def call(
        self,
        conversation: str,
        label: str,
        method: str,
        url: str,
        *,
        auth: bool = True,
        expect: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """One request, saved as ``conversation/label.txt``; returns the response."""
        headers = dict(kwargs.pop("headers", {}))
        if auth:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        response = self.client.request(method, url, headers=headers, **kwargs)
        if expect is not None and response.status_code != expect:
            raise AssertionError(f"{method} {url}: {response.status_code} {response.text[:500]}")
        name = f"{conversation}/{label}.txt"
        if name in self.names:
            raise AssertionError(f"two recordings named {name}")
        self.names.add(name)
        request_line = self.norm.text(f"{method} {url}")
        params = kwargs.get("params")
        if params:
            from urllib.parse import urlencode

            request_line += "?" + self.norm.text(urlencode(params))
        content_type = response.headers.get("content-type", "")
        body = self.body(response.content, content_type, url)
        text = (
            f"{request_line}\nstatus: {response.status_code}\ncontent-type: {content_type}\n"
            + (
                f"content-range: {response.headers['content-range']}\n"
                if "content-range" in response.headers
                else ""
            )
            + f"\n{body}\n"
        )
        if name not in self.skip:
            path = self.out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        self.index.append(
            {
                "file": None if name in self.skip else name,
                "conversation": conversation,
                "method": method,
                "route": self.route_of(method, url),
                "status": response.status_code,
            }
        )
        return response

    def body(self, raw: bytes, content_type: str, url: str) -> str:
        if url == "/metrics":  # counters and timings: only which families exist
            names = sorted(
                {line.split()[2] for line in raw.decode().splitlines() if line.startswith("# TYPE")}
            )
            return "# metric families: " + " ".join(names)
        textual = content_type.startswith(("application/json", "text/plain"))
        if not textual or len(raw) > 200_000:
            return f"<{len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()}>"
        return self.norm.text(raw.decode("utf-8"))

    def route_of(self, method: str, url: str) -> str:
        path = url.split("?")[0]
        for template, methods, regex in flat_routes(self.app):
            if method in methods and regex.match(path):
                return f"{method} {template}"
        return f"{method} (no route)"


def flat_routes(app: Any) -> Iterator[tuple[str, set[str], re.Pattern[str]]]:
    """(template, methods, regex) of every route, in matching order; FastAPI 0.165
    keeps included routers as one entry each."""
    for route in app.routes:
        candidates = (
            route.effective_candidates() if hasattr(route, "effective_candidates") else [route]
        )
        for item in candidates:
            yield item.path, set(item.methods or ()), item.path_regex


def all_routes(app: Any) -> list[str]:
    return sorted(
        {
            f"{m} {template}"
            for template, methods, _ in flat_routes(app)
            for m in methods
            if m != "HEAD"
        }
    )


def wait_job(client: Any, token: str, job_id: str, timeout: float = 900) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/job/{job_id}", headers={"Authorization": f"Bearer {token}"}).json()
        if job["status"] in ("completed", "failed"):
            if job["status"] != "completed":
                raise AssertionError(f"job {job_id} failed: {job}")
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout}s")


@dataclass
class Session:
    """The server, the recorder and the conversations recorded so far (label → id)."""

    rec: Recorder
    conversations: dict[str, str] = field(default_factory=dict)
    jobs: dict[str, list[str]] = field(default_factory=dict)

    @property
    def client(self) -> Any:
        return self.rec.client

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.rec.token}"}

    def submitted(self, label: str, response: Any, *, appended: bool = False) -> str:
        """Name the new ids, wait for the job, then name the conversation's messages,
        members and times, so every later file shows them the same way."""
        body = response.json()
        cid, job_id = body["conversationId"], body["jobId"]
        jobs = self.jobs.setdefault(label, [])
        jobs.append(job_id)
        norm = self.rec.norm
        norm.name(cid, f"<conv:{label}>")
        norm.name(job_id, f"<job:{label}.{len(jobs)}>")
        wait_job(self.client, self.rec.token, job_id)
        self.conversations[label] = cid
        conversation = self.client.get(f"/v1/conversations/{cid}", headers=self.auth()).json()
        start = datetime.fromisoformat(conversation["startTime"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(conversation["endTime"].replace("Z", "+00:00"))
        norm.anchors = [a for a in norm.anchors if a[0] != label]
        norm.anchors.append((label, start, end + timedelta(seconds=1)))
        messages = self.client.get(f"/v1/conversations/{cid}/messages", headers=self.auth()).json()[
            "messages"
        ]
        for i, message in enumerate(messages, 1):
            norm.name(message["id"], f"<msg:{label}.{i}>")
        members = self.client.get(f"/v1/conversations/{cid}/members", headers=self.auth()).json()
        for i, member in enumerate(members["members"], 1):
            norm.name(member["id"], f"<member:{label}.{i}>")
        return str(cid)


def conversation_reads(s: Session, label: str) -> None:
    """Every read of the Conversation API on one processed conversation."""
    cid = s.conversations[label]
    base = f"/v1/conversations/{cid}"
    call = s.rec.call
    call(label, "conversation", "GET", base, expect=200)
    call(label, "messages", "GET", f"{base}/messages", expect=200)
    for variant, params in (
        ("verbose", {"verbose": "true"}),
        ("sentiment", {"sentiment": "true"}),
        ("verbose-sentiment", {"verbose": "true", "sentiment": "true"}),
        ("redact", {"redact": "true"}),
        ("redact-exclude", {"redact": "true", "exclude": '["PERSON_NAME"]'}),
        ("redact-exclude-csv", {"redact": "true", "exclude": "PHONE_NUMBER,EMAIL_ADDRESS"}),
    ):
        call(label, f"messages--{variant}", "GET", f"{base}/messages", params=params, expect=200)
    call(label, "members", "GET", f"{base}/members", expect=200)
    for content_type, slug in (
        ("text/markdown", "markdown"),
        ("text/srt", "srt"),
        ("text/vtt", "vtt"),
    ):
        call(
            label,
            f"transcript--{slug}",
            "POST",
            f"{base}/transcript",
            json={"contentType": content_type},
            expect=200,
        )
    call(
        label,
        "transcript--markdown-plain",
        "POST",
        f"{base}/transcript",
        json={
            "contentType": "text/markdown",
            "createParagraphs": False,
            "showSpeakerSeparation": False,
            "phrases": {"highlightAllKeyPhrases": True},
        },
        expect=200,
    )
    call(
        label,
        "transcript-get--srt",
        "GET",
        f"{base}/transcript",
        params={"contentType": "text/srt"},
        expect=200,
    )
    for path in (
        "questions",
        "action-items",
        "comprehensive/action-items",
        "follow-ups",
        "topics",
        "entities",
        "trackers",
        "trackers-detected",
        "summary",
        "analytics",
        "insights",
        "intents",
        "abstract-topics",
        "media",
    ):
        call(label, path.replace("/", "_"), "GET", f"{base}/{path}", expect=200)
    call(
        label,
        "topics--sentiment-parentRefs",
        "GET",
        f"{base}/topics",
        params={"sentiment": "true", "parentRefs": "true"},
        expect=200,
    )
    for i, job_id in enumerate(s.jobs[label], 1):
        call(label, f"job{i}", "GET", f"/v1/job/{job_id}", expect=200)


def text_conversations(s: Session) -> None:
    client, auth = s.client, s.auth()
    # (c) text: several speakers, Omar and (later) Kim without an e-mail
    body = text_body(TEXT_CALL, "2024-03-05")
    response = s.rec.call("c-text", "submit", "POST", "/v1/process/text", json=body, expect=201)
    s.submitted("c-text", response)
    conversation_reads(s, "c-text")
    # (d) the same conversation with a second text job appended
    response = s.rec.call(
        "d-appended",
        "submit",
        "PUT",
        f"/v1/process/text/{s.conversations['c-text']}",
        json=text_body(APPENDED, "2024-03-05"),
        expect=201,
    )
    s.jobs["d-appended"] = list(s.jobs["c-text"])
    s.submitted("d-appended", response, appended=True)
    conversation_reads(s, "d-appended")
    # (e) trackers, custom vocabulary, entities and a summary
    body = text_body(INSIGHTS_CALL, "2024-04-02") | {
        "name": "Insights call",
        "detectEntities": True,
        "detectPhrases": True,
        "enableSummary": True,
        "customVocabulary": ["Parley Pro", "Acme"],
        "trackers": [{"name": "Pricing", "vocabulary": ["price", "discounts", "costs"]}],
        "entities": [{"customType": "Product", "text": "Parley Pro"}],
        "confidenceThreshold": 0.6,
    }
    response = s.rec.call("e-insights", "submit", "POST", "/v1/process/text", json=body, expect=201)
    s.submitted("e-insights", response)
    conversation_reads(s, "e-insights")
    del client, auth


def audio_conversations(s: Session, testdata: Path) -> None:
    """(a) diarized, (b) per channel. Each is submitted only once the previous one's
    audio span is in the past, so wall-clock times belong to one conversation only."""
    sample = testdata / "diarization" / "pyannote_sample" / "sample.wav"
    response = s.rec.call(
        "a-diarized",
        "submit",
        "POST",
        "/v1/process/audio",
        params={
            "name": "Diarized sample",
            "enableSpeakerDiarization": "true",
            "diarizationSpeakerCount": "2",
        },
        content=sample.read_bytes(),
        headers={"Content-Type": "audio/wav"},
        expect=201,
    )
    s.submitted("a-diarized", response)
    _after_anchors(s)
    conversation_reads(s, "a-diarized")
    stereo = testdata / "stereo" / "faster_whisper_stereo" / "stereo_diarization.wav"
    channels = [
        {"channel": 1, "speaker": {"name": "Left Person", "email": "left@example.com"}},
        {"channel": 2, "speaker": {"name": "Right Person"}},
    ]
    response = s.rec.call(
        "b-channels",
        "submit",
        "POST",
        "/v1/process/audio",
        params={
            "name": "Stereo sample",
            "enableSeparateRecognitionPerChannel": "true",
            "channelMetadata": json.dumps(channels),
        },
        content=stereo.read_bytes(),
        headers={"Content-Type": "audio/wav"},
        expect=201,
    )
    s.submitted("b-channels", response)
    _after_anchors(s)
    conversation_reads(s, "b-channels")
    cid, job = s.conversations["a-diarized"], s.jobs["a-diarized"][0]
    s.rec.call(
        "a-diarized",
        "media-file--range",
        "GET",
        f"/v1/conversations/{cid}/media/{job}",
        headers={"Range": "bytes=0-1023"},
        expect=206,
    )


def _after_anchors(s: Session) -> None:
    end = max(a[2] for a in s.rec.norm.anchors)
    while datetime.now(UTC) <= end + timedelta(seconds=1):
        time.sleep(0.1)


def app_wide(s: Session, text_label: str) -> None:
    """Routes not about one conversation: lists, jobs, webhooks, trackers, experiences,
    the conversation writes (on a scratch conversation), ops and the console."""
    call = s.rec.call
    cid = s.conversations[text_label]
    call("app", "conversations", "GET", "/v1/conversations", expect=200)
    call(
        "app",
        "conversations--since-2000",
        "GET",
        "/v1/conversations",
        params={"startTime": "2000-01-01T00:00:00Z", "order": "desc"},
        expect=200,
    )
    call(
        "app",
        "conversations--by-name",
        "GET",
        "/v1/conversations",
        params={"startTime": "2000-01-01T00:00:00Z", "sort": "conversation.name", "limit": "2"},
        expect=200,
    )
    call(
        "app",
        "conversations--query",
        "GET",
        "/v1/conversations",
        params={"query": "whitepaper"},
        expect=200,
    )
    call("app", "jobs", "GET", "/v1/jobs", expect=200)
    call("app", "jobs--limit", "GET", "/v1/jobs", params={"limit": "2"}, expect=200)
    # webhooks: a text job that reports to a local receiver
    from tests.receiver import receiver

    with receiver() as hook:
        s.rec.norm.literals[hook.url.rsplit("/", 1)[0]] = "<receiver>"
        body = text_body(APPENDED, "2024-05-01") | {"webhookUrl": hook.url}
        response = call("w-webhook", "submit", "POST", "/v1/process/text", json=body, expect=201)
        s.submitted("w-webhook", response)
        deadline = time.monotonic() + 60
        while True:
            rows = s.client.get("/v1/webhooks/deliveries", headers=s.auth()).json()["deliveries"]
            if rows and all(r["state"] == "delivered" for r in rows):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"webhooks not delivered: {rows}")
            time.sleep(0.1)
        first = rows[-1]["id"]
        call("w-webhook", "deliveries", "GET", "/v1/webhooks/deliveries", expect=200)
        call(
            "w-webhook",
            "deliveries--job",
            "GET",
            "/v1/webhooks/deliveries",
            params={"jobId": s.jobs["w-webhook"][0], "state": "delivered"},
            expect=200,
        )
        call("w-webhook", "delivery", "GET", f"/v1/webhooks/deliveries/{first}", expect=200)
        call(
            "w-webhook",
            "delivery-replay",
            "POST",
            f"/v1/webhooks/deliveries/{first}/replay",
            expect=202,
        )
        while any(
            r["state"] != "delivered"
            for r in s.client.get("/v1/webhooks/deliveries", headers=s.auth()).json()["deliveries"]
        ):  # the replay, delivered before the receiver goes
            if time.monotonic() > deadline:
                raise AssertionError("the replayed webhook was not delivered")
            time.sleep(0.1)
    # trackers
    tracker = {"name": "Budget", "vocabulary": ["budget", "price"], "categories": ["sales"]}
    one = call("manage", "trackers-create", "POST", "/v1/manage/trackers", json=tracker, expect=200)
    tid = one.json()["tracker"]["id"]
    s.rec.norm.name(tid, "<tracker:budget>")
    two = call(
        "manage",
        "tracker-create",
        "POST",
        "/v1/manage/tracker",
        json=tracker | {"name": "Legal"},
        expect=200,
    )
    s.rec.norm.name(two.json()["tracker"]["id"], "<tracker:legal>")
    bulk = call(
        "manage",
        "trackers-create-bulk",
        "POST",
        "/v1/manage/trackers/bulk",
        json=[{"name": "Timing", "vocabulary": ["next week"]}],
        expect=200,
    )
    s.rec.norm.name(bulk.json()["trackers"][0]["id"], "<tracker:timing>")
    array = call(
        "manage",
        "trackers-create-array",
        "POST",
        "/v1/manage/trackers",
        json=[{"name": "Security", "vocabulary": ["single sign-on"]}],
        expect=200,
    )
    s.rec.norm.name(array.json()["trackers"][0]["id"], "<tracker:security>")
    call("manage", "trackers", "GET", "/v1/manage/trackers", expect=200)
    call(
        "manage",
        "trackers--name",
        "GET",
        "/v1/manage/trackers",
        params={"name": "Budget"},
        expect=200,
    )
    call("manage", "trackers-get", "GET", f"/v1/manage/trackers/{tid}", expect=200)
    call("manage", "tracker-get", "GET", f"/v1/manage/tracker/{tid}", expect=200)
    call(
        "manage",
        "trackers-put",
        "PUT",
        f"/v1/manage/trackers/{tid}",
        json=tracker | {"description": "money"},
        expect=200,
    )
    call("manage", "tracker-put", "PUT", f"/v1/manage/tracker/{tid}", json=tracker, expect=200)
    call(
        "manage",
        "trackers-patch",
        "PATCH",
        f"/v1/manage/trackers/{tid}",
        json=[{"op": "add", "path": "/vocabulary", "value": "cost"}],
        expect=200,
    )
    call("manage", "trackers-duplicate", "POST", "/v1/manage/trackers", json=tracker, expect=409)
    call("manage", "trackers-delete", "DELETE", f"/v1/manage/trackers/{tid}", expect=200)
    call(
        "manage",
        "tracker-delete",
        "DELETE",
        f"/v1/manage/tracker/{two.json()['tracker']['id']}",
        expect=200,
    )
    call("manage", "tracker-get--deleted", "GET", f"/v1/manage/trackers/{tid}", expect=404)
    custom_entities(s)
    # experiences
    base = f"/v1/conversations/{cid}/experiences"
    for slug, body in (
        ("ro", {"name": "verbose-text-summary", "readOnly": True}),
        (
            "rw",
            {
                "name": "verbose-text-summary",
                "summaryURLExpiresIn": 0,
                "color": {"background": "#123456"},
            },
        ),
    ):
        made = call(text_label, f"experience-{slug}", "POST", base, json=body, expect=200)
        url = made.json()["url"]
        token = url.rstrip("/").rsplit("/", 1)[1]
        s.rec.norm.name(token, f"<experience:{slug}>")
        path = "/experiences/" + token
        call(text_label, f"experience-{slug}-page", "GET", path, auth=False, expect=200)
        call(text_label, f"experience-{slug}-data", "GET", f"{path}/data", auth=False, expect=200)
        members = s.client.get(f"/v1/conversations/{cid}/members", headers=s.auth()).json()
        member = members["members"][0]["id"]
        call(
            text_label,
            f"experience-{slug}-rename",
            "PUT",
            f"{path}/members/{member}",
            auth=False,
            json={"name": members["members"][0]["name"]},
        )
        call(
            text_label,
            f"experience-{slug}-media",
            "GET",
            f"{path}/media/none",
            auth=False,
            expect=404,
        )
    # writes, on a scratch conversation
    response = call(
        "z-scratch",
        "submit",
        "POST",
        "/v1/process/text",
        json=text_body(TEXT_CALL, "2024-06-01"),
        expect=201,
    )
    scratch = s.submitted("z-scratch", response)
    base = f"/v1/conversations/{scratch}"
    call("z-scratch", "metadata-put", "PUT", base, json={"metadata": {"team": "sales"}}, expect=200)
    groups(s)
    members = s.client.get(f"{base}/members", headers=s.auth()).json()["members"]
    call(
        "z-scratch",
        "member-put",
        "PUT",
        f"{base}/members/{members[0]['id']}",
        json={"id": members[0]["id"], "name": "Samuel", "email": "samuel@globex.com"},
        expect=200,
    )
    call(
        "z-scratch",
        "speakers-put",
        "PUT",
        f"{base}/speakers",
        json={
            "speakerEvents": [
                {
                    "type": "started_speaking",
                    "user": {"name": "Dana", "email": "dana@acme.com"},
                    "offset": {"seconds": 6, "nanos": 0},
                },
                {
                    "type": "stopped_speaking",
                    "user": {"name": "Dana", "email": "dana@acme.com"},
                    "offset": {"seconds": 12, "nanos": 0},
                },
            ]
        },
        expect=200,
    )
    call("z-scratch", "members--after", "GET", f"{base}/members", expect=200)
    call("z-scratch", "refresh", "POST", f"{base}/refresh", expect=200)
    call(
        "z-scratch",
        "refresh--options",
        "POST",
        f"{base}/refresh",
        json={"enableSummary": True},
        expect=200,
    )
    call(
        "z-scratch",
        "topics--refresh",
        "GET",
        f"{base}/topics",
        params={"refresh": "true"},
        expect=200,
    )
    call("z-scratch", "summary-post", "POST", f"{base}/summary", expect=200)
    call(
        "z-scratch",
        "summary--refresh",
        "GET",
        f"{base}/summary",
        params={"refresh": "true"},
        expect=200,
    )
    bookmarks(s, base)
    call("z-scratch", "delete", "DELETE", base, expect=200)
    call("z-scratch", "delete--again", "DELETE", base, expect=404)
    call("z-scratch", "conversation--deleted", "GET", base, expect=404)


def bookmarks(s: Session, base: str) -> None:
    """The bookmark routes on the scratch conversation, after its other recordings (a
    bookmark adds ``bookmarkReference`` to its summary); deleted with the conversation."""
    call = s.rec.call
    user = {"name": "Jane", "userId": "jane@example.com", "email": "jane@example.com"}
    pricing = {"label": "Pricing", "description": "Price per seat", "user": user}
    made = call(
        "z-scratch",
        "bookmark-create",
        "POST",
        f"{base}/bookmarks",
        json=pricing | {"beginTimeOffset": 14, "duration": 13},
        expect=200,
    )
    bid = made.json()["id"]
    s.rec.norm.name(bid, "<bookmark:pricing>")
    refs = made.json()["messageRefs"]
    bulk = call(
        "z-scratch",
        "bookmarks-create-bulk",
        "POST",
        f"{base}/bookmarks/bulk",
        json=[
            {
                "label": "Intro",
                "description": "Single sign-on",
                "user": user,
                "messageRefs": [
                    {"id": m["id"]}
                    for m in s.client.get(f"{base}/messages", headers=s.auth()).json()["messages"][
                        :2
                    ]
                ],
            }
        ],
        expect=200,
    )
    other = bulk.json()["bookmarks"][0]["id"]
    s.rec.norm.name(other, "<bookmark:intro>")
    call("z-scratch", "bookmarks", "GET", f"{base}/bookmarks", expect=200)
    call("z-scratch", "bookmark-get", "GET", f"{base}/bookmarks/{bid}", expect=200)
    # a full replace: by messages now, userId and email left out (cleared)
    replaced = pricing | {"label": "Price", "user": {"name": "Jane"}, "messageRefs": refs}
    call("z-scratch", "bookmark-put", "PUT", f"{base}/bookmarks/{bid}", json=replaced, expect=200)
    call(
        "z-scratch",
        "bookmark-create--empty-description",
        "POST",
        f"{base}/bookmarks",
        json=pricing | {"description": "", "beginTimeOffset": 0, "duration": 5},
        expect=400,
    )
    call("z-scratch", "bookmark-summary", "GET", f"{base}/bookmarks/{bid}/summary", expect=200)
    call("z-scratch", "bookmarks-summary", "GET", f"{base}/bookmarks-summary", expect=200)
    call("z-scratch", "summary--bookmarked", "GET", f"{base}/summary", expect=200)
    call("z-scratch", "bookmark-delete", "DELETE", f"{base}/bookmarks/{other}", expect=204)
    call("z-scratch", "bookmark-get--deleted", "GET", f"{base}/bookmarks/{other}", expect=404)
    again = f"{base}/bookmarks/{other}"
    call("z-scratch", "bookmark-delete--again", "DELETE", again, expect=404)


def custom_entities(s: Session) -> None:
    """The custom-entity routes, both path generations, and a stored entity detected in
    the insights call (it has ``detectEntities``); all deleted again at the end."""
    call = s.rec.call
    customer = {
        "type": "Company",
        "subType": "Customer",
        "category": "Custom",
        "values": ["Acme Corporation", "Globex"],
    }
    one = call(
        "manage", "entities-create", "POST", "/v1/manage/entities", json=customer, expect=200
    )
    eid = one.json()["id"]
    s.rec.norm.name(eid, "<entity:customer>")
    city = customer | {"type": "Place", "subType": "City", "values": ["Berlin", "Paris"]}
    two = call("manage", "entity-create", "POST", "/v1/manage/entity", json=city, expect=200)
    s.rec.norm.name(two.json()["id"], "<entity:city>")
    product = customer | {"type": "Product", "subType": "Plan", "values": ["Parley Pro"]}
    bulk = call(
        "manage",
        "entities-create-bulk",
        "POST",
        "/v1/manage/entities/bulk",
        json=[product],
        expect=200,
    )
    s.rec.norm.name(bulk.json()["entities"][0]["id"], "<entity:plan>")
    array = call(
        "manage",
        "entities-create-array",
        "POST",
        "/v1/manage/entities",
        json=[product | {"subType": "Tier", "values": ["Pro"]}],
        expect=200,
    )
    s.rec.norm.name(array.json()["entities"][0]["id"], "<entity:tier>")
    call("manage", "entities", "GET", "/v1/manage/entities", expect=200)
    call("manage", "entities-get", "GET", f"/v1/manage/entities/{eid}", expect=200)
    call("manage", "entity-get", "GET", f"/v1/manage/entity/{eid}", expect=200)
    call(
        "e-insights",
        "entities--custom",
        "GET",
        f"/v1/conversations/{s.conversations['e-insights']}/entities",
        expect=200,
    )
    call(
        "manage",
        "entities-put",
        "PUT",
        f"/v1/manage/entities/{eid}",
        json=customer | {"values": ["Acme Corporation"]},
        expect=200,
    )
    call("manage", "entity-put", "PUT", f"/v1/manage/entity/{eid}", json=customer, expect=200)
    call("manage", "entities-duplicate", "POST", "/v1/manage/entity", json=customer, expect=409)
    call(
        "manage",
        "entities-delete--subtype",
        "DELETE",
        "/v1/manage/entities",
        params={"subType": "Tier"},
        expect=200,
    )
    call(
        "manage",
        "entity-delete",
        "DELETE",
        f"/v1/manage/entity/{two.json()['id']}",
        expect=200,
    )
    call("manage", "entities-delete", "DELETE", f"/v1/manage/entities/{eid}", expect=200)
    call("manage", "entities-get--deleted", "GET", f"/v1/manage/entities/{eid}", expect=404)
    s.client.request(
        "DELETE", "/v1/manage/entities", params={"subType": "Plan"}, headers=s.auth()
    ).raise_for_status()


def groups(s: Session) -> None:
    """Conversation groups, while the scratch conversation has ``team: sales``."""
    call = s.rec.call
    sales = {
        "name": "Sales team",
        "description": "Calls of the sales team",
        "criteria": "conversation.metadata.team==sales",
    }
    made = call("manage", "group-create", "POST", "/v1/manage/group", json=sales, expect=200)
    gid = made.json()["group"]["id"]
    s.rec.norm.name(gid, "<group:sales>")
    support = {
        "name": "Support gold",
        "criteria": "conversation.metadata.team==support and conversation.metadata.tier==gold",
    }
    bulk = call("manage", "groups-create", "POST", "/v1/manage/groups", json=[support], expect=200)
    other = bulk.json()["groups"][0]["id"]
    s.rec.norm.name(other, "<group:support>")
    call("manage", "groups", "GET", "/v1/manage/groups", expect=200)
    call("manage", "group-get", "GET", f"/v1/manage/group/{gid}", expect=200)
    renamed = sales | {"id": gid, "name": "Sales team - EMEA"}
    call("manage", "group-put", "PUT", f"/v1/manage/group/{gid}", json=renamed, expect=200)
    since = {"startTime": "2000-01-01T00:00:00Z"}
    path = f"/v1/groups/{gid}/conversations"
    call("manage", "group-conversations", "GET", path, params=since, expect=200)
    call(
        "manage",
        "group-conversations--filter",
        "GET",
        path,
        params=since | {"filter": "conversation.metadata.team==support"},
        expect=200,
    )
    call(
        "manage",
        "group-create--or",
        "POST",
        "/v1/manage/group",
        json=sales | {"criteria": "conversation.metadata.team==a,conversation.metadata.team==b"},
        expect=400,
    )
    call("manage", "group-delete", "DELETE", f"/v1/manage/group/{other}", expect=200)
    call("manage", "group-get--deleted", "GET", f"/v1/manage/group/{other}", expect=404)


def errors(s: Session) -> None:
    """Representative refusals: 401, 404, 400, 405, 413, and what answers 415 today."""
    call = s.rec.call
    cid = s.conversations["c-text"]
    unknown = "1234567890123456"
    s.rec.norm.name(unknown, "<conv:unknown>")
    bad = {"Authorization": "Bearer not-a-token"}
    for slug, method, url in (
        ("conversation", "GET", f"/v1/conversations/{unknown}"),
        ("messages", "GET", f"/v1/conversations/{unknown}/messages"),
        ("topics", "GET", f"/v1/conversations/{unknown}/topics"),
        ("summary", "GET", f"/v1/conversations/{unknown}/summary"),
        ("analytics", "GET", f"/v1/conversations/{unknown}/analytics"),
        ("media", "GET", f"/v1/conversations/{unknown}/media"),
        ("job", "GET", "/v1/job/00000000-0000-4000-8000-000000000000"),
        ("delivery", "GET", "/v1/webhooks/deliveries/999999"),
        ("tracker", "GET", f"/v1/manage/trackers/{unknown}"),
        ("entity", "GET", f"/v1/manage/entities/{unknown}"),
        ("experience", "POST", f"/v1/conversations/{unknown}/experiences"),
        ("append", "PUT", f"/v1/process/text/{unknown}"),
        ("media-file", "GET", f"/v1/conversations/{cid}/media/none"),
        ("console-file", "GET", "/console/nothing.js"),
        ("no-route", "GET", "/v1/nothing"),
    ):
        kwargs: dict[str, Any] = {}
        if method in ("POST", "PUT"):
            kwargs["json"] = (
                {"name": "verbose-text-summary"}
                if slug == "experience"
                else text_body(APPENDED, "2024-03-05")
            )
        call("errors", f"404-{slug}", method, url, **kwargs)
    for slug, method, url in (
        ("conversation", "GET", f"/v1/conversations/{cid}"),
        ("conversations", "GET", "/v1/conversations"),
        ("job", "GET", f"/v1/job/{s.jobs['c-text'][0]}"),
        ("process-text", "POST", "/v1/process/text"),
        ("trackers", "GET", "/v1/manage/trackers"),
        ("experience-data", "GET", "/experiences/not-a-token/data"),
    ):
        call("errors", f"401-{slug}", method, url, headers=bad)
    call("errors", "401-no-token", "GET", f"/v1/conversations/{cid}", auth=False)
    call(
        "errors",
        "401-bad-secret",
        "POST",
        "/oauth2/token:generate",
        auth=False,
        json={"type": "application", "appId": "golden-app", "appSecret": "wrong"},
    )
    for slug, method, url, kwargs in (
        ("text-no-messages", "POST", "/v1/process/text", {"json": {"messages": []}}),
        (
            "text-not-json",
            "POST",
            "/v1/process/text",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        ),
        (
            "text-bad-option",
            "POST",
            "/v1/process/text",
            {"json": text_body(APPENDED, "2024-03-05") | {"confidenceThreshold": 3}},
        ),
        (
            "text-unknown-language",
            "POST",
            "/v1/process/text",
            {"json": text_body(APPENDED, "2024-03-05") | {"languageCode": "xx-XX"}},
        ),
        (
            "audio-bad-option",
            "POST",
            "/v1/process/audio",
            {
                "params": {"diarizationSpeakerCount": "zero"},
                "content": b"RIFF",
                "headers": {"Content-Type": "audio/wav"},
            },
        ),
        (
            "audio-content-type",
            "POST",
            "/v1/process/audio",
            {"content": b"hello", "headers": {"Content-Type": "text/plain"}},
        ),
        (
            "audio-empty",
            "POST",
            "/v1/process/audio",
            {"content": b"", "headers": {"Content-Type": "audio/wav"}},
        ),
        ("audio-url-missing", "POST", "/v1/process/audio/url", {"json": {}}),
        (
            "audio-url-private",
            "POST",
            "/v1/process/audio/url",
            {"json": {"url": "http://10.0.0.1/a.wav"}},
        ),
        (
            "video-url-scheme",
            "POST",
            "/v1/process/video/url",
            {"json": {"url": "ftp://example.com/a.mp4"}},
        ),
        (
            "messages-exclude",
            "GET",
            f"/v1/conversations/{cid}/messages",
            {"params": {"redact": "true", "exclude": "[1, 2]"}},
        ),
        ("list-order", "GET", "/v1/conversations", {"params": {"order": "sideways"}}),
        ("list-limit", "GET", "/v1/conversations", {"params": {"limit": "many"}}),
        (
            "transcript-type",
            "POST",
            f"/v1/conversations/{cid}/transcript",
            {"json": {"contentType": "text/html"}},
        ),
        ("metadata", "PUT", f"/v1/conversations/{cid}", {"json": {"metadata": {"k": 1}}}),
        (
            "member-id",
            "PUT",
            f"/v1/conversations/{cid}/members/x",
            {"json": {"id": "y", "name": "Y"}},
        ),
        ("speakers", "PUT", f"/v1/conversations/{cid}/speakers", {"json": {"speakerEvents": []}}),
        (
            "refresh-option",
            "POST",
            f"/v1/conversations/{cid}/refresh",
            {"json": {"languageCode": "de-DE"}},
        ),
        (
            "experience-name",
            "POST",
            f"/v1/conversations/{cid}/experiences",
            {"json": {"name": "nope"}},
        ),
        ("tracker-name", "POST", "/v1/manage/trackers", {"json": {"vocabulary": ["x"]}}),
        ("tracker-bulk-object", "POST", "/v1/manage/trackers/bulk", {"json": {"name": "x"}}),
        (
            "entity-category",
            "POST",
            "/v1/manage/entity",
            {"json": {"type": "A", "subType": "B", "category": "Managed", "values": ["x"]}},
        ),
        (
            "entity-values",
            "POST",
            "/v1/manage/entities",
            {
                "json": {
                    "type": "A",
                    "subType": "B",
                    "category": "Custom",
                    "values": [str(i) for i in range(10_000)],
                }
            },
        ),
        ("entities-delete-no-subtype", "DELETE", "/v1/manage/entities", {}),
        (
            "tracker-patch",
            "PATCH",
            "/v1/manage/trackers/1",
            {"json": [{"op": "move", "path": "/name"}]},
        ),
        ("deliveries-state", "GET", "/v1/webhooks/deliveries", {"params": {"state": "lost"}}),
        ("jobs-limit", "GET", "/v1/jobs", {"params": {"limit": "0"}}),
        (
            "token-type",
            "POST",
            "/oauth2/token:generate",
            {"json": {"type": "user", "appId": "a", "appSecret": "b"}, "auth": False},
        ),
        ("nul-in-query", "GET", "/v1/conversations", {"params": {"filter": "a\x00b"}}),
        (
            "video-content-type",
            "POST",
            "/v1/process/video",
            {"content": b"x", "headers": {"Content-Type": "text/plain"}},
        ),
        (
            "append-audio-option",
            "PUT",
            f"/v1/process/audio/{cid}",
            {
                "params": {"diarizationSpeakerCount": "zero"},
                "content": b"RIFF",
                "headers": {"Content-Type": "audio/wav"},
            },
        ),
        (
            "append-video-content-type",
            "PUT",
            f"/v1/process/video/{cid}",
            {"content": b"x", "headers": {"Content-Type": "text/plain"}},
        ),
        ("append-audio-url-missing", "PUT", f"/v1/process/audio/url/{cid}", {"json": {}}),
        (
            "append-video-url-scheme",
            "PUT",
            f"/v1/process/video/url/{cid}",
            {"json": {"url": "ftp://example.com/a.mp4"}},
        ),
    ):
        call("errors", f"400-{slug}", method, url, **kwargs)
    call("errors", "405-method", "DELETE", "/v1/jobs")
    call(
        "errors",
        "413-tracker",
        "POST",
        "/v1/manage/trackers",
        content=b"[" + b" " * (1024 * 1024 + 10) + b"]",
        headers={"Content-Type": "application/json"},
    )
    call(
        "errors",
        "413-entity",
        "POST",
        "/v1/manage/entities/bulk",
        content=b"[" + b" " * (1024 * 1024 + 10) + b"]",
        headers={"Content-Type": "application/json"},
    )
    call(
        "errors",
        "413-token",
        "POST",
        "/oauth2/token:generate",
        auth=False,
        content=b"{" + b" " * (17 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    call(
        "errors",
        "413-text",
        "POST",
        "/v1/process/text",
        content=b"{" + b" " * (8 * 1024 * 1024 + 10) + b"}",
        headers={"Content-Type": "application/json"},
    )
    call(
        "errors",
        "415-text-as-form",
        "POST",
        "/v1/process/text",
        content=b"a=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    call(
        "errors",
        "415-tracker-as-text",
        "POST",
        "/v1/manage/trackers",
        content=b"name",
        headers={"Content-Type": "text/plain"},
    )


def call_score(s: Session) -> None:
    """Call-score criteria and scorecards, and a scripted call scored on a scorecard (after
    ``ops``: its conversation is in no earlier list or count)."""
    from tests.insights.callscore_calls import messages

    call = s.rec.call
    base = "/v1/manage/callscore"
    criterion = {
        "name": "Integration",
        "tags": ["support"],
        "checklist": [
            {"question": "Was the help desk integration discussed?", "priority": "high"},
            {"question": "Was the weather in Paris discussed?", "priority": "low"},
        ],
    }
    made = call("callscore", "criteria-create", "POST", f"{base}/criteria", json=criterion)
    crid = made.json()["id"]
    s.rec.norm.name(crid, "<criteria:integration>")
    call("callscore", "criteria", "GET", f"{base}/criteria", expect=200)
    call("callscore", "criteria-get", "GET", f"{base}/criteria/{crid}", expect=200)
    managed = "Symbl.Forward_Motion"
    call("callscore", "criteria-get--managed", "GET", f"{base}/criteria/{managed}", expect=200)
    call("callscore", "criteria-put", "PUT", f"{base}/criteria/{crid}", json=criterion)
    call(
        "callscore",
        "criteria-patch",
        "PATCH",
        f"{base}/criteria/{crid}",
        json={"description": "The integration questions"},
        expect=200,
    )
    call(
        "callscore",
        "criteria-put--managed",
        "PUT",
        f"{base}/criteria/{managed}",
        json=criterion,
        expect=400,
    )
    card = {"name": "Support calls", "criteriaList": [managed, crid]}
    made = call("callscore", "scorecard-create", "POST", f"{base}/scorecards", json=card)
    scid = made.json()["id"]
    s.rec.norm.name(scid, "<scorecard:support>")
    call("callscore", "scorecards", "GET", f"{base}/scorecards", expect=200)
    call("callscore", "scorecard-get", "GET", f"{base}/scorecards/{scid}", expect=200)
    call("callscore", "scorecard-put", "PUT", f"{base}/scorecards/{scid}", json=card, expect=200)
    call(
        "callscore",
        "scorecard-patch",
        "PATCH",
        f"{base}/scorecards/{scid}",
        json={"tags": ["support"]},
        expect=200,
    )
    call(
        "callscore",
        "scorecard-create--unknown-criteria",
        "POST",
        f"{base}/scorecards",
        json=card | {"criteriaList": ["1234567890123456"]},
        expect=400,
    )
    body = {
        "messages": messages("next_steps"),
        "features": {"featureList": ["insights", "callScore"]},
        "conversationType": "sales",
        "metadata": {"salesStage": "qualification", "prospectName": "Sam Patel"},
        "scorecardId": scid,
    }
    response = call("f-callscore", "submit", "POST", "/v1/process/text", json=body, expect=201)
    cid = s.submitted("f-callscore", response)
    conv = f"/v1/conversations/{cid}"
    call("f-callscore", "callscore", "GET", f"{conv}/callscore", expect=200)
    call("f-callscore", "callscore-status", "GET", f"{conv}/callscore/status", expect=200)
    call("f-callscore", "lm-insights-status", "GET", f"{conv}/lm-insights/status", expect=200)
    details = call(
        "f-callscore",
        "insights-details",
        "GET",
        f"/v1/conversations/experiences/insights/details/{cid}",
        params={"includeCallScore": "true"},
        expect=200,
    )
    token = details.json()["url"].rstrip("/").rsplit("/", 1)[1]
    s.rec.norm.name(token, "<experience:callscore>")
    call(
        "f-callscore",
        "insights-list",
        "GET",
        "/v1/conversations/experiences/insights/list",
        params={"includeCallScore": "true"},
        expect=200,
    )
    call(
        "f-callscore",
        "experience-url-put",
        "PUT",
        f"{conv}/experiences/url",
        json={"url": "https://media.example.com/call.mp3"},
        expect=200,
    )
    used = f"{base}/criteria/{crid}"
    call("callscore", "criteria-delete--used", "DELETE", used, expect=409)
    call("callscore", "scorecard-delete", "DELETE", f"{base}/scorecards/{scid}", expect=200)
    call("callscore", "criteria-delete", "DELETE", used, expect=200)
    call("callscore", "criteria-get--deleted", "GET", used, expect=404)


def ops(s: Session) -> None:
    call = s.rec.call
    call(
        "ops",
        "token",
        "POST",
        "/oauth2/token:generate",
        auth=False,
        json={"type": "application", "appId": "golden-app", "appSecret": "golden-secret"},
        expect=200,
    )
    call("ops", "health", "GET", "/health", auth=False, expect=200)
    call("ops", "ready", "GET", "/ready", auth=False, expect=200)
    call("ops", "metrics", "GET", "/metrics", auth=False, expect=200)
    call("ops", "openapi", "GET", "/openapi.json", auth=False, expect=200)
    call("ops", "console", "GET", "/", auth=False, expect=200)
    call("ops", "console-file", "GET", "/console/app.js", auth=False, expect=200)


def user_settings(s: Session) -> None:
    """User settings, and the redaction default they set on a messages read; left empty."""
    call = s.rec.call
    cid = s.conversations["c-text"]
    call("settings", "get--none", "GET", "/v1/manage/settings", expect=200)
    patch = [
        {"op": "add", "path": "/intelligence/bookmarks/duration", "value": 30},
        {"op": "add", "path": "/redaction/default", "value": True},
        {"op": "add", "path": "/redaction/type", "value": "default"},
    ]
    call("settings", "patch", "PATCH", "/v1/manage/settings", json=patch, expect=200)
    call("settings", "get", "GET", "/v1/manage/settings", expect=200)
    call("settings", "messages--redacted-by-default", "GET", f"/v1/conversations/{cid}/messages")
    call(
        "settings",
        "messages--redact-false",
        "GET",
        f"/v1/conversations/{cid}/messages",
        params={"redact": "false"},
        expect=200,
    )
    for slug, body in (
        ("unknown-path", [{"op": "add", "path": "/redaction/colour", "value": "red"}]),
        ("bad-op", [{"op": "move", "path": "/redaction/type", "from": "/redaction/default"}]),
        ("bad-value", [{"op": "replace", "path": "/redaction/default", "value": "yes"}]),
        (
            "bad-duration",
            [{"op": "replace", "path": "/intelligence/bookmarks/duration", "value": 0}],
        ),
        ("remove-unset", [{"op": "remove", "path": "/intelligence/bookmarks/duration"}] * 2),
    ):
        call("settings", f"400-{slug}", "PATCH", "/v1/manage/settings", json=body, expect=400)
    clear = [{"op": "remove", "path": "/redaction"}, {"op": "remove", "path": "/intelligence"}]
    call("settings", "patch--clear", "PATCH", "/v1/manage/settings", json=clear, expect=200)


def not_served(s: Session) -> None:
    """Symbl endpoints Parley cannot serve: a 501 that says what to do instead."""
    call = s.rec.call
    connect = {
        "operation": "start",
        "endpoint": {"type": "pstn", "phoneNumber": "14082924837", "dtmf": ",,123#"},
    }
    event = {"type": "started_speaking", "user": {"userId": "a@b.c", "name": "A"}}
    for slug, method, url, body in (
        ("endpoint-connect", "POST", "/v1/endpoint:connect", connect),
        ("event", "POST", "/v1/event/6f1c8f2c-0b5e-4d0a-9d0b-3f1b2f9c7a10", event),
        ("insights", "POST", "/v1/insights", {"insightTypes": ["question"], "messages": []}),
        ("metric", "GET", "/v1/metric/12", None),
        ("metric-entry", "POST", "/v1/metric/12/entry", {}),
        ("nebula-generate", "POST", "/v1/model/generate", {"prompt": "Summarise the call"}),
    ):
        call("not-served", slug, method, url, json=body, expect=501)


def tokens(s: Session) -> None:
    """Refresh and revoke (last: the recorder's own token stays valid throughout)."""
    call = s.rec.call
    credentials = {"appId": "golden-app", "appSecret": "golden-secret"}
    first = s.client.post("/oauth2/token:generate", json=credentials).json()
    refreshed = call(
        "ops",
        "token-refresh",
        "POST",
        "/oauth2/token:refresh",
        auth=False,
        json=credentials | {"refreshToken": first["refershToken"]},
        expect=200,
    ).json()
    call(
        "ops",
        "token-refresh--used",
        "POST",
        "/oauth2/token:refresh",
        auth=False,
        json=credentials | {"refreshToken": first["refershToken"]},
        expect=401,
    )
    revoked = {"x-api-key": refreshed["accessToken"]}
    call(
        "ops",
        "token-revoke--bad-secret",
        "DELETE",
        "/oauth2/token:revoke",
        auth=False,
        headers=revoked,
        json=credentials | {"appSecret": "wrong"},
        expect=401,
    )
    call(
        "ops",
        "token-revoke",
        "DELETE",
        "/oauth2/token:revoke",
        auth=False,
        headers=revoked,
        json=credentials,
        expect=204,
    )
    call("ops", "token-revoked", "GET", "/v1/conversations", auth=False, headers=revoked)


def record(out: Path, *, text_only: bool = False, testdata: Path | None = None) -> dict[str, Any]:
    """Record every answer into ``out`` (emptied first); returns the index."""
    import httpx

    from parley.api.app import create_app
    from parley.config import Settings
    from parley.services import build_services
    from tests.conftest import TESTDATA, data_dir, start_server

    if out.exists():
        for old in [*sorted(out.rglob("*.txt")), out / INDEX]:
            old.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    clock = time.monotonic()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="golden-")))
        settings = Settings(
            data_dir=data_dir(tmp),
            app_id="golden-app",
            app_secret="golden-secret",
            workers=1,
            webhook_backoff_seconds=0.2,
            queue_poll_seconds=0.2,
        )
        services = build_services(settings)
        app = create_app(settings, services=services)
        server, thread, url = start_server(app)
        stack.callback(thread.join, 60)
        stack.callback(setattr, server, "should_exit", True)
        client = stack.enter_context(httpx.Client(base_url=url, timeout=120))
        token = client.post(
            "/oauth2/token:generate", json={"appId": "golden-app", "appSecret": "golden-secret"}
        ).json()["accessToken"]
        norm = Normaliser(started)
        norm.name(token, "<token>")
        norm.literals[url] = "<server>"
        rec = Recorder(out, client, app, norm, token, skip=NOT_WIRE if text_only else ())
        session = Session(rec)
        text_conversations(session)
        if not text_only:
            audio_conversations(session, testdata or TESTDATA)
        app_wide(session, "c-text")
        errors(session)
        user_settings(session)
        not_served(session)
        ops(session)
        call_score(session)
        tokens(session)
        covered = {entry["route"] for entry in rec.index}
        routes = all_routes(app)
    missing = [r for r in routes if r not in covered]
    index = {
        "routes": len(routes),
        "covered": len(routes) - len(missing),
        "not_covered": missing,
        "conversations": sorted(session.conversations),
        "files": rec.index,
    }
    (out / INDEX).write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    print(
        f"recorded {len(rec.index)} answers of {index['covered']}/{len(routes)} routes, "
        f"{len(session.conversations)} conversations, in {time.monotonic() - clock:.1f} s"
    )
    for route in missing:
        print(f"  not covered: {route}")
    return index


# -- comparing -----------------------------------------------------------------------


def _pretty(text: str) -> list[str]:
    head, _, body = text.partition("\n\n")
    with suppress(ValueError):
        body = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    return (head + "\n\n" + body).splitlines()


def files_of(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*.txt"))
    }


#: How far a model's score may move between CPUs. onnxruntime picks its int8 kernels by
#: instruction set (AVX2, AVX-512 VNNI, AMX), and the abstract topics' cosine scores, served
#: with three decimals, moved by 0.002 between an Intel and an AMD machine.
SCORE_TOLERANCE = 0.005


def _close(a: Any, b: Any, tolerance: float) -> bool:
    """Equal JSON, except that two non-integral numbers may differ by ``tolerance``."""
    if isinstance(a, float) or isinstance(b, float):
        both_numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
        return both_numbers and abs(a - b) <= tolerance
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tolerance) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, tolerance) for x, y in zip(a, b, strict=True))
    return bool(type(a) is type(b) and a == b)


def same_answer(a: str, b: str, tolerance: float = SCORE_TOLERANCE) -> bool:
    """Whether two recorded answers are the same on the wire, up to a score's last digits:
    the status line and headers equal, the JSON bodies equal but for ``_close`` numbers."""
    if a == b:
        return True
    head_a, _, body_a = a.partition("\n\n")
    head_b, _, body_b = b.partition("\n\n")
    if head_a != head_b:
        return False
    try:
        return _close(json.loads(body_a), json.loads(body_b), tolerance)
    except ValueError:
        return False


def differences(a: dict[str, str], b: dict[str, str]) -> Iterator[tuple[str, str, list[str]]]:
    """(name, equal|differs|only in A|only in B, a short diff) for every file."""
    for name in sorted(set(a) | set(b)):
        if name not in b:
            yield name, "only in A", []
        elif name not in a:
            yield name, "only in B", []
        elif a[name] == b[name]:
            yield name, "equal", []
        else:
            diff = list(
                difflib.unified_diff(_pretty(a[name]), _pretty(b[name]), "A", "B", n=2, lineterm="")
            )
            yield name, "differs", diff[:60]


def compare(dir_a: Path, dir_b: Path) -> int:
    a, b = files_of(dir_a), files_of(dir_b)
    differing = bytes_differing = 0
    for name, verdict, diff in differences(a, b):
        print(f"{verdict:9}  {name}")
        for line in diff:
            print(f"    {line}")
        if verdict != "equal":
            differing += 1
            left, right = a.get(name, "").encode(), b.get(name, "").encode()
            matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
            same = sum(block.size for block in matcher.get_matching_blocks())
            bytes_differing += max(len(left), len(right)) - same
    index = json.loads((dir_a / INDEX).read_text()) if (dir_a / INDEX).exists() else {}
    routes = {e["route"] for e in index.get("files", []) if "(no route)" not in e["route"]}
    print(
        f"\nendpoints: {len(routes)}  conversations: {len(index.get('conversations', []))}  "
        f"files: {len(set(a) | set(b))}  files differing: {differing}  "
        f"bytes differing: {bytes_differing}"
    )
    return 1 if differing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record", help="record every answer into DIR")
    rec.add_argument("dir", type=Path)
    rec.add_argument("--text-only", action="store_true", help="no speech: text jobs and errors")
    cmp = commands.add_parser("compare", help="compare two recordings")
    cmp.add_argument("dir_a", type=Path)
    cmp.add_argument("dir_b", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.dir, text_only=args.text_only)
        return 0
    return compare(args.dir_a, args.dir_b)


if __name__ == "__main__":
    sys.exit(main())
