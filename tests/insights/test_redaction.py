"""PII masking for GET .../messages?redact=true."""

from __future__ import annotations

from parley.insights.redaction import MASK, redact, redaction_spans


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
