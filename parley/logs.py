"""Logging: plain text or JSON lines, job ids on job lines, and no secrets anywhere.

``setup(format, level)`` installs one handler on the root logger, for Parley's
own loggers and for uvicorn's, Celery's and httpx's (which propagate to it).
Every line passes through ``redact`` first: access tokens, bearer tokens, and
the query strings of URLs (media URLs, webhook URLs, pre-signed URLs carry
their signatures there) never reach the output.

Job lines carry ``job_id``, ``conversation_id`` and ``app_id`` from context
variables set by ``job_context`` around a job's run.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "JsonFormatter",
    "RedactingFilter",
    "StderrHandler",
    "dict_config",
    "job_context",
    "redact",
    "setup",
]

_IDS = ("job_id", "conversation_id", "app_id")
_context: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"parley_{name}", default=None) for name in _IDS
}

_SECRET_PARAMS = (
    r"access_token|token|api[_-]?key|x-api-key|app_?secret|secret|password|signature|sig"
    r"|x-amz-[a-z-]+|x-goog-[a-z-]+|awsaccesskeyid|credential"
)
_PATTERNS = (
    # an absolute URL keeps scheme, host and path; its query string goes
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?#\"'<>]+)\?[^\s#\"'<>]*", re.I), r"\1?[redacted]"),
    # a secret in a relative path's query (uvicorn's access log) or a form body
    (re.compile(rf"(?<![a-z0-9_-])({_SECRET_PARAMS})=[^&\s\"'#]*", re.I), r"\1=[redacted]"),
    (re.compile(r"\b(bearer)\s+[a-z0-9._~+/=-]+", re.I), r"\1 [redacted]"),
    (re.compile(r"\beyJ[a-z0-9_-]{5,}\.[a-z0-9_-]+\.[a-z0-9_-]+", re.I), "[redacted-jwt]"),
)


def redact(text: str) -> str:
    """``text`` without tokens, secrets or URL query strings."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Formats the message once, redacted, so no handler sees the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log it as it came
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        for name in _IDS:
            value = _context[name].get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _IDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = " ".join(f"{n}={getattr(record, n)}" for n in _IDS if getattr(record, n, None))
        return f"{text} [{ids}]" if ids else text


@contextmanager
def job_context(**ids: str | None) -> Iterator[None]:
    """Tag every log line of this thread's block with the job's ids."""
    tokens = [(_context[name], _context[name].set(value)) for name, value in ids.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it was at setup, and to ``sys.stderr`` as it is now once
    that stream has been closed.

    ``ext://sys.stderr`` binds the stream once: set up while something had swapped
    ``sys.stderr`` (a test's capture, a CLI command run in-process), the handler kept
    writing to that object after its owner closed it, and every later line printed a
    "ValueError: I/O operation on closed file" traceback instead of itself. Following
    ``sys.stderr`` at every line instead loses a Celery worker's lines: Celery swaps
    ``sys.stderr`` for a proxy that logs what it is given, after logging is set up.
    """

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(sys.stderr)
        self.setLevel(level)

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self.stream, "closed", False):
            with self.lock or nullcontext():  # not setStream: it flushes the old one
                self.stream = sys.stderr
        super().emit(record)


def dict_config(format: str = "text", level: str | int = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the root handler; also handed to uvicorn, so
    its worker processes (``--workers``) log the same way."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if format == "json"
        else {"()": _TextFormatter, "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    quiet = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactingFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "()": StderrHandler,
                "filters": ["redact"],
                "formatter": "default",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            name: quiet for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery")
        },
    }


def setup(format: str = "text", level: str | int = "INFO") -> None:
    """Install the root handler; uvicorn's, Celery's and httpx's loggers propagate to it."""
    logging.config.dictConfig(dict_config(format, level))
