"""``parley submit | get | jobs`` against a running server, and their exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import APP_ID, APP_SECRET, Api
from tests.helpers import free_port


def _parley(api: Api, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _parley_at(api.base_url, *args, **env)


def _parley_at(server: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    environment = (
        clean
        | {
            "PARLEY_SERVER": server,
            "PARLEY_APP_ID": APP_ID,
            "PARLEY_APP_SECRET": APP_SECRET,
            "PARLEY_CONFIG": "/nonexistent",
        }
        | env
    )
    return subprocess.run(
        [sys.executable, "-m", "parley", *args],
        env=environment,
        text=True,
        capture_output=True,
        timeout=300,
    )


def test_submit_get_and_jobs(api: Api, testdata: Path) -> None:
    # 5 s of speech: the 30 s pyannote sample cost the worker 6 s more for the same checks
    source = testdata / "stereo" / "faster_whisper_stereo" / "stereo_diarization.wav"
    done = _parley(
        api,
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
    srt = _parley(api, "get", cid, "--format", "srt")
    assert srt.returncode == 0 and "-->" in srt.stdout and "Speaker" in srt.stdout
    vtt = _parley(api, "get", cid, "--format", "vtt")
    assert vtt.stdout.startswith("WEBVTT")
    everything = json.loads(_parley(api, "get", cid, "--format", "json").stdout)
    assert everything["conversation"]["name"] == "CLI call" and everything["messages"]
    listing = _parley(api, "jobs", "--json")
    assert listing.returncode == 0
    assert {"id": ids["jobId"], "status": "completed"}.items() <= next(
        j for j in json.loads(listing.stdout) if j["id"] == ids["jobId"]
    ).items()
    table = _parley(api, "jobs")
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


def test_bad_options_and_files(api: Api, tmp_path: Path, testdata: Path) -> None:
    source = testdata / "diarization" / "pyannote_sample" / "sample.wav"
    bad_option = _parley(api, "submit", str(source), "--diarizationSpeakerCount", "many")
    assert bad_option.returncode == 2 and "diarizationSpeakerCount" in bad_option.stderr
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"\x00" * 1000)
    refused = _parley(api, "submit", str(junk))
    assert refused.returncode == 2 and "decoded" in refused.stderr


def test_a_failed_job_exits_1_with_its_reason(api: Api) -> None:
    """A recording the server cannot fetch: the job fails, and the CLI says why."""
    result = _parley(api, "submit", f"http://127.0.0.1:{free_port()}/call.wav", "--name", "gone")
    assert result.returncode == 1, result.stderr
    assert "failed:" in result.stderr
    jobs = json.loads(_parley(api, "jobs", "--json").stdout)
    failed = next(j for j in jobs if j["name"] == "gone")
    assert failed["status"] == "failed" and failed["reason"] in result.stderr
