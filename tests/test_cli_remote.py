"""``parley submit | get | jobs`` against a running server, and their exit codes.

The exit codes are checked as a script sees them, from ``python -m parley`` processes; the
other tests run ``parley.cli.main`` in this process, with the same environment, which
spares a Python start per command (ten of them).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import APP_ID, APP_SECRET, Api
from tests.helpers import free_port

Run = Callable[..., subprocess.CompletedProcess[str]]


def _environment(server: str, **env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    return (
        clean
        | {
            "PARLEY_SERVER": server,
            "PARLEY_APP_ID": APP_ID,
            "PARLEY_APP_SECRET": APP_SECRET,
            "PARLEY_CONFIG": "/nonexistent",
        }
        | env
    )


@pytest.fixture()
def parley(api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """``parley ARGS`` against the test server, by ``main(argv)`` in this process."""
    from parley import cli

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        with monkeypatch.context() as m:
            environment = _environment(api.base_url)
            for key in [k for k in os.environ if k.startswith("PARLEY_")]:
                m.delenv(key)
            for key in [k for k in environment if k.startswith("PARLEY_")]:
                m.setenv(key, environment[key])
            # main() sets logging up for a process of its own: put this one's back after it
            names = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "celery")
            saved = [
                (lg, lg.handlers[:], lg.level, lg.propagate) for lg in map(logging.getLogger, names)
            ]
            try:
                code = cli.main(list(args))
            finally:
                for logger, handlers, level, propagate in saved:
                    logger.handlers[:], logger.propagate = handlers, propagate
                    logger.setLevel(level)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run


def _parley(api: Api, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _parley_at(api.base_url, *args, **env)


def _parley_at(server: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = _environment(server, **env)
    return subprocess.run(
        [sys.executable, "-m", "parley", *args],
        env=environment,
        text=True,
        capture_output=True,
        timeout=300,
    )


def test_submit_get_and_jobs(parley: Run, testdata: Path) -> None:
    # 5 s of speech: the 30 s pyannote sample cost the worker 6 s more for the same checks
    source = testdata / "stereo" / "faster_whisper_stereo" / "stereo_diarization.wav"
    done = parley(
        "submit",
        str(source),
        "--name",
        "CLI call",
        "--enableSpeakerDiarization",
        "true",
        "--diarizationSpeakerCount",
        "2",
    )
    assert done.returncode == 0, done.stderr
    ids = json.loads(done.stdout)
    assert "completed 100 %" in done.stderr  # progress lines when not on a terminal
    cid = ids["conversationId"]
    srt = parley("get", cid, "--format", "srt")
    assert srt.returncode == 0 and "-->" in srt.stdout and "Speaker" in srt.stdout
    vtt = parley("get", cid, "--format", "vtt")
    assert vtt.stdout.startswith("WEBVTT")
    everything = json.loads(parley("get", cid, "--format", "json").stdout)
    assert everything["conversation"]["name"] == "CLI call" and everything["messages"]
    listing = parley("jobs", "--json")
    assert listing.returncode == 0
    assert {"id": ids["jobId"], "status": "completed"}.items() <= next(
        j for j in json.loads(listing.stdout) if j["id"] == ids["jobId"]
    ).items()
    table = parley("jobs")
    assert ids["jobId"] in table.stdout and "completed" in table.stdout


@pytest.mark.parametrize(
    ("args", "env", "code", "said"),
    [
        (["get", "1234"], {}, 2, "could not be found"),
        (["submit", "/nonexistent.wav"], {}, 2, "no such file"),
        (["jobs"], {"PARLEY_APP_SECRET": "wrong"}, 3, "not authorised"),
        (["jobs"], {"PARLEY_APP_ID": "", "PARLEY_APP_SECRET": ""}, 3, "No credentials"),
        (["jobs", "--server", "http://127.0.0.1:{port}"], {}, 4, "Cannot reach"),
    ],
)
def test_exit_codes(api: Api, args: list[str], env: dict[str, str], code: int, said: str) -> None:
    args = [a.format(port=free_port()) for a in args]
    result = _parley(api, *args, **env)
    assert result.returncode == code, result.stderr
    assert said in result.stderr


def test_bad_options_and_files(parley: Run, tmp_path: Path, testdata: Path) -> None:
    source = testdata / "diarization" / "pyannote_sample" / "sample.wav"
    bad_option = parley("submit", str(source), "--diarizationSpeakerCount", "many")
    assert bad_option.returncode == 2 and "diarizationSpeakerCount" in bad_option.stderr
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"\x00" * 1000)
    refused = parley("submit", str(junk))
    assert refused.returncode == 2 and "decoded" in refused.stderr


def test_a_failed_job_exits_1_with_its_reason(parley: Run) -> None:
    """A recording the server cannot fetch: the job fails, and the CLI says why."""
    result = parley("submit", f"http://127.0.0.1:{free_port()}/call.wav", "--name", "gone")
    assert result.returncode == 1, result.stderr
    assert "failed:" in result.stderr
    jobs = json.loads(parley("jobs", "--json").stdout)
    failed = next(j for j in jobs if j["name"] == "gone")
    assert failed["status"] == "failed" and failed["reason"] in result.stderr
