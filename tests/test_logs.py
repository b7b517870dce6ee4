"""Logs: JSON lines with job ids, and no secret in any line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from parley.logs import JsonFormatter, RedactingFilter, job_context, redact
from tests.conftest import APP_ID, APP_SECRET, wait_for_job
from tests.receiver import receiver
from tests.server import parley_serve


def test_redact_removes_tokens_signatures_and_url_queries() -> None:
    line = (
        "GET /v1/job/1?access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln&x=1 "
        "fetched https://b.s3.amazonaws.com/a.wav?X-Amz-Signature=deadbeef&X-Amz-Credential=AK "
        "Authorization: Bearer abc.def"
    )
    clean = redact(line)
    for secret in ("eyJhbGci", "deadbeef", "AK", "abc.def"):
        assert secret not in clean, (secret, clean)
    assert "/v1/job/1?access_token=[redacted]&x=1" in clean
    assert "https://b.s3.amazonaws.com/a.wav?[redacted]" in clean


def test_job_lines_carry_the_job_ids_as_json() -> None:
    record = logging.LogRecord("parley.jobs", logging.INFO, __file__, 1, "job %s at %s", None, None)
    record.args = ("j1", "https://x.example/a?sig=1")
    with job_context(job_id="j1", conversation_id="c1", app_id="a1"):
        assert RedactingFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "job j1 at https://x.example/a?[redacted]"
    assert (line["job_id"], line["conversation_id"], line["app_id"]) == ("j1", "c1", "a1")
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "plain", None, None)
    RedactingFilter().filter(outside)
    assert "job_id" not in json.loads(JsonFormatter().format(outside))


def test_a_server_logs_json_lines_without_secrets(tmp_path: Path) -> None:
    with (
        parley_serve(tmp_path, PARLEY_LOG_FORMAT="json", PARLEY_WEBHOOK_BACKOFF_SECONDS="0.1") as s,
        receiver() as hook,
    ):
        base, token, log = s.base, s.token, s.log
        hook_url = hook.url + "?sig=hook-secret-1"
        media = f"{base}/nothing.wav?X-Amz-Signature=media-secret-2"
        answer = httpx.post(
            f"{base}/v1/process/audio/url?access_token={token}",
            json={"url": media, "webhookUrl": hook_url},
        )
        assert answer.status_code == 201, answer.text
        job_id = answer.json()["jobId"]
        # the token in the query string, as the submission had it: its log lines are checked
        with httpx.Client(base_url=base, params={"access_token": token}, timeout=60) as client:
            wait_for_job(client, job_id, {}, timeout=120)
        hook.wait_for(3)
    text = log.read_text()
    # Python's multiprocessing resource tracker (its own process, no logging) may warn at exit
    raw = [line for line in text.splitlines() if line.strip()]
    tracker = [i for i, line in enumerate(raw) if "resource_tracker" in line]
    if tracker:
        raw = raw[: tracker[0]]
    lines = [json.loads(line) for line in raw]
    assert lines, "the server logged"
    for secret in (token, "hook-secret-1", "media-secret-2", APP_SECRET):
        assert secret not in text, secret
    assert any("access_token=[redacted]" in line["message"] for line in lines)
    job_lines = [
        line
        for line in lines
        if job_id in line["message"] and line["logger"].startswith("parley.jobs")
    ]
    assert job_lines and all(line.get("job_id") == job_id for line in job_lines), job_lines
    assert all(line.get("app_id") == APP_ID for line in job_lines)
    assert any("failed" in line["message"] for line in job_lines), "the 404 URL failed the job"


def test_logging_set_up_under_a_swapped_stderr_writes_to_the_current_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CLI command run in-process (tests do) set logging up while ``sys.stderr`` was a
    capture that was closed later: every later line printed "I/O operation on closed
    file" tracebacks. The handler writes to whatever ``sys.stderr`` is now."""
    import io
    import sys

    from parley import logs

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    swapped = io.StringIO()
    try:
        with monkeypatch.context() as m:
            m.setattr(sys, "stderr", swapped)
            logs.setup("text", "INFO")
        swapped.close()
        logging.getLogger("parley.test").warning("after the swap")
        err = capsys.readouterr().err
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    assert "after the swap" in err
    assert "Logging error" not in err and "closed file" not in err


def test_a_handler_whose_stream_was_closed_moves_to_the_current_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Rebinding must not flush the closed stream first (``setStream`` does): that raised
    "I/O operation on closed file" out of every log call, e.g. alembic's during a migrate."""
    import sys

    from parley.logs import StderrHandler

    swapped = (tmp_path / "captured").open("w")  # a closed file raises on flush, as pytest's does
    with monkeypatch.context() as m:
        m.setattr(sys, "stderr", swapped)
        handler = StderrHandler()
    swapped.close()
    handler.emit(logging.LogRecord("t", logging.INFO, __file__, 1, "moved on", None, None))
    assert "moved on" in capsys.readouterr().err
