"""PII masking for GET .../messages?redact=true."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parley import conversations as service
from parley.config import Settings
from parley.insights.redaction import MASK, mask, redact, redaction_spans, stats
from parley.services import build_storage
from parley.storage import Storage
from parley.storage import conversations as store
from parley.storage import jobs as jobs_store
from parley.storage.models import Conversation
from parley.storage.models import Message as MessageRow


def test_masks_contact_and_card_data() -> None:
    text = (
        "Call me at (415) 555-0132 or +46 70 123 45 67, email jane.doe@example.com, "
        "card 4111 1111 1111 1111, SSN 123-45-6789."
    )
    out = redact(text)
    for secret in ("555-0132", "123 45 67", "jane.doe@example.com", "4111", "6789"):
        assert secret not in out
    assert out.count(MASK) == 5


def test_masks_person_names() -> None:
    out = redact("Hi, this is Maria Gonzalez from the billing team.")
    assert "Maria" not in out and "Gonzalez" not in out and MASK in out
    assert out.startswith("Hi, this is ****")


def test_exclude_keeps_those_types_visible() -> None:
    text = "Maria Gonzalez can be reached at 415-555-0132."
    out = redact(text, exclude=["PERSON_NAME"])
    assert "Maria Gonzalez" in out and "415-555-0132" not in out
    out = redact(text, exclude=["phone_number"])
    assert "415-555-0132" in out and "Maria" not in out


def test_non_luhn_numbers_are_not_cards() -> None:
    assert [k for _, _, k in redaction_spans("order 1234 5678 9012 3456")] == []


def test_text_without_pii_is_unchanged() -> None:
    text = "The pricing page ships next week."
    assert redact(text) == text
    assert redact("") == ""


# -- detected once, kept with the conversation (issue 23) ----------------------------------


@pytest.fixture()
def storage(tmp_path: Path) -> Iterator[Storage]:
    storage = build_storage(Settings(data_dir=tmp_path, app_id="app", app_secret="s" * 32))
    yield storage
    storage.dispose()


def _conversation(storage: Storage, texts: list[str]) -> str:
    with storage.session() as session:
        conversation = store.create_conversation(session=session, app_id="app", name=None)
        jobs_store.create_job(
            session=session,
            job_id="job",
            app_id="app",
            conversation_id=conversation.id,
            kind="text",
            source="text",
            options={},
        )
        for i, text in enumerate(texts):
            session.add(
                MessageRow(
                    id=str(1000 + i),
                    conversation_id=conversation.id,
                    job_id="job",
                    text=text,
                    start=float(i),
                    end=i + 0.5,
                )
            )
        return conversation.id


TEXTS = ["Call John Smith at 415-555-0132.", "-".join("1" * 40_000), "Mail dana@example.com"]


def test_a_second_read_does_not_detect_again(storage: Storage) -> None:
    cid = _conversation(storage, TEXTS)
    before = stats["detections"]
    first = service.redaction_candidates(storage=storage, app_id="app", conversation_id=cid)
    assert stats["detections"] == before + len(TEXTS)
    again = service.redaction_candidates(storage=storage, app_id="app", conversation_id=cid)
    assert stats["detections"] == before + len(TEXTS)  # read from the stored row
    assert again == first
    assert mask(TEXTS[0], first["1000"]) == redact(TEXTS[0]) == f"Call {MASK} at {MASK}."
    assert mask(TEXTS[0], first["1000"], exclude=["PERSON_NAME"]) == f"Call John Smith at {MASK}."
    # a changed text is detected again, the others are kept
    with storage.session() as session:
        session.get(MessageRow, "1002").text = "Mail bob@example.com"  # type: ignore[union-attr]
    before = stats["detections"]
    third = service.redaction_candidates(storage=storage, app_id="app", conversation_id=cid)
    assert stats["detections"] == before + 1
    assert mask("Mail bob@example.com", third["1002"]) == f"Mail {MASK}"


def test_the_insight_stage_stores_what_redaction_needs(storage: Storage) -> None:
    cid = _conversation(storage, TEXTS)
    with storage.session() as session:
        conversation = session.get(Conversation, cid)
        assert conversation is not None
        data = service.gather(
            session=session, conversation=conversation, insight=service.InsightModels()
        )
    result = service.compute(data)
    with storage.session() as session:
        service.apply(session=session, conversation_id=cid, result=result)
    before = stats["detections"]
    found = service.redaction_candidates(storage=storage, app_id="app", conversation_id=cid)
    assert stats["detections"] == before  # nothing parsed on read
    for i, text in enumerate(TEXTS):
        assert mask(text, found[str(1000 + i)]) == redact(text)


def _containers(value: object) -> int:
    if isinstance(value, dict):
        return 1 + sum(_containers(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_containers(v) for v in value)
    return 0


def test_the_stored_detections_are_a_few_flat_strings(storage: Storage) -> None:
    """A read decodes the row in one GIL-holding C call: 30,000 tiny messages stored as an
    object each took 3 s to read and held /health for 200 ms (issue 23)."""
    from parley.insights import ConversationInsights

    texts = [f"Item {i}." for i in range(3_000)] + [TEXTS[0]]
    cid = _conversation(storage, texts)
    found = {str(1000 + i): [] for i in range(3_000)}
    found["4000"] = person = [[5, 15, "PERSON_NAME", "ner"]]
    with storage.session() as session:
        service.apply(
            session=session,
            conversation_id=cid,
            result=ConversationInsights(redaction=found),  # type: ignore[arg-type]
            kinds=["summary"],
        )
        payload = store.get_insights(session=session, conversation_id=cid, kind="redaction")
    assert _containers(payload) < 10, "one object per message"
    before = stats["detections"]
    read = service.redaction_candidates(storage=storage, app_id="app", conversation_id=cid)
    assert stats["detections"] == before
    assert read == found and read["4000"] == person


def test_the_messages_read_renders_the_bytes_fastapi_would() -> None:
    """``GET …/messages`` renders one message at a time (no GIL-holding call over 30,000):
    the bytes are those of the whole dict through the app's JSON response."""
    from parley.api.params import SafeJSONResponse
    from parley.api.routes.conversations import _messages_response

    messages = [
        {"id": str(i), "text": f"Ünïcode \U0001f600 {i}\ud800", "start": i / 3, "x": None}
        for i in range(3)
    ]
    assert _messages_response(messages).body == SafeJSONResponse({"messages": messages}).body
    assert _messages_response([]).body == SafeJSONResponse({"messages": []}).body
