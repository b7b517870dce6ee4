"""The document and the behaviour agree: every recorded answer (``tests/golden``: text
conversations processed, every route, errors) is valid against the schema the document
gives for its operation and status, and no operation answers a bare ``{"type": "object"}``.

Schemathesis (``tests/test_fuzz.py``) checks the same on generated requests, which mostly
reach errors and empty lists; these answers are full ones (insights, members, analytics).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from parley.api.app import create_app
from parley.api.openapi import build_openapi
from parley.config import Settings

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
RECORDED = json.loads((GOLDEN / "index.json").read_text())["files"]
DOCUMENT = build_openapi(create_app(Settings()))


def _schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The JSON schema documented for an answer, with the components to resolve refs."""
    operation = DOCUMENT["paths"][path][method.lower()]
    response = operation["responses"].get(str(status))
    assert response is not None, f"{method} {path} answered {status}, not documented"
    content = response.get("content", {}).get("application/json")
    if content is None:
        return None
    return {**content["schema"], "components": DOCUMENT["components"]}


def _body(text: str) -> Any:
    head, _, body = text.partition("\n\n")
    body = body.replace('"<seconds>"', "3600")  # the token lifetime, a placeholder there
    return json.loads(body) if "application/json" in head else None


JSON_ANSWERS = [
    entry
    for entry in RECORDED
    if entry["route"].split(" ", 1)[1] in DOCUMENT["paths"]
    and _body((GOLDEN / entry["file"]).read_text()) is not None
]


@pytest.mark.parametrize("entry", JSON_ANSWERS, ids=[e["file"] for e in JSON_ANSWERS])
def test_a_recorded_answer_is_valid_against_its_documented_schema(entry: dict[str, Any]) -> None:
    method, path = entry["route"].split(" ", 1)
    schema = _schema(method, path, entry["status"])
    assert schema is not None, f"{entry['route']} {entry['status']} documents no JSON body"
    body = _body((GOLDEN / entry["file"]).read_text())
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, f"{entry['file']}: {errors[0].message} at {list(errors[0].path)}"


def test_every_documented_route_has_a_recorded_answer_checked() -> None:
    checked = {e["route"] for e in JSON_ANSWERS}
    documented = {f"{m.upper()} {p}" for p, ms in DOCUMENT["paths"].items() for m in ms}
    # the media file answers bytes, not JSON
    assert documented - checked <= {"GET /v1/conversations/{conversation_id}/media/{job_id}"}


def _bare(schema: Any) -> int:
    if isinstance(schema, list):
        return sum(_bare(s) for s in schema)
    if not isinstance(schema, dict):
        return 0
    shaped = {"properties", "additionalProperties", "$ref", "oneOf", "anyOf", "allOf"}
    own = 1 if schema.get("type") == "object" and not shaped & set(schema) else 0
    return own + sum(_bare(v) for v in schema.values())


def test_no_schema_is_a_bare_object() -> None:
    assert _bare(DOCUMENT) == 0


def test_every_operation_documents_its_success_shape() -> None:
    """Every operation documents its success and its shape; an operation Parley does not
    serve (tag "not served") documents its 501 and no success; a 204 has no body."""
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            success = [s for s in operation["responses"] if s.startswith("2")]
            if "not served" in operation.get("tags", []):
                assert not success and "501" in operation["responses"], f"{method} {path}"
                continue
            assert success, f"{method} {path}"
            for status in success:
                if status == "204":
                    assert "content" not in operation["responses"][status], f"{method} {path}"
                    continue
                for content in operation["responses"][status]["content"].values():
                    assert content["schema"] not in ({}, {"type": "object"}), f"{method} {path}"
