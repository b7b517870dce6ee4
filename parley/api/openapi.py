"""The OpenAPI document: derived by FastAPI from the routes and their wire models.

Each route declares its answer (``response_model=`` a ``parley_client.wire`` model), its own
error statuses (``responses=errors(...)``) and, through ``doc(...)``, the request body
model and query parameters it reads itself (routes check those by hand: Symbl's options
come in many spellings, see ``parley.options``). What stays written here is short: the
security schemes, the error table (what each status means, and the statuses every
operation can answer), and the job options as query parameters and body properties,
from the options table's own schemas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, routing
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from parley.options.job import OPTION_SCHEMAS
from parley_client.wire import Error, TextJob, UrlJob

__all__ = [
    "Operation",
    "build_openapi",
    "doc",
    "errors",
    "install_openapi",
    "operation_id",
    "operations",
    "query",
]

_REF = "#/components/schemas/{model}"

#: What each error status means; every answer is ``{"message": ...}`` (``Error``).
ERROR_TEXT = {
    400: "Invalid input; the message names the field.",
    401: "Missing, invalid or expired token, or a wrong appId/appSecret.",
    403: "The shared page is read-only.",
    404: "Unknown id (or another app's: the two are indistinguishable).",
    409: "A name that must be unique is taken, or the conversation is busy.",
    413: "The body is larger than the limit.",
    416: "The requested byte range is outside the file.",
    429: "Too many concurrent jobs or tracker writes, or too many failed token requests "
    "(then with Retry-After).",
    501: "A Symbl endpoint Parley does not serve; the message says what to use instead.",
    503: "The database is briefly unavailable (with Retry-After).",
    507: "The server has no storage space left; nothing was stored.",
}
#: Statuses any operation can answer: a NUL in the path or query (400), the database
#: briefly away (503); any authenticated one 401, any write 507.
COMMON = (400, 503)

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    "accessToken": {"type": "apiKey", "in": "query", "name": "access_token"},
}
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}, {"accessToken": []}]
#: Operations anyone may call.
PUBLIC = {"/oauth2/token:generate", "/oauth2/token:refresh", "/oauth2/token:revoke"}

#: Request body models named by ``doc(body=...)``: their schemas join the components.
_BODY_MODELS: dict[str, type[BaseModel]] = {}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the error statuses it answers beyond the common ones."""
    return {s: {"model": Error, "description": ERROR_TEXT[s]} for s in statuses}


def query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """A query parameter a route reads itself."""
    param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def option_query() -> list[dict[str, Any]]:
    """Every job option as a query parameter; arrays and objects as JSON text."""
    params = []
    for name, schema in OPTION_SCHEMAS.items():
        if schema.get("type") in ("array", "object"):
            params.append(query(name, {"type": "string"}, "JSON text (or repeated keys)"))
        else:
            params.append(query(name, schema))
    return params


def media_body(kind: str) -> dict[str, Any]:
    """A raw media upload's request body (``kind`` audio or video)."""
    types = {
        "audio": ("audio/wav", "audio/mpeg", "audio/mp3", "audio/flac"),
        "video": ("video/mp4", "video/webm", "video/quicktime"),
    }[kind] + ("application/octet-stream",)
    return {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in types},
    }


def doc(
    *,
    body: type[BaseModel] | None = None,
    body_schema: dict[str, Any] | None = None,
    body_required: bool = True,
    media: str | None = None,
    params: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """``openapi_extra=`` for a route that reads its body or query itself: the body
    model (``body_schema`` wraps it, e.g. in an array), the raw media, the parameters."""
    extra: dict[str, Any] = {}
    if params:
        extra["parameters"] = list(params)
    if body is not None:
        _BODY_MODELS[body.__name__] = body
        schema = body_schema or {"$ref": _REF.format(model=body.__name__)}
        extra["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": schema}},
        }
    elif media is not None:
        extra["requestBody"] = media_body(media)
    return extra


def ref(model: type[BaseModel]) -> dict[str, Any]:
    """A reference to a body model's schema (for ``doc(body_schema=...)``)."""
    return {"$ref": _REF.format(model=model.__name__)}


def operation_id(route: APIRoute) -> str:
    """``get_v1_conversations_conversation_id_questions``: method and path."""
    method = sorted(route.methods or {"GET"})[0]
    return method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", route.path_format).rstrip("_")


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


def _body_schemas() -> dict[str, Any]:
    """The body models' schemas; the job bodies get the option table's properties."""
    _, top = models_json_schema(
        [(m, "validation") for m in _BODY_MODELS.values()], ref_template=_REF
    )
    schemas: dict[str, Any] = top.get("$defs", {})
    for model in (UrlJob, TextJob):
        if model.__name__ in schemas:
            schemas[model.__name__]["properties"] |= OPTION_SCHEMAS
    return schemas


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The document for ``app``: FastAPI's, from the routes and models, plus the table
    above (security, the common error statuses, the body models)."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version="3.1.0",
        description="Symbl.ai's REST API, self-hosted. Errors are "
        '`{"message": ...}` (429 for concurrency adds `statusCode`).',
        routes=app.routes,
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)  # the app answers 400, never 422
    schemas.pop("ValidationError", None)
    schemas |= _body_schemas()
    schemas["Error"] = Error.model_json_schema(ref_template=_REF)
    components["securitySchemes"] = SECURITY_SCHEMES
    error = {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            responses.pop("422", None)
            common = set(COMMON) | ({507} if method != "get" else set())
            if path not in PUBLIC:
                common.add(401)
            for status in sorted(common):
                responses.setdefault(
                    str(status), {"description": ERROR_TEXT[status], "content": error}
                )
            operation["responses"] = dict(sorted(responses.items()))
            operation["security"] = [] if path in PUBLIC else _SECURITY
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve ``build_openapi`` at ``/openapi.json`` (and so on ``/docs``)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
