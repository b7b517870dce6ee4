"""The OpenAPI document: built from the app's route table, the option table and the
per-route table below, so it says what the API really takes and answers.

Routes read their query strings and bodies themselves (Symbl's options come in many
spellings, see ``parley.options``), so FastAPI alone would describe nothing but the
path parameters. Here every operation gets its query parameters, its request body
(audio/video content types, the URL and text JSON), its success shape, the error
statuses it really answers with (``{"message": ...}``), and the bearer / ``x-api-key``
/ ``access_token`` security schemes. A route missing from ``ROUTES`` is an error at
start-up, so a new endpoint cannot go undocumented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, routing
from fastapi.routing import APIRoute

from parley.options.job import OPTION_SCHEMAS
from parley.options.limits import LIMITS

__all__ = ["ROUTES", "Operation", "build_openapi", "install_openapi", "operations"]

# -- shapes --------------------------------------------------------------------------

ERROR = {
    "type": "object",
    "required": ["message"],
    "properties": {"statusCode": {"type": "integer"}, "message": {"type": "string"}},
}
_ERROR_TEXT = {
    400: "Invalid input; the message names the field.",
    401: "Missing, invalid or expired token, or a wrong appId/appSecret.",
    404: "Unknown id (or another app's: the two are indistinguishable).",
    409: "A name that must be unique is taken, or the conversation is busy.",
    413: "The body is larger than the limit.",
    416: "The requested byte range is outside the file.",
    429: "Too many concurrent jobs or tracker writes, or too many failed token requests "
    "(then with Retry-After).",
    503: "The database is briefly unavailable (with Retry-After).",
    507: "The server has no storage space left; nothing was stored.",
}
_OBJECT: dict[str, Any] = {"type": "object"}
_LIST_OF_OBJECTS: dict[str, Any] = {"type": "array", "items": {"type": "object"}}
_SUBMITTED = {
    "type": "object",
    "required": ["conversationId", "jobId"],
    "properties": {"conversationId": {"type": "string"}, "jobId": {"type": "string"}},
}
_JOB = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string"},
        "status": {"type": "string", "enum": ["scheduled", "in_progress", "completed", "failed"]},
        "conversationId": {"type": "string"},
        "progress": {"type": "number"},
        "reason": {"type": "string"},
        "warnings": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Parley extension: what a completed job's user should know, such "
            "as speech that could not be transcribed.",
        },
    },
}
_TOKEN = {
    "type": "object",
    "required": ["accessToken", "expiresIn"],
    "properties": {"accessToken": {"type": "string"}, "expiresIn": {"type": "integer"}},
}
_MESSAGE = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}
_TRACKER = {
    "type": "object",
    "required": ["name", "vocabulary"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": {"type": "string"},
        "categories": {"type": "array", "items": {"type": "string"}},
        "languages": {"type": "array", "items": {"type": "string"}},
        "vocabulary": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "excludeVocabulary": {"type": "array", "items": {"type": "string"}},
    },
}
_DELIVERY = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "eventId": {"type": ["string", "null"]},
        "jobId": {"type": "string"},
        "conversationId": {"type": ["string", "null"]},
        "status": {"type": ["string", "null"]},
        "url": {"type": "string"},
        "state": {"type": "string", "enum": ["pending", "delivered", "failed"]},
        "attempts": {"type": "integer"},
        "lastError": {"type": ["string", "null"]},
        "nextAttemptAt": {"type": ["string", "null"]},
        "createdOn": {"type": "string"},
        "updatedOn": {"type": "string"},
    },
}
_TEXT_MESSAGE = {
    "type": "object",
    "required": ["payload"],
    "properties": {
        "payload": {
            "type": "object",
            "required": ["content"],
            "properties": {
                "content": {"type": "string", "minLength": 1, "maxLength": LIMITS["message_chars"]}
            },
        },
        "from": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": LIMITS["name"]},
                "userId": {"type": "string", "maxLength": LIMITS["name"]},
            },
        },
        "duration": {
            "type": "object",
            "properties": {
                "startTime": {"type": "string", "format": "date-time"},
                "endTime": {"type": "string", "format": "date-time"},
            },
        },
    },
}


def _options_body(required: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **OPTION_SCHEMAS},
    }


_BODIES: dict[str, dict[str, Any]] = {
    "audio": {
        t: {"schema": {"type": "string", "format": "binary"}}
        for t in ("audio/wav", "audio/mpeg", "audio/mp3", "audio/flac", "application/octet-stream")
    },
    "video": {
        t: {"schema": {"type": "string", "format": "binary"}}
        for t in ("video/mp4", "video/webm", "video/quicktime", "application/octet-stream")
    },
    "url": {
        "application/json": {
            "schema": _options_body({"url": {"type": "string", "format": "uri", "maxLength": 4096}})
        }
    },
    "text": {
        "application/json": {
            "schema": _options_body(
                {
                    "messages": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": LIMITS["messages"],
                        "items": _TEXT_MESSAGE,
                    }
                }
            )
        }
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def _option_query() -> list[dict[str, Any]]:
    """Every job option as a query parameter; arrays and objects as JSON text."""
    params = []
    for name, schema in OPTION_SCHEMAS.items():
        if schema.get("type") in ("array", "object"):
            params.append(_query(name, {"type": "string"}, "JSON text (or repeated keys)"))
        else:
            params.append(_query(name, schema))
    return params


_BOOL = {"type": "boolean"}
_LIST_QUERY = [
    _query("limit", {"type": "integer", "minimum": 0, "maximum": 65536}),
    _query("offset", {"type": "integer", "minimum": 0, "maximum": 2**31}),
    _query("order", {"type": "string", "enum": ["asc", "desc"]}),
    _query("sort", {"type": "string", "enum": ["conversation.startTime", "conversation.name"]}),
    _query("startTime", {"type": "string", "format": "date-time"}),
    _query("endTime", {"type": "string", "format": "date-time"}),
    _query(
        "filter",
        {"type": "string", "maxLength": LIMITS["filter_chars"]},
        "conversation.metadata.key==value, at most two joined by `and` or `;`",
    ),
]
_TRANSCRIPT_TYPES = ["text/markdown", "text/srt", "text/vtt"]


@dataclass(frozen=True)
class Route:
    """What one operation takes and answers, beyond its path parameters."""

    summary: str
    success: dict[str, Any] = field(default_factory=lambda: _OBJECT)
    status: int = 200
    query: tuple[dict[str, Any], ...] = ()
    body: dict[str, Any] | None = None
    body_required: bool = True
    errors: tuple[int, ...] = ()
    auth: bool = True


def _process(kind: str, append: bool, source: str) -> Route:
    what = {"file": f"{kind} file", "url": f"{kind} URL", "text": "text messages"}[source]
    body = _BODIES[kind if source == "file" else source]
    return Route(
        summary=("Append " if append else "Process ") + what,
        success=_SUBMITTED,
        status=201,
        query=tuple(_option_query()),
        body=body,
        errors=(400, 404, 413, 429) if append else (400, 413, 429),
    )


_C = "/v1/conversations/{conversation_id}"
_T = "/v1/manage/trackers/{tracker_id}"

#: (method, path) → what the operation takes and answers.
ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/oauth2/token:generate"): Route(
        "Generate an access token",
        success=_TOKEN,
        body=_json(
            {
                "type": "object",
                "required": ["appId", "appSecret"],
                "properties": {
                    "type": {"type": "string", "enum": ["application"]},
                    "appId": {"type": "string", "minLength": 1, "maxLength": 1024},
                    "appSecret": {"type": "string", "maxLength": 1024},
                },
            }
        ),
        errors=(400, 401, 413, 429),
        auth=False,
    ),
    ("GET", "/v1/job/{job_id}"): Route("Get a job's status", success=_JOB, errors=(404,)),
    # Parley extensions for the console and the Experience API (issue 9)
    ("GET", "/v1/jobs"): Route(
        "List recent jobs, newest first",
        query=(_query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),),
    ),
    ("GET", _C + "/media"): Route("List the stored media on one timeline", errors=(404,)),
    ("GET", _C + "/media/{job_id}"): Route(
        "Stored media of one job, with HTTP Range",
        success={"type": "string", "format": "binary"},
        errors=(404, 416),
    ),
    ("POST", _C + "/experiences"): Route(
        "Create a shareable page (Symbl's Experience API)",
        body=_json({"type": "object", "properties": {"name": {"type": "string"}}}),
        errors=(400, 404),
    ),
    ("GET", "/v1/conversations"): Route(
        "List conversations",
        success={"type": "object", "properties": {"conversations": _LIST_OF_OBJECTS}},
        query=tuple(_LIST_QUERY),
        errors=(400,),
    ),
    ("GET", _C): Route("Get a conversation", errors=(404,)),
    ("PUT", _C): Route(
        "Update a conversation's metadata",
        body=_json(
            {
                "type": "object",
                "required": ["metadata"],
                "properties": {
                    "metadata": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "string",
                            "maxLength": LIMITS["metadata_value"],
                        },
                    }
                },
            }
        ),
        errors=(400, 404, 413),
    ),
    ("DELETE", _C): Route("Delete a conversation", success=_MESSAGE, errors=(404,)),
    ("GET", f"{_C}/messages"): Route(
        "Get messages",
        query=(
            _query("verbose", _BOOL),
            _query("sentiment", _BOOL),
            _query("redact", _BOOL),
            _query("exclude", {"type": "string"}, "entity types not to redact, JSON or commas"),
        ),
        errors=(400, 404),
    ),
    ("GET", f"{_C}/members"): Route("Get members", errors=(404,)),
    ("PUT", f"{_C}/members/{{member_id}}"): Route(
        "Rename a member, or merge it into another by e-mail",
        success=_MESSAGE,
        body=_json(
            {
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string", "minLength": 1, "maxLength": LIMITS["name"]},
                    "email": {"type": "string", "maxLength": LIMITS["name"]},
                },
            }
        ),
        errors=(400, 404, 413),
    ),
    ("PUT", f"{_C}/speakers"): Route(
        "Attribute speakers from speaker events",
        success=_MESSAGE,
        body=_json(
            {
                "type": "object",
                "required": ["speakerEvents"],
                "properties": {"speakerEvents": _LIST_OF_OBJECTS},
            }
        ),
        errors=(400, 404, 413),
    ),
    ("GET", f"{_C}/questions"): Route("Get questions", errors=(404,)),
    ("GET", f"{_C}/action-items"): Route("Get action items", errors=(404,)),
    ("GET", f"{_C}/comprehensive/action-items"): Route(
        "Get action items (comprehensive shape)", errors=(404,)
    ),
    ("GET", f"{_C}/follow-ups"): Route("Get follow-ups", errors=(404,)),
    ("GET", f"{_C}/insights"): Route("Get all insights", errors=(404,)),
    ("GET", f"{_C}/intents"): Route("Get intents", errors=(404,)),
    ("POST", f"{_C}/refresh"): Route(
        "Recompute insights from the stored sentences (Parley extension)",
        body=_json({"type": "object", "properties": {}}),
        body_required=False,
        errors=(400, 404, 409, 413),
    ),
    ("GET", f"{_C}/topics"): Route(
        "Get topics",
        query=(_query("sentiment", _BOOL), _query("parentRefs", _BOOL), _query("refresh", _BOOL)),
        errors=(404,),
    ),
    ("GET", f"{_C}/entities"): Route("Get entities", errors=(404,)),
    ("GET", f"{_C}/trackers"): Route("Get detected trackers", _LIST_OF_OBJECTS, errors=(404,)),
    ("GET", f"{_C}/trackers-detected"): Route(
        "Get detected trackers", _LIST_OF_OBJECTS, errors=(404,)
    ),
    ("GET", f"{_C}/summary"): Route(
        "Get the summary", query=(_query("refresh", _BOOL),), errors=(404,)
    ),
    ("POST", f"{_C}/summary"): Route(
        "Get the summary", query=(_query("refresh", _BOOL),), errors=(404,)
    ),
    ("GET", f"{_C}/analytics"): Route("Get analytics", errors=(404,)),
    ("POST", f"{_C}/transcript"): Route(
        "Get a formatted transcript",
        body=_json(
            {
                "type": "object",
                "required": ["contentType"],
                "properties": {
                    "contentType": {"type": "string", "enum": _TRANSCRIPT_TYPES},
                    "createParagraphs": _BOOL,
                    "showSpeakerSeparation": _BOOL,
                    "phrases": {
                        "type": "object",
                        "properties": {
                            "highlightOnlyInsightKeyPhrases": _BOOL,
                            "highlightAllKeyPhrases": _BOOL,
                        },
                    },
                },
            }
        ),
        errors=(400, 404, 413),
    ),
    ("GET", f"{_C}/transcript"): Route(
        "Get a formatted transcript",
        query=(
            _query("contentType", {"type": "string", "enum": _TRANSCRIPT_TYPES}),
            _query("createParagraphs", _BOOL),
            _query("showSpeakerSeparation", _BOOL),
        ),
        errors=(400, 404),
    ),
    ("POST", "/v1/manage/tracker"): Route(
        "Create a tracker", body=_json(_TRACKER), errors=(400, 409, 413, 429)
    ),
    ("POST", "/v1/manage/trackers"): Route(
        "Create a tracker (object) or several (array)",
        body=_json({"oneOf": [_TRACKER, {"type": "array", "minItems": 1, "items": _TRACKER}]}),
        errors=(400, 409, 413, 429),
    ),
    ("POST", "/v1/manage/trackers/bulk"): Route(
        "Create several trackers",
        body=_json({"type": "array", "minItems": 1, "items": _TRACKER}),
        errors=(400, 409, 413, 429),
    ),
    ("GET", "/v1/manage/trackers"): Route(
        "List trackers", query=(_query("name", {"type": "string"}),)
    ),
    ("GET", "/v1/manage/tracker/{tracker_id}"): Route("Get a tracker", errors=(404,)),
    ("GET", _T): Route("Get a tracker", errors=(404,)),
    ("PUT", "/v1/manage/tracker/{tracker_id}"): Route(
        "Replace a tracker", body=_json(_TRACKER), errors=(400, 404, 409, 413, 429)
    ),
    ("PUT", _T): Route("Replace a tracker", body=_json(_TRACKER), errors=(400, 404, 409, 413, 429)),
    ("PATCH", _T): Route(
        "Change a tracker (JSON Patch operations)",
        body=_json(
            {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["op", "path"],
                    "properties": {
                        "op": {"type": "string", "enum": ["add", "replace", "remove"]},
                        "path": {"type": "string"},
                        "value": {},
                    },
                },
            }
        ),
        errors=(400, 404, 409, 413, 429),
    ),
    ("DELETE", "/v1/manage/tracker/{tracker_id}"): Route("Delete a tracker", errors=(404,)),
    ("DELETE", _T): Route("Delete a tracker", errors=(404,)),
    ("GET", "/v1/webhooks/deliveries"): Route(
        "List webhook deliveries of the app's jobs, newest first (Parley extension)",
        success={
            "type": "object",
            "properties": {"deliveries": {"type": "array", "items": _DELIVERY}},
        },
        query=(
            _query("limit", {"type": "integer", "minimum": 0, "maximum": 1000}),
            _query("offset", {"type": "integer", "minimum": 0}),
            _query("state", {"type": "string", "enum": ["pending", "delivered", "failed"]}),
            _query("jobId", {"type": "string", "maxLength": 64}),
        ),
        errors=(400,),
    ),
    ("GET", "/v1/webhooks/deliveries/{delivery_id}"): Route(
        "Get one webhook delivery with its last error",
        success={"type": "object", "properties": {"delivery": _DELIVERY}},
        errors=(404,),
    ),
    ("POST", "/v1/webhooks/deliveries/{delivery_id}/replay"): Route(
        "Send a delivery's event again (same webhook-id)",
        success={"type": "object", "properties": {"delivery": _DELIVERY}},
        status=202,
        errors=(404,),
    ),
}
for _kind in ("audio", "video"):
    ROUTES["POST", f"/v1/process/{_kind}"] = _process(_kind, False, "file")
    ROUTES["PUT", f"/v1/process/{_kind}/{{conversation_id}}"] = _process(_kind, True, "file")
    ROUTES["POST", f"/v1/process/{_kind}/url"] = _process(_kind, False, "url")
    ROUTES["PUT", f"/v1/process/{_kind}/url/{{conversation_id}}"] = _process(_kind, True, "url")
ROUTES["POST", "/v1/process/text"] = _process("text", False, "text")
ROUTES["PUT", "/v1/process/text/{conversation_id}"] = _process("text", True, "text")

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    "accessToken": {"type": "apiKey", "in": "query", "name": "access_token"},
}


@dataclass(frozen=True)
class Operation:
    """One method on one path of the app, as the router sees it."""

    method: str
    path: str
    path_params: tuple[str, ...]
    tags: tuple[str, ...]


def operations(app: FastAPI) -> list[Operation]:
    """Every documented operation of the app, from its route table (included routers too)."""
    found = []
    for context in routing.iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        path = str(context.path or "")
        params = tuple(re.findall(r"{(\w+)}", path))
        for method in sorted(context.methods or ()):
            found.append(Operation(method, path, params, tuple(context.tags or ())))
    return found


def _operation(op: Operation, spec: Route) -> dict[str, Any]:
    path_params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in op.path_params
    ]
    responses: dict[str, Any] = {
        str(spec.status): {"description": "Success", "content": _json(spec.success)}
    }
    errors = set(spec.errors) | ({401} if spec.auth else set()) | {400, 503}
    if op.method != "GET":
        errors.add(507)
    for status in sorted(errors):
        responses[str(status)] = {"description": _ERROR_TEXT[status], "content": _json(ERROR)}
    operation: dict[str, Any] = {
        "tags": list(op.tags) or ["default"],
        "summary": spec.summary,
        "operationId": op.method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", op.path).rstrip("_"),
        "parameters": path_params + list(spec.query),
        "responses": responses,
        "security": [{"bearer": []}, {"apiKey": []}, {"accessToken": []}] if spec.auth else [],
    }
    if spec.body is not None:
        operation["requestBody"] = {"required": spec.body_required, "content": spec.body}
    return operation


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The document for ``app``; ``KeyError`` naming a route that has no ``ROUTES`` entry."""
    paths: dict[str, dict[str, Any]] = {}
    for op in operations(app):
        spec = ROUTES.get((op.method, op.path))
        if spec is None:
            raise KeyError(f"{op.method} {op.path} is not described in parley.api.openapi")
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, spec)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": app.title,
            "version": app.version,
            "description": "Symbl.ai's REST API, self-hosted. Errors are "
            '`{"message": ...}` (429 for concurrency adds `statusCode`).',
        },
        "paths": paths,
        "components": {
            "securitySchemes": SECURITY_SCHEMES,
            "schemas": {"Error": ERROR},
        },
    }


def install_openapi(app: FastAPI) -> None:
    """Serve ``build_openapi`` at ``/openapi.json`` (and so on ``/docs``)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
